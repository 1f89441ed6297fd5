package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/build"
	"github.com/sandbox-dev/sandbox/internal/pump"
	"github.com/sandbox-dev/sandbox/runner"
)

// Exit statuses of the sandbox itself. Any other status of "sandbox run" is
// MainProcess's: its exit code, or 128+N when it was ended by signal N.
const (
	exitUsage    = 2   // bad command line
	exitCPU      = 118 // a process used more CPU time than allowed
	exitMemory   = 119 // a process needed more memory than allowed
	exitOutput   = 120 // the output limit was reached
	exitProcs    = 121 // the run started more processes than allowed
	exitIPC      = 122 // a limit of the shared objects was reached
	exitDeadlock = 123 // every process waited for ever on another
	exitClosed   = 141 // the caller closed stdout or stderr (128+SIGPIPE)
	exitTimeout  = 124 // the run's time limit (--timeout) was reached
	exitInternal = 125 // the sandbox failed
	exitInvalid  = 126 // the module cannot run: not wasm, malformed, missing imports, no _start
	exitNoModule = 127 // the module file is missing or unreadable
)

const rootUsage = `sandbox runs WebAssembly programs written against a multiprocessing-style
API. Every guest process is a separate OS process supervised by the host.

Usage:
  sandbox <command> [flags] [arguments]

Commands:
  run       run a module
  build     build a Go program to a module, the guest SDK provided
  grade     grade submissions against a spec
  version   print the version
  help      help on a command

Examples:
  sandbox run guests/hello_processes.wasm
  sandbox run --prefix guests/naming_processes.wasm
  sandbox help run
`

const runUsage = `Usage:
  sandbox run [flags] MODULE.wasm [-- guest args...]

Runs MODULE.wasm as MainProcess; every process it starts runs in a new OS
process. Guest output is passed through untouched; the sandbox's own log
goes to stderr (or --log-file) in hclog's format.

Examples:
  sandbox run guests/hello_processes.wasm
  sandbox run --prefix guests/hello_processes.wasm
  sandbox run prog.wasm -- --size 10 input
  sandbox run --log-level debug --log-json prog.wasm

Exit status:
  N        MainProcess exited with N (0 success, 1 uncaught panic or trap,
           2 a Go crash the SDK could not catch)
  128+N    MainProcess was ended by signal N (143: SIGTERM, 137: SIGKILL)
  2        usage error
  118      CPU limit of a process (--cpu-limit) or of the run
           (--run-cpu-limit) reached
  119      memory limit of a process (--memory, --process-memory) or of
           the run (--run-memory) reached
  120      output limit (--max-output, --max-process-output) reached
  121      process limit (--max-created) reached: a fork bomb
  122      IPC limit (--max-objects, --max-message, --max-ipc) reached
  123      deadlock: every process waited for another for ever; every
           process was killed, and the message says who waited on what
  124      the time limit (--timeout) was reached; every process was killed
  125      internal error of the sandbox
  126      the module cannot run (not WebAssembly, malformed, imports the
           sandbox does not provide, no _start)
  127      the module file does not exist or cannot be read
  130      interrupted (SIGINT, SIGTERM); every process was killed
  141      the reader of stdout or stderr went away; every process was
           killed

Flags:
`

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// doMain runs the CLI and returns the exit status. Nothing below it exits.
func doMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rootUsage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "build":
		return cmdBuild(args[1:], stdout, stderr)
	case build.ExecMode:
		// Hidden: the go command of a build, under its memory limit. Here
		// rather than in main, so that test binaries, which reach doMain
		// through testscript, have it too.
		return build.ExecMain(args[1:], stderr)
	case "grade":
		return cmdGrade(args[1:], stdout, stderr)
	case "version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		if len(args) > 1 {
			return doMain([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, rootUsage)
		return 0
	}
	fmt.Fprintf(stderr, "sandbox: unknown command %q\nRun 'sandbox help' for usage.\n", args[0])
	return exitUsage
}

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, "Usage:\n  sandbox version\n\nPrints the version of sandbox and of the parts it is built from.\n\nExamples:\n  sandbox version\n  sandbox --version\n")
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err, "version", stderr)
	}
	fmt.Fprintln(stdout, versionString())
	return 0
}

// parseFailed reports a flag error (or help) of command cmd.
func parseFailed(err error, cmd string, stderr io.Writer) int {
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "sandbox %s: %v\nRun 'sandbox help %s' for usage.\n", cmd, err, cmd)
	return exitUsage
}

func versionString() string {
	version, wazero := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && version == "(devel)" && len(s.Value) >= 12 {
				version = "(devel " + s.Value[:12] + ")"
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				wazero = d.Version
			}
		}
		return fmt.Sprintf("sandbox %s (wazero %s, %s)", version, wazero, bi.GoVersion)
	}
	return "sandbox " + version
}

// runFlags are the flags of "sandbox run".
type runFlags struct {
	prefix    bool
	cacheDir  string
	noCache   bool
	maxProcs  int
	memoryMiB uint32
	timeout   time.Duration
	created   int
	outputMiB int64
	procMiB   int64
	cpu       time.Duration
	procMem   int64
	runCPU    time.Duration
	runMemMiB int64
	objects   int
	msgMiB    int64
	direct    bool
	locks     bool
	queues    bool
	ipcMiB    int64
	result    string
	chaos     uint64
	reuse     bool
	interpret bool
	views     viewFlags
	log       logFlags
}

type logFlags struct {
	level string
	json  bool
	file  string
}

func (l *logFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "warn", "sandbox log level: trace, debug, info, warn, error, off")
	fs.BoolVar(&l.json, "log-json", false, "write the sandbox log as JSON lines")
	fs.StringVar(&l.file, "log-file", "", "write the sandbox log to this file instead of stderr")
}

// logger builds the root logger; the returned func closes a log file.
func (l *logFlags) logger(stderr io.Writer) (hclog.Logger, func(), error) {
	level := hclog.LevelFromString(l.level)
	if level == hclog.NoLevel {
		return nil, nil, &usageError{fmt.Sprintf("invalid --log-level %q (want trace, debug, info, warn, error or off)", l.level)}
	}
	out, closeFn := stderr, func() {}
	if l.file != "" {
		f, err := os.OpenFile(l.file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open log file: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "sandbox",
		Level:      level,
		Output:     out,
		JSONFormat: l.json,
		Color:      hclog.ColorOff,
	}), closeFn, nil
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	// Help asked for goes to stdout; errors are reported by parseFailed.
	fs.SetOutput(stdout)
	fs.SortFlags = false
	fs.BoolVar(&f.prefix, "prefix", false, "label every output line with [process-name pid]")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "compilation cache directory (default: the user cache dir)")
	fs.BoolVar(&f.noCache, "no-cache", false, "use no persistent compilation cache (a private one lives for this run only)")
	fs.IntVar(&f.maxProcs, "max-procs", host.DefaultMaxProcs, "most guest processes alive at once")
	fs.Uint32Var(&f.memoryMiB, "memory", 512, "memory limit of each guest process in MiB")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "wall-clock limit of the whole run, e.g. 30s (0: none)")
	fs.DurationVar(&f.cpu, "cpu-limit", time.Minute, "CPU time each process may use, e.g. 10s (0: no limit)")
	fs.Int64Var(&f.procMem, "process-memory", 0, "memory each process's runner may use in MiB, all told (0: 4 x --memory + 256)")
	fs.DurationVar(&f.runCPU, "run-cpu-limit", 2*time.Minute, "CPU time all processes may use together (0: no limit)")
	fs.Int64Var(&f.runMemMiB, "run-memory", 4096, "memory in MiB all processes alive at once may use together, their runners' resident memory of their own (0: no limit)")
	fs.IntVar(&f.created, "max-created", 1000, "most process starts the run may ask for in all, refused ones included (0: no limit)")
	fs.Int64Var(&f.outputMiB, "max-output", 64, "most MiB all processes may print together (0: no limit)")
	fs.Int64Var(&f.procMiB, "max-process-output", 16, "most MiB one process may print (0: no limit)")
	fs.IntVar(&f.objects, "max-objects", 10000, "most objects (processes, pipes, queues, locks, ...) the run may create (0: no limit)")
	fs.Int64Var(&f.msgMiB, "max-message", 16, "most MiB of one message or value (0: no limit)")
	fs.Int64Var(&f.ipcMiB, "max-ipc", 256, "most MiB the shared objects may hold together (0: no limit)")
	fs.StringVar(&f.result, "result", "", "write how the run ended, as JSON, to this file")
	fs.BoolVar(&f.direct, "direct-pipes", true, "let the processes send and receive a Pipe's messages themselves, on a pair of sockets, not through the host (false: the host carries every message)")
	fs.BoolVar(&f.locks, "direct-locks", true, "let the processes acquire and release Locks, RLocks and Semaphores themselves, on memory shared with the host, not through the host (false: the host serves every acquire)")
	fs.BoolVar(&f.queues, "direct-queues", true, "let the processes put and get a Queue's messages themselves, on a socket, not through the host (false: the host carries every message)")
	fs.BoolVar(&f.reuse, "reuse-runners", true, "let a runner whose process ended serve a later process of the run, with a fresh instance (false: a new runner for every process)")
	fs.BoolVar(&f.interpret, "interpret-new", true, "run a module whose machine code is not in the cache in wazero's interpreter while it compiles, so that it starts at once (false: compile first; the guest then never runs slower)")
	fs.Uint64Var(&f.chaos, "chaos", 0, "race hunting: delay IPC calls at random, from this seed (0: off; a failing seed replays the same delays)")
	f.views.register(fs)
	f.log.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stdout, runUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err, "run", stderr)
	}
	pos := fs.Args()
	before := len(pos)
	if d := fs.ArgsLenAtDash(); d >= 0 {
		before = d
	}
	switch {
	case before == 0:
		fmt.Fprintln(stderr, "sandbox run: missing MODULE.wasm\nRun 'sandbox help run' for usage.")
		return exitUsage
	case before > 1:
		fmt.Fprintf(stderr, "sandbox run: unexpected argument %q: put guest arguments after --\n", pos[1])
		return exitUsage
	case f.maxProcs < 1:
		fmt.Fprintln(stderr, "sandbox run: --max-procs must be at least 1")
		return exitUsage
	case f.memoryMiB < 1 || f.memoryMiB > 4096:
		fmt.Fprintln(stderr, "sandbox run: --memory must be between 1 and 4096 MiB")
		return exitUsage
	case f.timeout < 0:
		fmt.Fprintln(stderr, "sandbox run: --timeout must not be negative")
		return exitUsage
	case f.views.maxEvents < 0:
		fmt.Fprintln(stderr, "sandbox run: --max-events must not be negative")
		return exitUsage
	case f.created < 0 || f.outputMiB < 0 || f.procMiB < 0 || f.objects < 0 || f.msgMiB < 0 || f.ipcMiB < 0 || f.cpu < 0 || f.procMem < 0:
		fmt.Fprintln(stderr, "sandbox run: the --max-… limits must not be negative")
		return exitUsage
	}
	// The sandbox's own messages and log go through a pump, so that a
	// stalled reader of stderr cannot hold the sandbox up; at the end
	// they get DrainTimeout to be written.
	errOut := pump.New(stderr, nil)
	defer func() { errOut.Drain(time.After(host.DrainTimeout)) }()
	stderr = errOut
	// A reader of stdout or stderr that goes away must not kill the
	// sandbox by SIGPIPE: the write fails with EPIPE instead, and the run
	// ends with status 141 and a message.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)

	log, closeLog, err := f.log.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox run: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitInternal
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	f.views.makeLog()
	out := run(ctx, log, f, pos[0], pos[before:], stdout, stderr)
	if out.err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", out.err)
	}
	if out.res != nil {
		if err := f.views.write(); err != nil {
			fmt.Fprintf(stderr, "sandbox: writing %v\n", err)
		}
	}
	if f.result != "" {
		if err := writeResult(f.result, f, out); err != nil {
			fmt.Fprintf(stderr, "sandbox: writing --result: %v\n", err)
		}
	}
	return out.status
}

// interpretMinMiB is the least --process-memory under which a first run
// is interpreted: an interpreted runner holds about 200 MiB more while it
// loads a Go guest of 4 MB (its compile, the interpreter's code), and
// one under 160 MiB could not load it where a compiled one could.
const interpretMinMiB = 512

// notStarted is the exit status and error of a run that ended before any
// process ran: 130 when ctx was cancelled (a signal stops a compile or a
// check too: not the module's fault), else loadStatus.
func notStarted(ctx context.Context, err error, module string) (int, *host.Result, error) {
	if ctx.Err() != nil {
		return 130, nil, errors.New("interrupted before any process ran")
	}
	return loadStatus(err, module)
}

// loadStatus is the exit status and error of a run whose module did not
// load (module as the user named it).
func loadStatus(err error, module string) (int, *host.Result, error) {
	var me *runner.ModuleError
	switch {
	case errors.As(err, &me):
		me.Path = module
		return exitInvalid, nil, me
	case errors.Is(err, runner.ErrUnreadable):
		if errors.Is(err, fs.ErrNotExist) {
			return exitNoModule, nil, fmt.Errorf("%s: no such file", module)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return exitNoModule, nil, fmt.Errorf("%s: cannot read: %w", module, pe.Err)
		}
		return exitNoModule, nil, err
	}
	return exitInternal, nil, err
}

// compileBehind checks a prepared module and, when its first run is
// interpreted, then compiles its machine code in the background
// (runner.CompileBehind), closing compiled when that is in the cache.
type compileBehind struct {
	exe      string
	load     runner.LoadConfig
	log      hclog.Logger
	compiled chan struct{} // nil: not interpreted

	mu     sync.Mutex
	cancel func() // stops the background compile; nil: none
}

// check compiles and checks prep's module, then starts the background
// compile if there is to be one, and returns the path runners are to
// load. started says runners may be loading prep.Path already: then the
// original loading where the rewrite did not is an error.
func (c *compileBehind) check(ctx context.Context, prep *runner.Prepared, started bool) (string, error) {
	mod, err := prep.Load(ctx)
	if err != nil {
		return "", err
	}
	mod.Close(ctx)
	if started && mod.Path != prep.Path {
		return "", fmt.Errorf("the module rewritten to load faster (%s) does not load, the original does (a fault of the sandbox's rewrite); the rewrite was replaced by the original: run it again", prep.Path)
	}
	if c.compiled == nil {
		return mod.Path, nil
	}
	behind := c.load
	behind.CompileWorkers = max(1, runtime.GOMAXPROCS(0)-1) // a core for the run
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return mod.Path, nil // stopped already
	}
	stop, err := runner.CompileBehind(c.exe, behind, c.log, c.compiled)
	if err != nil {
		// Nobody is to wait for it: runners compile it themselves.
		c.log.Warn("the module's machine code cannot be compiled in the background", "error", err)
		close(c.compiled)
		return mod.Path, nil
	}
	c.cancel = stop
	return mod.Path, nil
}

// stop abandons the background compile if it is still under way; a
// check that ends later starts none.
func (c *compileBehind) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	c.cancel = func() {}
}

// run checks and compiles the module, then runs it.
func run(ctx context.Context, log hclog.Logger, f runFlags, module string, guestArgs []string, stdout, stderr io.Writer) outcome {
	code, res, err := start(ctx, log, f, module, guestArgs, stdout, stderr)
	if res == nil {
		v := host.VerdictInternal
		switch code {
		case exitInvalid, exitNoModule:
			v = "invalid_module"
		case exitUsage:
			v = "usage_error"
		case 130:
			v = host.VerdictInterrupted
		}
		return outcome{status: code, verdict: v, explanation: fmt.Sprint(err), err: err}
	}
	return outcome{status: code, verdict: res.Verdict, explanation: res.Explanation, res: res, err: err}
}

// start checks and compiles the module, then runs it. res is nil when
// the run could not start.
func start(ctx context.Context, log hclog.Logger, f runFlags, module string, guestArgs []string, stdout, stderr io.Writer) (int, *host.Result, error) {
	abs, err := filepath.Abs(module)
	if err != nil {
		return exitInternal, nil, err
	}
	cacheDir := f.cacheDir
	if cacheDir != "" && !f.noCache {
		if info, err := os.Stat(cacheDir); err == nil && !info.IsDir() {
			return exitUsage, nil, fmt.Errorf("--cache-dir %s is not a directory", cacheDir)
		}
	}
	if f.noCache || cacheDir == "" {
		base, err := os.UserCacheDir()
		if f.noCache || err != nil {
			tmp, err := os.MkdirTemp("", "sandbox-cache-")
			if err != nil {
				return exitInternal, nil, fmt.Errorf("create cache dir: %w", err)
			}
			defer os.RemoveAll(tmp)
			cacheDir = tmp
		} else {
			cacheDir = filepath.Join(base, "sandbox", "compiled")
		}
	}
	pages := f.memoryMiB * 16 // 64 KiB pages

	// Compile once here, so that every runner finds the module in the
	// cache instead of compiling it again; and refuse a bad module with a
	// clear message before any guest runs. A module never loaded before
	// (with --interpret-new) is checked by compiling it for the
	// interpreter, a tenth of the work, and runs so while its machine
	// code compiles in the background. When the runners need not wait
	// for this compile (they interpret, or find the machine code in the
	// cache), it runs while MainProcess's runner starts (host.Config.Checked);
	// a module an earlier run checked with these settings is not checked
	// again (runner.Prepared.CheckedBefore).
	load := runner.LoadConfig{Path: abs, CacheDir: cacheDir, MemoryLimitPages: pages, Logger: log,
		ModulesDir: runner.ModulesDir(cacheDir), CompileWorkers: runtime.GOMAXPROCS(0),
		InterpretNew: f.interpret && f.processMemory() >= interpretMinMiB}
	prep, err := runner.Prepare(load)
	if err != nil {
		return loadStatus(err, module)
	}
	exe, err := os.Executable()
	if err != nil {
		return exitInternal, nil, fmt.Errorf("find own executable: %w", err)
	}
	var compiled chan struct{}
	if prep.Interpret {
		compiled = make(chan struct{})
	}
	var checked chan error
	behind := &compileBehind{exe: exe, load: load, log: log, compiled: compiled}
	defer behind.stop()
	path := prep.Path
	if prep.CheckedBefore {
		// Checked by an earlier run, with the same memory limit, wazero
		// and host functions: the runners load it from the cache at once
		// (and the first spare starts alongside MainProcess's runner).
		log.Debug("module checked by an earlier run; not checked again", "module", module)
	} else if prep.Interpret || prep.Cached {
		checked = make(chan error, 1)
		go func() {
			_, err := behind.check(ctx, prep, true)
			checked <- err
		}()
	} else if path, err = behind.check(ctx, prep, false); err != nil {
		return notStarted(ctx, err, module)
	}
	// The runners load the module's lean form when there is one (the
	// machine code from the cache, the function bodies not validated
	// again in every runner: runner/lean.go), made once per module and
	// cache: by the background compile of a new module, or now, when a
	// run finds the machine code in the cache. Not by a run that has just
	// compiled it first: a module run once (a submission graded once)
	// would pay for it and gain little.
	var lean *runner.Lean
	if prep.Cached { // (not interpreted; path is still prep.Path)
		if lean, err = runner.LeanOf(ctx, prep); err != nil {
			log.Debug("no lean module; the runners load the module itself", "error", err)
		}
	}
	// The runners run the runner binary beside this one, when it is of
	// this very build (it starts sooner); else this binary.
	runnerCmd, why := runner.Command(exe)
	if why != nil {
		log.Warn("the runners run the sandbox binary", "reason", why)
	}
	log.Debug("runner program", "path", runnerCmd[0], "args", strings.Join(runnerCmd[1:], " "))
	sup, err := host.New(host.Config{
		Module:          path, // the rewrite that loads faster, if there is one
		Args:            append([]string{filepath.Base(module)}, guestArgs...),
		Runner:          runnerCmd,
		FirstRunnerArgs: []string{"--share-code=false"},
		RunnerArgs: append([]string{"--cache-dir", cacheDir, "--log-level", strings.ToLower(f.log.level), "--memory-pages", fmt.Sprint(pages),
			"--memory-limit-mib", fmt.Sprint(f.processMemory())}, lean.Args()...),
		Stdout:   stdout,
		Stderr:   stderr,
		Prefix:   f.prefix,
		MaxProcs: f.maxProcs,
		Logger:   log,

		TimeLimit:        f.timeout,
		CPULimit:         f.cpu,
		RunCPULimit:      f.runCPU,
		RunMemory:        f.runMemMiB << 20,
		MaxCreated:       f.created,
		MaxOutput:        f.outputMiB << 20,
		MaxProcessOutput: f.procMiB << 20,
		MaxObjects:       f.objects,
		MaxMessage:       f.msgMiB << 20,
		MaxIPCBytes:      f.ipcMiB << 20,
		Events:           f.views.log,
		Chaos:            f.chaos,
		ReuseRunners:     f.reuse,
		DirectPipes:      f.direct,
		DirectLocks:      f.locks,
		DirectQueues:     f.queues,
		Compiled:         compiled, // nil: in the cache already
		Checked:          checked,  // nil: checked already
	})
	if err != nil {
		return exitInternal, nil, err
	}
	res, err := sup.Run(ctx)
	if err != nil && res.Verdict == "" {
		// The run did not start: interrupted, the module failed its
		// check, or MainProcess's runner could not start.
		return notStarted(ctx, err, module)
	}
	if res.OutputDropped > 0 {
		fmt.Fprintf(stderr, "sandbox: %d bytes of output were not written: stdout or stderr did not take them\n", res.OutputDropped)
	}
	switch res.Verdict {
	case host.VerdictTimeLimit:
		return exitTimeout, &res, errors.New(res.Explanation + stuckText(res))
	case host.VerdictInterrupted:
		return 130, &res, errors.New("interrupted; every process was killed" + stuckText(res))
	case host.VerdictDeadlock:
		return exitDeadlock, &res, err
	case host.VerdictOutputClosed:
		return exitClosed, &res, errors.New(res.Explanation)
	case host.VerdictOutputLimit:
		return exitOutput, &res, errors.New(res.Explanation + stuckText(res))
	case host.VerdictProcessLimit:
		return exitProcs, &res, errors.New(res.Explanation)
	case host.VerdictIPCLimit:
		return exitIPC, &res, errors.New(res.Explanation)
	case host.VerdictCPULimit:
		return exitCPU, &res, errors.New(res.Explanation)
	case host.VerdictMemoryLimit:
		return exitMemory, &res, errors.New(res.Explanation)
	case host.VerdictInternal:
		return exitInternal, &res, err
	}
	return statusOf(res.ExitCode), &res, nil
}

// processMemory is the memory limit of one runner in MiB: what its
// linear memory may take and the runner's own (measured when linear
// memory was in the Go heap: about 3.6 x its linear memory + 110 MiB at
// most; in its own mapping now, a guest reached 384 MiB under 512: the
// default keeps the larger margin; see runner/confine_linux.go).
func (f runFlags) processMemory() int64 {
	if f.procMem > 0 {
		return f.procMem
	}
	return 4*int64(f.memoryMiB) + 256
}

// outcome is how "sandbox run" ended.
type outcome struct {
	status      int
	verdict     host.Verdict
	explanation string
	res         *host.Result // nil when the run could not start
	err         error        // printed as "sandbox: …"
}

// stuckText tells which processes were deadlocked among themselves when a
// run was ended from outside, if any were.
func stuckText(res host.Result) string {
	if len(res.StuckLines) == 0 {
		return ""
	}
	return "\nthese processes were deadlocked among themselves:\n  " + strings.Join(res.StuckLines, "\n  ")
}

// statusOf maps MainProcess's exit code to the status of "sandbox run".
func statusOf(code int) int {
	if code < 0 {
		return 128 + -code
	}
	return code & 0xff
}
