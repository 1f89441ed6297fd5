package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"
)

// Mode is the first argument that puts the sandbox binary in runner mode.
// It is not a command users type.
const Mode = "__runner"

// ControlFD is the file descriptor of the control socket in a runner.
const ControlFD = 3

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
	)
	fs.StringVar(&cfg.Path, "module", "", "module to run")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "compilation cache directory")
	fs.StringVar(&level, "log-level", "warn", "log level")
	fs.IntVar(&hostPID, "host-pid", 0, "pid of the host; the runner exits if its parent is another process")
	fs.Uint32Var(&memPages, "memory-pages", 0, "memory limit of the guest in 64 KiB pages")
	if err := fs.Parse(args); err != nil {
		return ExitFailed
	}
	cfg.MemoryLimitPages = memPages
	cfg.Checked = true // by the host, before it started any runner
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
	// Non-blocking, so that reads park in Go's network poller instead of
	// holding an OS thread.
	syscall.SetNonblock(ControlFD, true)
	control := os.NewFile(ControlFD, "control")
	if control == nil {
		fmt.Fprintln(stderr, "runner: no control socket on fd 3")
		return ExitFailed
	}
	return Run(context.Background(), Config{
		Load: cfg, Control: control, Logger: log,
		HostGone: func() { os.Exit(ExitHostGone) },
	})
}
