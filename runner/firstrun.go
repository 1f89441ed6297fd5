package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"
)

// CompileMode is the first argument that puts the sandbox binary in
// compiler mode: it compiles one module's machine code into the cache and
// exits (CompileBehind). It is not a command users type.
const CompileMode = "__compile"

// HiddenMode runs the mode args select, if they select one of the
// sandbox binary's hidden modes (Mode, CompileMode), and returns its exit
// status; ok is false for any other command line.
func HiddenMode(args []string, stderr io.Writer) (status int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case Mode:
		return Main(args[1:], stderr), true
	case CompileMode:
		return compileMain(args[1:], stderr), true
	}
	return 0, false
}

// compileMain is compiler mode: args are the flags after CompileMode and
// the module's path.
func compileMain(args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet(CompileMode, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg LoadConfig
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "compilation cache directory")
	fs.StringVar(&cfg.ModulesDir, "modules-dir", "", "where the rewritten modules are kept")
	fs.Uint32Var(&cfg.MemoryLimitPages, "memory-pages", 0, "memory limit of the guest in 64 KiB pages")
	fs.IntVar(&cfg.CompileWorkers, "workers", runtime.GOMAXPROCS(0), "goroutines compiling functions")
	if err := fs.Parse(args); err != nil {
		return ExitFailed
	}
	if fs.NArg() != 1 || cfg.CacheDir == "" {
		fmt.Fprintln(stderr, "usage: "+CompileMode+" --cache-dir DIR [--modules-dir DIR] MODULE.wasm")
		return ExitFailed
	}
	cfg.Path = fs.Arg(0)
	cfg.Checked = true
	ctx := context.Background()
	p, err := Prepare(cfg)
	if err == nil {
		var m *Module
		if m, err = p.Load(ctx); err == nil && m.Path == p.Path {
			// The lean form for the runs to come, made here rather than
			// at the start of the next run (runner/lean.go); one it cannot
			// make is left to that run.
			LeanOf(ctx, p)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitFailed
	}
	return 0
}

// CompileBehind compiles the machine code of cfg's module (already
// loaded and checked once, to be run interpreted meanwhile) into
// cfg.CacheDir in a process of its own, exe in CompileMode, on
// cfg.CompileWorkers goroutines (the caller leaves a core to the run).
// compiled is closed when the machine code is in the cache, or when the
// compile failed or was killed from outside (so that nobody waits for
// it; runners then compile the module themselves). stop
// abandons a compile still under way (kills the process) and waits until
// it has ended: a run shorter than the compile leaves its module
// uncompiled, and the next Load with InterpretNew compiles it first.
//
// A process of its own rather than goroutines of the caller: it can be
// stopped at once whatever wazero is doing, and what the compile
// allocates (hundreds of MiB for a Go module) is given back to the OS
// when it exits.
func CompileBehind(exe string, cfg LoadConfig, log hclog.Logger, compiled chan<- struct{}) (stop func(), err error) {
	args := []string{CompileMode, "--cache-dir", cfg.CacheDir, "--modules-dir", cfg.ModulesDir,
		"--memory-pages", fmt.Sprint(cfg.MemoryLimitPages)}
	if cfg.CompileWorkers > 0 {
		args = append(args, "--workers", fmt.Sprint(cfg.CompileWorkers))
	}
	cmd := exec.Command(exe, append(args, cfg.Path)...)
	// Compiler mode prints nothing but an error that made it fail.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the background compile: %w", err)
	}
	done := make(chan struct{})
	var stopping atomic.Bool
	go func() {
		defer close(done)
		err := cmd.Wait()
		switch {
		case err == nil:
			log.Debug("module compiled; processes started from now on run its machine code", "took", cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			close(compiled)
		case stopping.Load():
			// Killed by stop: the run ended first.
		default:
			// Not a hang either: runners started from now on compile the
			// module themselves (slowly; and fail if it cannot be).
			log.Warn("compiling the module in the background failed", "error", err, "output", out.String())
			close(compiled)
		}
	}()
	return func() {
		stopping.Store(true)
		cmd.Process.Kill()
		<-done
	}, nil
}
