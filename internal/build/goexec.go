package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// ExecMode is the first argument that puts the sandbox binary in the mode
// that runs the go command under the memory limit: ExecMain. It is not a
// command users type.
const ExecMode = "__build-exec"

// execFailed is ExecMain's status when it could not become the go
// command; the go command itself never exits with it.
const execFailed = 125

// maxOutput bounds what is kept of the go command's output.
const maxOutput = 1 << 20

// ExecMain is the entry point of ExecMode: args are "--data-mib N --
// PROGRAM ARGS...". It limits its data segment (RLIMIT_DATA) to N MiB and
// executes PROGRAM in its place, which keeps the limit, as do the
// processes it starts. It returns only when that fails.
func ExecMain(args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet(ExecMode, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dataMiB := fs.Uint64("data-mib", 0, "limit of the data segment in MiB (0: none)")
	if err := fs.Parse(args); err != nil {
		return execFailed
	}
	prog := fs.Args()
	if len(prog) == 0 || !filepath.IsAbs(prog[0]) {
		fmt.Fprintf(stderr, "%s: want --data-mib N -- /ABS/PROGRAM ARGS...\n", ExecMode)
		return execFailed
	}
	if *dataMiB > 0 {
		lim := syscall.Rlimit{Cur: *dataMiB << 20, Max: *dataMiB << 20}
		if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &lim); err != nil {
			fmt.Fprintf(stderr, "%s: set RLIMIT_DATA: %v\n", ExecMode, err)
			return execFailed
		}
	}
	err := syscall.Exec(prog[0], prog, os.Environ())
	fmt.Fprintf(stderr, "%s: exec %s: %v\n", ExecMode, prog[0], err)
	return execFailed
}

// goRunner runs the go command of one build in its tree.
type goRunner struct {
	cfg  Config
	tree *tree
}

// env is the go command's whole environment.
func (g goRunner) env() []string {
	t := g.tree
	return []string{
		"PATH=" + filepath.Dir(g.cfg.GoCmd),
		"HOME=" + t.path("home"),
		"TMPDIR=" + t.path("tmp"),
		"PWD=" + t.path("src"),
		"GOCACHE=" + g.cfg.CacheDir,
		"GOPATH=" + t.path("gopath"),
		"GOMODCACHE=" + t.path("gopath", "pkg", "mod"),
		"GOENV=off",
		"GOOS=wasip1",
		"GOARCH=wasm",
		"CGO_ENABLED=0",
		"GOFLAGS=-mod=mod",
		"GOPROXY=off",
		"GOSUMDB=off",
		"GONOSUMDB=*",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	}
}

// run runs the go command with args in the folder's copy and returns its
// output, cleaned and trimmed. The go command and everything it started
// are killed when ctx ends; when it ends with cause ErrTimeout (the
// build's own limit), that is a CompileError.
func (g goRunner) run(ctx context.Context, args ...string) (string, error) {
	argv := append(append(g.cfg.Wrapper[1:len(g.cfg.Wrapper):len(g.cfg.Wrapper)],
		"--data-mib", fmt.Sprint(g.cfg.MemoryMiB), "--", g.cfg.GoCmd), args...)
	cmd := exec.CommandContext(ctx, g.cfg.Wrapper[0], argv...)
	cmd.Dir = g.tree.path("src")
	cmd.Env = g.env()
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The go command leads a process group of its own, with its compiles
	// and links: when ctx ends the whole group is killed, while its leader
	// is not yet reaped (so the group's id cannot have been reused).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	text := g.clean(out.String())
	switch {
	case ctx.Err() != nil && context.Cause(ctx) == ErrTimeout:
		return text, &CompileError{Msg: fmt.Sprintf("the build took longer than its time limit (%v)", g.cfg.Timeout), Err: ErrTimeout, Output: text}
	case ctx.Err() != nil:
		return text, context.Cause(ctx)
	case err == nil:
		return text, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return text, fmt.Errorf("run the go command: %w", err)
	}
	if ee.ExitCode() == execFailed && strings.HasPrefix(text, ExecMode+":") {
		return text, fmt.Errorf("go %s: %s", args[0], text)
	}
	if outOfMemory(ee, text) {
		return text, &CompileError{Msg: fmt.Sprintf("the build needed more memory than its limit (%d MiB)", g.cfg.MemoryMiB), Err: ErrMemory, Output: text}
	}
	if text == "" {
		text = fmt.Sprintf("go %s failed: %v", args[0], err)
	}
	return text, &CompileError{Msg: text, Output: text}
}

// memoryMessages are what the Go runtime of the go command, a compile or
// a link prints when its data segment limit is reached.
var memoryMessages = regexp.MustCompile(`(?m)^(fatal error: (runtime: )?(out of memory|cannot allocate memory)` +
	`|runtime: out of memory|fatal error: out of memory allocating heap arena map|runtime: failed to create new OS thread)`)

// outOfMemory reports whether the go command failed for want of memory:
// it says so, or one of its processes says so, or it crashed with a signal
// (at a very low limit the runtime cannot even start and faults).
func outOfMemory(ee *exec.ExitError, out string) bool {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return true
	}
	return memoryMessages.MatchString(out) || strings.Contains(out, "signal: segmentation fault")
}

// clean removes the tree's paths from the go command's output, so that
// files are named as in the folder: "./main.go:3:2: …" and
// "/tmp/sandbox-build-…/src/main.go:3:2: …" become "main.go:3:2: …", the
// folder is named as given, and the SDK's files by their import path.
func (g goRunner) clean(out string) string {
	src, sdk := g.tree.path("src"), g.tree.path("sdk")+"/"
	r := strings.NewReplacer(src+"/", "", src, g.cfg.Dir, sdk, sdkModule+"/", "../sdk/", sdkModule+"/", g.tree.root+"/", "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if l == "# "+mainModule {
			continue // the module path given to a folder without go.mod
		}
		l = r.Replace(l)
		kept = append(kept, strings.TrimPrefix(l, "./"))
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct {
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) String() string {
	if b.truncated {
		return b.buf.String() + "\n… (output truncated)"
	}
	return b.buf.String()
}
