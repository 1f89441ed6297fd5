package host_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/testutil"
	"github.com/sandbox-dev/sandbox/runner"
)

// The host starts runners by re-running this test binary in runner mode.
func TestMain(m *testing.M) {
	// The host starts runners by re-running its own executable, which in
	// tests is this test binary.
	lateRunner()
	testutil.RunnerMode()
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the host's writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cacheDir is the compilation cache shared by every test of this package.
var cacheDir = filepath.Join(os.TempDir(), "sandbox-test-cache", "host")

var (
	compileMu sync.Mutex
	compiled  = map[string]error{} // guest folder -> result of its compile
)

// guest returns the guest built from folder dir of the repository,
// compiled once into the shared cache (as the CLI does before a run).
func guest(t *testing.T, dir string) (module, cache string) {
	t.Helper()
	module = testutil.Guest(t, dir)
	compileMu.Lock()
	defer compileMu.Unlock()
	err, done := compiled[dir]
	if !done {
		ctx := context.Background()
		var m *runner.Module
		m, err = runner.Load(ctx, runner.LoadConfig{Path: module, CacheDir: cacheDir})
		if err == nil {
			m.Close(ctx)
		}
		compiled[dir] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return module, cacheDir
}

// probe returns the probe guest, compiled.
func probe(t *testing.T) (module, cache string) {
	t.Helper()
	return guest(t, "internal/testguests/probe")
}

// run runs the probe with args under a fresh Supervisor.
func run(t *testing.T, cfg host.Config, args ...string) (host.Result, string, string) {
	t.Helper()
	module, cache := probe(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	cfg.Module = module
	cfg.Args = append([]string{"probe.wasm"}, args...)
	cfg.Runner = []string{exe, runner.Mode}
	cfg.RunnerArgs = append([]string{"--cache-dir", cache}, cfg.RunnerArgs...)
	cfg.Stdout, cfg.Stderr = &stdout, &stderr
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: &stderr, Level: hclog.Warn})
	}
	s, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.Run(ctx)
	if err != nil {
		t.Fatalf("Run(%v): %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return res, stdout.String(), stderr.String()
}

// TestProcessOperations runs every process operation through real runners
// and checks what the guest saw and how the run ended.
func TestProcessOperations(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout []string // regexps, each must match a whole line, in this order
		stderr []string
	}{
		{args: []string{"hello"}, stdout: []string{"hello from MainProcess"}},
		{args: []string{"exit", "7"}, code: 7},
		{args: []string{"panic"}, code: 1, stderr: []string{"panic: probe: main panics"}},
		{args: []string{"child-exit", "5"}, stdout: []string{"exitcode=5"}},
		{args: []string{"child-panic"}, stdout: []string{"exitcode=1"}, stderr: []string{"Process Process-1:", "panic: probe: child panics"}},
		{args: []string{"exitcodes"}, stdout: []string{
			`return name=Process-1 exitcode=0 repr=<Process name='Process-1' pid=\d+ parent=\d+ stopped exitcode=0>`,
			`exit-3 name=Process-3 exitcode=3 .*`,
			`exit-255 name=Process-4 exitcode=255 .*`,
			`panic name=Process-5 exitcode=1 .*`,
			`error name=Process-6 exitcode=1 .*`,
		}},
		{args: []string{"names"}, stdout: []string{
			"main name=MainProcess", "p1 name=Process-1", "p2 name=Process-2", "p3 name=MyProc-3",
			"p4 name=custom", "p5 name=Process-5", "p2 renamed name=renamed",
			"child name=Process-1", "child created name=Process-1:1", "child created name=Process-1:2",
			"p1 name after join=child-renamed exitcode=0", "myproc name=MyProc-3 greeting=hi count=3",
		}},
		{args: []string{"tree"}, stdout: []string{
			"main parent=none", "main active=\\[\\]", "child parent name=MainProcess",
			"child parent pid matches=true", "child active=\\[Process-1:1\\]",
			"main active while child ran=\\[Process-1\\]", "main active after join=\\[\\]",
		}},
		{args: []string{"pid"}, stdout: []string{"child pid before start=0", "child self pid=\\d+", "child ppid=\\d+"}},
		{args: []string{"args"}, stdout: []string{"int=42", `string="hello, world"`, "struct={X:1 Y:-2 Label:origin}", "slice=\\[1 2 3\\]", "exitcode=0"}},
		{args: []string{"terminate"}, stdout: []string{"started alive=true exitcode=none", "terminate exitcode=-15", "alive=false", ".*stopped exitcode=-SIGTERM>"}},
		{args: []string{"kill"}, stdout: []string{"kill exitcode=-9", ".*stopped exitcode=-SIGKILL>"}},
		{args: []string{"join-timeout"}, stdout: []string{"stopped=false alive=true exitcode=none", "waited at least 100ms=true", "after terminate stopped=true alive=false exitcode=-15"}},
		{args: []string{"start-twice"}, stdout: []string{
			"join unstarted error=can only join a started process state=true",
			"start twice error=cannot start a process twice state=true",
			"set daemon after start error=process has already started",
		}},
		{args: []string{"self-terminate"}, stdout: []string{"MainProcess join self error=can only join a child process permission=true", "child exitcode=0"}},
		{args: []string{"not-creator"}, stdout: []string{"join parent error=can only join a child process permission=true", "terminate parent error=can only terminate a child process", "child exitcode=0"}},
		{args: []string{"daemon-child"}, stdout: []string{"start error=daemonic processes are not allowed to have children permission=true"}},
		// At the end of main, daemons are terminated and the others joined.
		{args: []string{"daemon-end"}, stdout: []string{"main done", "non-daemon done"}},
		// The same at the end of every process.
		{args: []string{"child-end"}, stdout: []string{"child returns", "grandchild done", "main after join exitcode=0"}},
		// What a process printed before it was killed is not lost.
		{args: []string{"killed-output"}, stdout: []string{"child line before kill", "killed exitcode=-9"}},
	}
	// Every case with a runner per process, and with runners reused.
	for _, reuse := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("reuse=%v/%s", reuse, strings.Join(tt.args, "_")), func(t *testing.T) {
				t.Parallel()
				res, stdout, stderr := run(t, host.Config{ReuseRunners: reuse}, tt.args...)
				if res.ExitCode != tt.code {
					t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, tt.code, stdout, stderr)
				}
				matchLines(t, "stdout", stdout, tt.stdout)
				matchLines(t, "stderr", stderr, tt.stderr)
			})
		}
	}
}

// matchLines checks that each pattern matches a whole line of out, in order.
func matchLines(t *testing.T, what, out string, patterns []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile("^" + p + "$")
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Errorf("%s: no line matching %q (in order)\n%s", what, p, out)
			return
		}
		i++
	}
}

// TestOutputOrderAndCompleteness: a child's 1000 lines all arrive, in
// order, before what main prints after joining it.
func TestOutputOrderAndCompleteness(t *testing.T) {
	_, stdout, stderr := run(t, host.Config{}, "output", "1000")
	var want []string
	for i := 0; i < 1000; i++ {
		want = append(want, fmt.Sprintf("line %d", i+1))
	}
	matchLines(t, "stdout", stdout, want)
	if !strings.Contains(stdout[strings.LastIndex(stdout, "line 1000"):], "main after join") {
		t.Errorf("main's line is not after the child's last line:\n%s", stdout[max(0, len(stdout)-300):])
	}
	if n := strings.Count(stderr, "\n"); n < 10 {
		t.Errorf("stderr has %d lines, want the child's 10", n)
	}
}

// TestPrefix labels every line with its process's name and pid.
func TestPrefix(t *testing.T) {
	res, stdout, _ := run(t, host.Config{Prefix: true}, "child-exit", "0")
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d", res.ExitCode)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !regexp.MustCompile(`^\[(MainProcess|Process-1) \d+\] `).MatchString(line) {
			t.Errorf("line without prefix: %q", line)
		}
	}
	if !strings.Contains(stdout, fmt.Sprintf("[MainProcess %d] exitcode=0", res.MainPID)) {
		t.Errorf("no MainProcess line with pid %d:\n%s", res.MainPID, stdout)
	}
}

// TestMaxProcs: starting more processes than the limit fails in the guest
// with a clear error; the run goes on. (The children stay alive until
// every start was tried: with a 2 s sleep, a start slower than that on a
// loaded machine found the first child ended and its slot free.)
func TestMaxProcs(t *testing.T) {
	res, stdout, stderr := run(t, host.Config{MaxProcs: 3}, "spawn", "5", "100ms", "held")
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d\n%s\n%s", res.ExitCode, stdout, stderr)
	}
	matchLines(t, "stdout", stdout, []string{"started=2.*"})
}

// TestRetriedStart: a start refused by the process limit leaves the
// process whole, so starting it again later works, IPC included.
func TestRetriedStart(t *testing.T) {
	res, stdout, stderr := run(t, host.Config{MaxProcs: 2}, "retry-start")
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d\n%s\n%s", res.ExitCode, stdout, stderr)
	}
	matchLines(t, "stdout", stdout, []string{"first start error=.* limit=true", "retried child put=42 exitcode=0"})
}

// TestForkBombIsContained: a guest that starts processes without end is
// held to the process limit and stopped when the run is cancelled, with
// every runner reaped.
func TestForkBombIsContained(t *testing.T) {
	module, cache := probe(t)
	exe, _ := os.Executable()
	var out syncBuffer
	s, err := host.New(host.Config{
		Module: module, Args: []string{"probe.wasm", "forkbomb"},
		Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
		Stdout: &out, Stderr: &out, MaxProcs: 6,
		Logger: hclog.NewNullLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := s.Run(ctx); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("fork bomb ended by itself")
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after cancellation")
	}
}
