// Package build compiles a folder of Go source, package main, to a
// WebAssembly guest (GOOS=wasip1 GOARCH=wasm), the way `sandbox build`
// and the grading of a student's submission do.
//
// The build is offline and hermetic: the Go guest SDK comes from the
// sandbox binary itself (packages guests, internal/abi and
// internal/pyrepr embed their source), written into a private module tree
// that the folder's module requires and replaces; the go command runs
// with a clean environment, no proxy, no checksum database, no workspace
// and no toolchain switch.
// The folder is copied first (regular files only, symbolic links are not
// followed, MaxSourceBytes at most), so nothing is written into it.
//
// The go command runs under a time limit, and under a memory limit that
// the operating system enforces: the data segment (RLIMIT_DATA) of the go
// command and of every compile and link it starts. The limit is set by
// the sandbox binary re-run in ExecMode, which then becomes the go
// command.
package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout   = 2 * time.Minute
	DefaultMemoryMiB = 2048
)

// Config is what to build, where to, and under which limits.
type Config struct {
	// Dir is the folder of Go source, package main, with or without a
	// go.mod.
	Dir string
	// Out is the .wasm file to write. It is written only when the build
	// succeeds, and replaced at once.
	Out string
	// Timeout is the wall-clock limit of the build (default
	// DefaultTimeout).
	Timeout time.Duration
	// MemoryMiB is the data segment limit (RLIMIT_DATA) of the go command
	// and of each compile and link it starts, in MiB (default
	// DefaultMemoryMiB).
	MemoryMiB int64
	// GoCmd is the go command, a name looked up in PATH or a path
	// (default "go").
	GoCmd string
	// CacheDir is the build cache (GOCACHE) (default
	// os.UserCacheDir()/sandbox/gobuild; a cache private to the build when
	// there is no user cache dir).
	CacheDir string
	// Wrapper is the program and its first arguments that run the go
	// command under the memory limit: Build appends "--data-mib N --" and
	// the go command's path and arguments, and the wrapper is expected to
	// do what ExecMain does (default: this executable in ExecMode, which
	// works when main dispatches ExecMode, as cmd/sandbox and the TestMain
	// of this package's tests do).
	Wrapper []string
}

// Result is how a build went. When the build failed, it holds Skipped
// and Duration if the folder was copied, and Output if the go command
// ran.
type Result struct {
	// Output is what the go command printed, cleaned as a
	// CompileError's message is (when it succeeds, usually nothing).
	Output string
	// Duration is how long the build took, copying included.
	Duration time.Duration
	// Skipped are the entries of the folder that were not copied, as
	// paths relative to it: symbolic links and other files that are not
	// regular files or directories.
	Skipped []string
}

// Build builds cfg.Dir to cfg.Out. A failure of the program (compiler
// errors, a limit reached, a folder too large) is a *CompileError;
// anything else is the sandbox's (ErrNoToolchain, ErrNoDir, I/O errors,
// ctx's error when ctx ends).
func Build(ctx context.Context, cfg Config) (Result, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if info, err := os.Stat(cfg.Dir); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrNoDir, err)
	} else if !info.IsDir() {
		return Result{}, fmt.Errorf("%w: %s is not a directory", ErrNoDir, cfg.Dir)
	}
	tmp, err := os.MkdirTemp("", "sandbox-build-")
	if err != nil {
		return Result{}, fmt.Errorf("create build dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	t, err := newTree(tmp)
	if err != nil {
		return Result{}, err
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(t.root, "gocache")
	}

	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, ErrTimeout)
	defer cancel()
	skipped, err := t.write(cfg.Dir)
	if err != nil {
		return Result{}, err
	}
	res := Result{Skipped: skipped}
	g := goRunner{cfg: cfg, tree: t}
	// A go.mod of the folder's own is edited by the go command, which
	// knows its syntax; one written here needs no edit.
	if t.hasGoMod {
		if _, err := g.run(ctx, "mod", "edit",
			"-require="+sdkModule+"@"+sdkVersion, "-replace="+sdkModule+"=../sdk"); err != nil {
			res.Duration = time.Since(start)
			return res, err
		}
	}
	wasm := filepath.Join(t.root, "out.wasm")
	res.Output, err = g.run(ctx, "build", "-trimpath", "-buildvcs=false", "-o", wasm, ".")
	res.Duration = time.Since(start)
	if err != nil {
		return res, err
	}
	return res, install(wasm, cfg.Out)
}

// withDefaults fills in the defaults and finds the go command.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Dir == "" || cfg.Out == "" {
		return cfg, errors.New("build: Dir and Out are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MemoryMiB <= 0 {
		cfg.MemoryMiB = DefaultMemoryMiB
	}
	if cfg.GoCmd == "" {
		cfg.GoCmd = "go"
	}
	goCmd, err := exec.LookPath(cfg.GoCmd)
	if err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrNoToolchain, err)
	}
	if cfg.GoCmd, err = filepath.Abs(goCmd); err != nil {
		return cfg, err
	}
	if cfg.CacheDir == "" {
		if base, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = filepath.Join(base, "sandbox", "gobuild")
		}
	}
	if cfg.CacheDir != "" {
		if cfg.CacheDir, err = filepath.Abs(cfg.CacheDir); err != nil {
			return cfg, err
		}
	}
	if len(cfg.Wrapper) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return cfg, fmt.Errorf("find own executable: %w", err)
		}
		cfg.Wrapper = []string{exe, ExecMode}
	}
	return cfg, nil
}

// install copies the built module to out, through a temporary file
// beside it so that out is replaced at once.
func install(wasm, out string) error {
	src, err := os.Open(wasm)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(dst.Name()) // fails once renamed
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := dst.Chmod(0o644); err != nil {
		dst.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(dst.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
