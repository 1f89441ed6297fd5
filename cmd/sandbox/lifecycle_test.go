package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

var startedRe = regexp.MustCompile(`sandbox\.([^:]+): process started: pid=(\d+)`)

// startSandbox starts "sandbox run --log-level debug PROBE -- args" and
// returns it with a channel of the runner pids it reports starting, keyed
// by process name.
func startSandbox(t *testing.T, args ...string) (*exec.Cmd, <-chan [2]string) {
	t.Helper()
	probe := testutil.Guest(t, "internal/testguests/probe")
	cmd := exec.Command("sandbox", append([]string{"run", "--log-level", "debug", probe, "--"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pids := make(chan [2]string, 64)
	go func() {
		defer close(pids)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := startedRe.FindStringSubmatch(sc.Text()); m != nil {
				pids <- [2]string{m[1], m[2]}
			}
		}
	}()
	return cmd, pids
}

// collect reads n pids from ch, failing after a minute.
func collect(t *testing.T, ch <-chan [2]string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	deadline := time.After(time.Minute)
	for len(got) < n {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatalf("sandbox ended after starting %v, want %d processes", got, n)
			}
			pid, _ := strconv.Atoi(p[1])
			got[p[0]] = pid
		case <-deadline:
			t.Fatalf("only %v started in a minute, want %d processes", got, n)
		}
	}
	return got
}

// alive reports whether pid is a live (not zombie) runner process.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
		return false
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.Contains(string(cmdline), "__runner")
}

// TestNoRunnerOutlivesAKilledHost SIGKILLs the host mid-run: every runner
// must die with it (parent-death signal), none may be left behind.
func TestNoRunnerOutlivesAKilledHost(t *testing.T) {
	cmd, ch := startSandbox(t, "spawn", "3", "60s")
	pids := collect(t, ch, 4)
	for name, pid := range pids {
		if !alive(pid) {
			t.Fatalf("runner of %s (pid %d) not alive before the host was killed", name, pid)
		}
	}
	if n := len(runnersOf(cmd.Process.Pid)); n < len(pids) {
		t.Fatalf("found %d runners of the host before killing it, want at least %d", n, len(pids))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for name, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("runner of %s (pid %d) still alive 30s after the host was killed", name, pid)
			}
			time.Sleep(20 * time.Millisecond) // polling against a deadline
		}
	}
	// No runner of this host at all (spare runners included).
	for {
		left := runnersOf(cmd.Process.Pid)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runners %v of the killed host still alive", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runnersOf lists the live runner processes started by host pid.
func runnersOf(host int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), "\x00--host-pid\x00"+strconv.Itoa(host)+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestExitStatusWhenMainIsKilled: MainProcess ended by signal N makes
// "sandbox run" exit with 128+N, and its children do not outlive the run.
func TestExitStatusWhenMainIsKilled(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, ch := startSandbox(t, "spawn", "2", "60s")
			pids := collect(t, ch, 3)
			if err := syscall.Kill(pids["MainProcess"], sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 128+int(sig) {
				t.Fatalf("sandbox ended with %v, want exit status %d", err, 128+int(sig))
			}
			for name, pid := range pids {
				if alive(pid) {
					t.Errorf("runner of %s (pid %d) outlived the run", name, pid)
				}
			}
		})
	}
}

// TestInterruptKillsEverything: SIGINT to the host ends the run at once
// with status 130 and no runner left.
func TestInterruptKillsEverything(t *testing.T) {
	cmd, ch := startSandbox(t, "spawn", "2", "60s")
	pids := collect(t, ch, 3)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("sandbox ended with %v, want exit status 130", err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("runner of %s (pid %d) outlived the run", name, pid)
		}
	}
}
