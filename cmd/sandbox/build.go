package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sandbox-dev/sandbox/internal/build"
)

const buildUsage = `Usage:
  sandbox build [flags] DIR

Builds the Go program in DIR (package main, with or without a go.mod) to a
WebAssembly module for "sandbox run". The build is offline: the guest SDK
(github.com/sandbox-dev/sandbox/guests/mp) comes with the sandbox, and a
module the program needs that is not in the standard library is an error.
DIR is copied first (regular files only; symbolic links are not followed;
16 MiB at most); nothing is written into it. The Go toolchain (go in PATH)
runs under a time limit and a memory limit.

Examples:
  sandbox build ./prog
  sandbox build -o prog.wasm ./prog && sandbox run prog.wasm
  sandbox build --timeout 30s --memory 1024 submissions/alice

Exit status:
  0      built
  1      the program does not build: the compiler's message is on stderr;
         or the build reached --timeout or --memory, or DIR is too large
  2      usage error; DIR, or the directory of --output, is missing
  125    internal error of the sandbox, e.g. no Go toolchain
  130    interrupted (SIGINT, SIGTERM)

Flags:
`

// buildFlags are the flags of "sandbox build".
type buildFlags struct {
	out       string
	timeout   time.Duration
	memoryMiB int64
}

func cmdBuild(args []string, stdout, stderr io.Writer) int {
	var f buildFlags
	fs := pflag.NewFlagSet("build", pflag.ContinueOnError)
	// Help asked for goes to stdout; errors are reported by parseFailed.
	fs.SetOutput(stdout)
	fs.SortFlags = false
	fs.StringVarP(&f.out, "output", "o", "", "the module to write (default: DIR's name + .wasm, in the current directory)")
	fs.DurationVar(&f.timeout, "timeout", build.DefaultTimeout, "wall-clock limit of the build, e.g. 30s")
	fs.Int64Var(&f.memoryMiB, "memory", build.DefaultMemoryMiB, "memory limit in MiB of the go command and of each compile and link it starts (their data segment)")
	fs.Usage = func() {
		fmt.Fprint(stdout, buildUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err, "build", stderr)
	}
	switch {
	case fs.NArg() == 0:
		fmt.Fprintln(stderr, "sandbox build: missing DIR\nRun 'sandbox help build' for usage.")
		return exitUsage
	case fs.NArg() > 1:
		fmt.Fprintf(stderr, "sandbox build: unexpected argument %q: one DIR at a time\n", fs.Arg(1))
		return exitUsage
	case f.timeout <= 0:
		fmt.Fprintln(stderr, "sandbox build: --timeout must be positive")
		return exitUsage
	case f.memoryMiB <= 0:
		fmt.Fprintln(stderr, "sandbox build: --memory must be positive")
		return exitUsage
	}
	dir := fs.Arg(0)
	if f.out == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			fmt.Fprintf(stderr, "sandbox build: %v\n", err)
			return exitInternal
		}
		f.out = filepath.Base(abs) + ".wasm"
	}
	if info, err := os.Stat(filepath.Dir(f.out)); err != nil || !info.IsDir() {
		fmt.Fprintf(stderr, "sandbox build: --output %s: no such directory %s\n", f.out, filepath.Dir(f.out))
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := build.Build(ctx, build.Config{Dir: dir, Out: f.out, Timeout: f.timeout, MemoryMiB: f.memoryMiB})
	// A file not copied may be why the build failed: say so first.
	for _, s := range res.Skipped {
		fmt.Fprintf(stderr, "sandbox build: %s was not copied: not a regular file or directory\n", filepath.Join(dir, s))
	}
	var ce *build.CompileError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintln(stderr, ce.Msg)
		return 1
	case errors.Is(err, build.ErrNoDir):
		fmt.Fprintf(stderr, "sandbox build: %v\n", err)
		return exitUsage
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "sandbox build: interrupted")
		return 130
	case err != nil:
		fmt.Fprintf(stderr, "sandbox build: %v\n", err)
		return exitInternal
	}
	if res.Output != "" {
		fmt.Fprintln(stderr, res.Output)
	}
	return 0
}
