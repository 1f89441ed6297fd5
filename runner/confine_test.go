//go:build linux

package runner_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	supervisor "github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/testutil"
	"github.com/sandbox-dev/sandbox/internal/wire"
	"github.com/sandbox-dev/sandbox/runner"
)

// probeMode is the first argument that makes this test binary the
// confinement probe (see confinedProbe).
const probeMode = "__confine_probe"

// Runners of the tests below are this test binary, re-run in runner mode
// (as the host's tests do) or as the confinement probe.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == probeMode {
		os.Exit(confinedProbe(os.Args[2:]))
	}
	testutil.RunnerMode()
	os.Exit(m.Run())
}

// confinedProbe confines this process as Main confines a runner (for the
// module, the cache dir and an outside file in args), then tries what a
// runner may and may not do, before and after the lockdown, printing one
// "step result" line each (result: ok, an errno name, or a value).
func confinedProbe(args []string) int {
	module, cache, outside := args[0], args[1], args[2]
	// Asked before the filter forbids the asking.
	abi, _, _ := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	fmt.Println("landlock", int(abi) > 0)
	lockdown, err := runner.Confine(module, cache)
	if err != nil {
		fmt.Println("confine", err)
		return 1
	}
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &rl)
	fmt.Println("rlimit/nofile", rl.Cur)
	unix.Getrlimit(unix.RLIMIT_CORE, &rl)
	fmt.Println("rlimit/core", rl.Cur)

	try := func(stage string) {
		step := func(name string, err error) { fmt.Println(stage+"/"+name, result(err)) }
		step("open-module", readFile(module))
		step("create-in-cache", os.WriteFile(filepath.Join(cache, stage+".tmp"), []byte("x"), 0o600))
		step("open-outside", readFile(outside))
		_, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		step("socket-inet", err)
		_, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		step("socket-unix", err)
		// If these succeeded, the process would become /bin/true (and
		// print nothing more) or get a child.
		step("execve", syscall.Exec("/bin/true", []string{"true"}, nil))
		step("fork", rawFork())
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		step("clone3", errnoOrNil(e))
		_, _, e = unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
		step("ptrace", errnoOrNil(e))
		step("unshare", unix.Unshare(unix.CLONE_NEWUSER))
		step("mount", unix.Mount("none", "/nonexistent-sandbox-dir", "tmpfs", 0, ""))
		step("kill-parent", unix.Kill(os.Getppid(), 0))
		var rl unix.Rlimit
		step("getrlimit", unix.Getrlimit(unix.RLIMIT_NOFILE, &rl))
		step("setrlimit", unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 64, Max: 64}))
		step("prlimit-parent", unix.Prlimit(os.Getppid(), unix.RLIMIT_NOFILE, nil, &rl))
		step("new-thread", newThread())
	}
	try("load")
	if err := lockdown(); err != nil {
		fmt.Println("lockdown", err)
		return 1
	}
	try("run")
	fmt.Println("done")
	return 0
}

func readFile(path string) error {
	_, err := os.ReadFile(path)
	return err
}

// rawFork tries to create a process with clone (no CLONE_THREAD); a child,
// if one is made, exits at once.
func rawFork() error {
	pid, _, e := unix.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return nil
}

// newThread makes the Go runtime start a new OS thread (a locked thread
// that ends with its goroutine is not reused) and run on it.
func newThread() error {
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		done <- unix.Gettid()
	}()
	if <-done == 0 {
		return errors.New("no thread id")
	}
	return nil
}

func errnoOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func result(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// TestConfinementForbids: a confined runner cannot open sockets, exec,
// fork, trace, mount, unshare or signal its parent at any time; it reads
// the module and writes the cache only until the lockdown, and nothing
// else of the file system ever (where the kernel has Landlock).
func TestConfinementForbids(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "module.wasm")
	outside := filepath.Join(dir, "outside.txt")
	for _, f := range []string{module, outside} {
		if err := os.WriteFile(f, []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	out, err := exec.Command(os.Args[0], probeMode, module, cache, outside).CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	got := map[string]string{}
	for line := range strings.Lines(string(out)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		got[k] = v
	}
	outsideWant := "ok"
	if got["landlock"] == "true" {
		outsideWant = "EACCES"
	} else {
		t.Log("no Landlock in this kernel: the file system is not restricted before the lockdown")
	}
	want := map[string]string{
		"rlimit/nofile": "1024", "rlimit/core": "0", "done": "",
		"load/open-module": "ok", "load/create-in-cache": "ok", "load/open-outside": outsideWant,
		"run/open-module": "EPERM", "run/create-in-cache": "EPERM", "run/open-outside": "EPERM",
	}
	for _, stage := range []string{"load", "run"} {
		for _, step := range []string{"socket-inet", "socket-unix", "execve", "fork", "ptrace", "unshare", "mount", "kill-parent", "setrlimit", "prlimit-parent"} {
			want[stage+"/"+step] = "EPERM"
		}
		want[stage+"/clone3"] = "ENOSYS"
		want[stage+"/new-thread"] = "ok"
		want[stage+"/getrlimit"] = "ok"
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: got %q, want %q", k, g, w)
		}
	}
	if t.Failed() {
		t.Logf("probe output:\n%s", out)
	}
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

// probeCache is the compilation cache of the tests that run the probe
// guest, kept between runs (a race-built compile of it takes seconds).
var (
	probeCache   = filepath.Join(os.TempDir(), "sandbox-test-cache", "runner")
	probeOnce    sync.Once
	probeCompile error
)

// probeGuest returns the probe guest and a cache in which it is compiled.
func probeGuest(t *testing.T) (module, cache string) {
	t.Helper()
	module = testutil.Guest(t, "internal/testguests/probe")
	probeOnce.Do(func() {
		ctx := context.Background()
		var m *runner.Module
		// Compiled as the CLI does, by several workers: every test that
		// runs the probe runs code compiled so.
		if m, probeCompile = runner.Load(ctx, runner.LoadConfig{Path: module, CacheDir: probeCache, CompileWorkers: 4}); probeCompile == nil {
			m.Close(ctx)
		}
	})
	if probeCompile != nil {
		t.Fatal(probeCompile)
	}
	return module, probeCache
}

// runConfined runs the probe guest with args under a host whose runners
// (this test binary) get runnerArgs besides the cache dir. log is the
// host's log, which relays the runners'.
func runConfined(t *testing.T, runnerArgs []string, args ...string) (res supervisor.Result, stdout, log string) {
	t.Helper()
	_, cache := probeGuest(t)
	return runProbeIn(t, cache, nil, runnerArgs, args...)
}

// runProbeIn is runConfined with the compilation cache cache, calling
// during (when not nil) while the run runs; the run ends no sooner.
func runProbeIn(t *testing.T, cache string, during func(), runnerArgs []string, args ...string) (res supervisor.Result, stdout, log string) {
	t.Helper()
	module, _ := probeGuest(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, logs syncBuffer
	s, err := supervisor.New(supervisor.Config{
		Module:     module,
		Args:       append([]string{"probe.wasm"}, args...),
		Runner:     []string{exe, runner.Mode},
		RunnerArgs: append([]string{"--cache-dir", cache, "--log-level", "debug"}, runnerArgs...),
		Stdout:     &out,
		Stderr:     &out,
		Logger:     hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug}),
		TimeLimit:  time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, _ = s.Run(context.Background())
	}()
	if during != nil {
		during()
	}
	<-done
	return res, out.String(), logs.String()
}

// TestConfinedRunnerWorks: guests run as before in confined runners with
// limits, children too; every runner says it was confined and narrowed.
func TestConfinedRunnerWorks(t *testing.T) {
	res, out, log := runConfined(t, []string{"--cpu-limit", "60", "--memory-limit-mib", "2304"}, "child", "hello")
	if res.Verdict != supervisor.VerdictOK || !strings.Contains(out, "hello from Process-1\nchild exitcode=0\n") {
		t.Fatalf("verdict %s (%s), output:\n%s\nlog:\n%s", res.Verdict, res.Explanation, out, log)
	}
	if n := strings.Count(log, "seccomp filter narrowed for the guest"); n < 2 {
		t.Errorf("%d runners narrowed their seccomp filter, want at least 2; log:\n%s", n, log)
	}
	if strings.Contains(log, "[ERROR]") {
		t.Errorf("errors in the log:\n%s", log)
	}
}

// TestCPULimit: a guest in a busy loop is ended by SIGXCPU when its
// runner has used its CPU time (the hard limit, SIGKILL, is a second
// later).
func TestCPULimit(t *testing.T) {
	res, out, log := runConfined(t, []string{"--cpu-limit", "1"}, "loop")
	if res.ExitCode != -int(syscall.SIGXCPU) {
		t.Fatalf("exit code %d, verdict %s (%s), want -%d (SIGXCPU); output:\n%s\nlog:\n%s",
			res.ExitCode, res.Verdict, res.Explanation, syscall.SIGXCPU, out, log)
	}
	main := res.Processes[0]
	// The kernel counts CPU time exactly; rusage, sampled at clock
	// ticks, may say a little less.
	if main.CPU < 800*time.Millisecond || main.CPU >= 2*time.Second {
		t.Errorf("the runner used %v of CPU, want about 1s, less than the hard limit 2s", main.CPU)
	}
	t.Logf("ended by %s after %v of CPU", syscall.SIGXCPU, main.CPU)
}

var outOfMemory = regexp.MustCompile(`runner: (fatal error: out of memory|.*ThreadSanitizer failed to allocate .*errno: 12)`)

// TestMemoryLimit: an allocation bomb allowed 4 GiB of linear memory
// (--memory-pages) is stopped by the runner's own limit, well before the
// machine notices: the kernel refuses the guest's linear memory more room
// (linearmem_linux.go), so its memory.grow fails and the guest's Go
// runtime gives up ("runtime: out of memory"); or, when the runner's own
// Go heap is what passes the limit, the Go runtime ends the runner.
func TestMemoryLimit(t *testing.T) {
	const limitMiB = 512
	res, out, log := runConfined(t, []string{"--memory-pages", "65536", "--memory-limit-mib", fmt.Sprint(limitMiB)}, "alloc")
	main := res.Processes[0]
	// The runner's Go runtime says "fatal error: out of memory"; under the
	// race detector, its ThreadSanitizer may fail first to map shadow
	// memory.
	refused := strings.Contains(out, "runtime: out of memory")
	if res.Verdict != supervisor.VerdictMemoryLimit || !(refused || outOfMemory.MatchString(log)) ||
		!strings.Contains(res.Explanation, "more memory than its runner may use") {
		t.Fatalf("verdict %s (%s), want the runner's memory limit; output:\n%s\nlog:\n%s",
			res.Verdict, res.Explanation, out, log)
	}
	// A runner's rusage peak starts at the peak of the process that
	// started it (Linux carries it over exec): meaningful only when this
	// test process's own peak is below the limit (tests that compile in
	// this process raise it).
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	if own := self.Maxrss * 1024; own >= limitMiB<<20 {
		t.Logf("peak RSS not checked: this test process's own peak, %d MiB, carries over to its runners", own>>20)
	} else if main.PeakRSS > limitMiB<<20 {
		t.Errorf("peak RSS %d MiB, above the limit of %d MiB", main.PeakRSS>>20, limitMiB)
	}
	last := "before its first allocation"
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "allocated=") {
			last = "at " + strings.TrimSpace(line)
		}
	}
	t.Logf("stopped %s, peak RSS %d MiB: %s", last, main.PeakRSS>>20, res.Explanation)
}

// TestParallelCompileIsCached: a module compiled by several workers is
// a cache entry that a serial load (a runner's) finds: it does not
// compile again (the entry is not rewritten).
func TestParallelCompileIsCached(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	cfg := runner.LoadConfig{Path: testutil.Guest(t, "internal/testguests/probe"), CacheDir: cache, CompileWorkers: 4}
	m, err := runner.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	entries, _ := filepath.Glob(filepath.Join(cache, "wazero-*", "*"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v, want one", entries)
	}
	before, err := os.Stat(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg.CompileWorkers = 1
	if m, err = runner.Load(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	after, err := os.Stat(entries[0])
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the serial load wrote the cache entry again (%v): not a hit", err)
	}
}

// TestConfinedCompile: a confined runner given a relative cache directory
// that does not exist yet creates it, compiles the module and writes the
// cache entry (all before its lockdown), and says Hello.
func TestConfinedCompile(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(testutil.RepoRoot(t), "cmd", "sandbox", "testdata", "trap.wasm")
	startToHello(t, dir, []string{"--module", module, "--cache-dir", "cache"})
	entries, _ := filepath.Glob(filepath.Join(dir, "cache", "wazero-*", "*"))
	if len(entries) == 0 {
		t.Errorf("no cache entry written in %s", filepath.Join(dir, "cache"))
	}
}

var startups = flag.Int("startups", 0, "TestStartupCost: starts of each configuration (0: skip the test)")

// TestStartupCost measures the start-up cost of each layer of
// confinement: the time from starting a runner to its Hello, and what
// the runner itself logs of each layer, median of -startups starts of
// each configuration (taken in turn), for a tiny module (the runner's
// own start) and the probe (a realistic load: reading a 16 MB cache
// entry under the filter). Run it without -race:
//
//	go test -run TestStartupCost -v ./runner -args -startups=21
func TestStartupCost(t *testing.T) {
	if *startups == 0 {
		t.Skip("measures only with -startups N")
	}
	probe, cache := probeGuest(t)
	tiny := filepath.Join(testutil.RepoRoot(t), "cmd", "sandbox", "testdata", "trap.wasm")
	configs := []struct {
		name string
		args []string
	}{
		{"none (CORE, FSIZE, NOFILE only)", []string{"--confine=false"}},
		{"rlimits (+ CPU, DATA)", []string{"--confine=false", "--cpu-limit", "60", "--memory-limit-mib", "2304"}},
		{"rlimits + seccomp", []string{"--landlock=false", "--cpu-limit", "60", "--memory-limit-mib", "2304"}},
		{"rlimits + seccomp + landlock", []string{"--cpu-limit", "60", "--memory-limit-mib", "2304"}},
	}
	for _, module := range []string{tiny, probe} {
		hello := make([][]time.Duration, len(configs))
		layers := make([]map[string][]time.Duration, len(configs))
		for i := range layers {
			layers[i] = map[string][]time.Duration{}
		}
		for range *startups {
			for i, c := range configs {
				d, logged := startToHello(t, "", append([]string{"--module", module, "--cache-dir", cache}, c.args...))
				hello[i] = append(hello[i], d)
				for k, v := range logged {
					layers[i][k] = append(layers[i][k], v)
				}
			}
		}
		t.Logf("%s, %d starts each:", filepath.Base(module), *startups)
		for i, c := range configs {
			line := fmt.Sprintf("  %-32s start to Hello %6.2f ms", c.name, ms(median(hello[i])))
			for _, k := range []string{"rlimits", "landlock", "seccomp", "narrow"} {
				if v, ok := layers[i][k]; ok {
					line += fmt.Sprintf("  %s %.3f ms", k, ms(median(v)))
				}
			}
			t.Log(line)
		}
	}
}

// startToHello starts a runner with args in directory dir ("": this
// one), waits for its Hello, and returns how long that took and the
// durations of the layers of confinement the runner logged.
func startToHello(t *testing.T, dir string, args []string) (time.Duration, map[string]time.Duration) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control-runner")
	defer ours.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{runner.Mode, "--log-level", "debug"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"GOMAXPROCS=1"} // as the host starts runners
	cmd.ExtraFiles = []*os.File{theirs}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	m, err := wire.NewConn(ours).Recv()
	took := time.Since(began)
	if err != nil || m.Kind != wire.KindHello {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no Hello (%v); runner log:\n%s", err, logs.String())
	}
	ours.Close() // the runner exits: its host is gone
	cmd.Wait()
	logged := map[string]time.Duration{}
	sc := bufio.NewScanner(&logs)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		for _, k := range []string{"rlimits", "landlock", "seccomp", "took"} {
			s, _ := rec[k].(string)
			if i := strings.LastIndex(s, " "); i >= 0 {
				s = s[i+1:] // "abi 7 317µs"
			}
			if d, err := time.ParseDuration(s); err == nil {
				if k == "took" {
					k = "narrow"
				}
				logged[k] = d
			}
		}
	}
	return took, logged
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
