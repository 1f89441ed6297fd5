package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"
)

// Mode is the first argument that puts the sandbox binary in runner mode.
// It is not a command users type.
const Mode = "__runner"

// ControlFD is the file descriptor of the control socket in a runner.
const ControlFD = 3

// gcPercent is a compiled runner's GOGC unless the user sets one. A
// runner's live heap is small (about 1 MiB after its load) and each guest
// process's instance allocates about as much again, so at Go's default
// of 100 it collected every few processes: 6% of a reused runner's CPU in
// a loop of spawns. At 400 (during a lean load, which never compiles, and
// once the module is loaded: Config.GCPercent): spawn+join 1.76 -> 1.70
// ms, spawn to the child's first instruction 2.40 -> 2.28 (medians of 21,
// interleaved), and the memory of 10 children alive the same (12.8 MiB
// each). Not while a runner may compile the module for itself (hundreds
// of MiB allocated), and not for an interpreting runner, whose live heap
// is the interpreter's code (about 90 MiB for a Go guest): at 400 it
// could grow by 360 MiB more before a collection, past a small
// --process-memory.
const gcPercent = 400

// Main is the entry point of runner mode: args are the arguments after
// Mode. Standard error carries the runner's own log as hclog JSON lines.
func Main(args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet(Mode, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      LoadConfig
		level    string
		hostPID  int
		memPages uint32
		conf     confineConfig
	)
	fs.StringVar(&cfg.Path, "module", "", "module to run")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "compilation cache directory")
	fs.BoolVar(&cfg.Interpret, "interpret", false, "run the module in wazero's interpreter (the host still compiles its machine code)")
	var stamp string
	fs.StringVar(&stamp, "stamp", "", "the host's build stamp: a runner of another exits at once (Command)")
	fs.MarkHidden("stamp")
	fs.StringVar(&level, "log-level", "warn", "log level")
	fs.IntVar(&hostPID, "host-pid", 0, "pid of the host; the runner exits if its parent is another process")
	fs.Uint32Var(&memPages, "memory-pages", 0, "memory limit of the guest in 64 KiB pages")
	fs.Uint64Var(&conf.CPUSeconds, "cpu-limit", 0, "CPU time limit of the runner in seconds: SIGXCPU at the limit, SIGKILL a second later (0: none)")
	fs.Uint64Var(&conf.CPULifetime, "cpu-lifetime", 0, "hard CPU time limit of a runner that may serve several processes, in seconds; the host moves the soft limit before each (0: --cpu-limit + 1)")
	fs.Uint64Var(&conf.MemoryMiB, "memory-limit-mib", 0, "limit of the runner's data segment (RLIMIT_DATA) in MiB: linear memory, Go heap and wazero together (0: none)")
	fs.BoolVar(&conf.Confine, "confine", true, "no_new_privs, seccomp filter and Landlock (false: off, for diagnosis)")
	fs.BoolVar(&conf.Landlock, "landlock", true, "Landlock, when confined (false: off, to measure or diagnose)")
	fs.MarkHidden("landlock")
	fs.StringVar(&cfg.Lean.Path, "lean", "", "the module's lean form: its machine code from the cache, its bodies not validated again (lean.go)")
	fs.StringVar(&cfg.Lean.ID, "lean-id", "", "the --lean module's ID in wazero (hex SHA-256)")
	fs.StringVar(&cfg.Lean.Code, "lean-code", "", "the module's machine code: its file in the cache's modules folder (CRC-32 and size)")
	fs.StringVar(&cfg.Lean.Full, "lean-full", "", "the module's own cache entry")
	fs.StringVar(&cfg.Lean.Verified, "lean-verified", "", "the version of the code file the host found to hold the entry's code: not summed again")
	for _, f := range []string{"lean", "lean-id", "lean-code", "lean-full", "lean-verified"} {
		fs.MarkHidden(f)
	}
	fs.BoolVar(&cfg.ShareCode, "share-code", true, "map the module's machine code from a file every runner of it shares (false: a copy of its own, to measure or diagnose)")
	fs.MarkHidden("share-code")
	if err := fs.Parse(args); err != nil {
		return ExitFailed
	}
	if fs.Changed("stamp") && stamp != Stamp {
		fmt.Fprintf(stderr, "runner: built of source %q, not the host's %q: the runner binary was replaced\n", Stamp, stamp)
		return ExitFailed
	}
	cfg.MemoryLimitPages = memPages
	cfg.Checked = true // by the host (before the runner gets a process)
	cfg.Shared = true  // with the other runners of the run
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "runner",
		Level:      hclog.LevelFromString(level),
		Output:     stderr,
		JSONFormat: true,
	})
	cfg.Logger = log
	// The parent-death signal is set by the host when it starts us; if the
	// host died before that took effect, our parent is already someone else.
	if hostPID != 0 && os.Getppid() != hostPID {
		log.Error("host is gone before the runner started", "host_pid", hostPID)
		return ExitHostGone
	}
	// Limits and confinement come before anything reads the module. Once
	// confined, the runner cannot ask for its working directory (getcwd):
	// paths are made absolute first.
	for _, p := range []*string{&cfg.Path, &cfg.CacheDir, &cfg.Lean.Path, &cfg.Lean.Full} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	conf.Module, conf.CacheDir = cfg.Path, cfg.CacheDir
	// The control socket is set up before the filter, which does not let
	// a confined runner change a socket's options.
	control := openControl()
	if control == nil {
		fmt.Fprintln(stderr, "runner: no control socket on fd 3")
		return ExitFailed
	}
	if cfg.ShareCode {
		KeepSelfMaps() // read while loading, after confinement
	}
	lockdown, err := confine(conf, log)
	if err != nil {
		log.Error("cannot confine the runner", "error", err)
		return ExitFailed
	}
	ctl := &confinedControl{ReadWriteCloser: control, lockdown: lockdown}
	gc := 0
	if _, ok := os.LookupEnv("GOGC"); !ok { // (an interpreting runner ignores it: Run)
		gc = gcPercent
	}
	code := Run(context.Background(), Config{
		Load: cfg, Control: ctl, Logger: log, GCPercent: gc,
		HostGone: func() { os.Exit(ExitHostGone) },
		Failed:   func() { os.Exit(ExitFailed) },
	})
	if ctl.failed() != nil {
		return ExitFailed
	}
	return code
}
