package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// TestInterpretedRunners: while Config.Compiled is open, runners
// interpret the module, at most eight alive at once; a start past them
// waits, and goes on as soon as the machine code is ready, on a runner
// that runs it. The test watches the interpreted runners in /proc and
// says the machine code is ready once eight have stood for half a
// second without a ninth (or, should fewer than eight ever come, once
// the count has not grown for 30 s: the test then fails on the count).
func TestInterpretedRunners(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		name := map[bool]string{true: "reuse", false: "no-reuse"}[reuse]
		t.Run(name, func(t *testing.T) { // (not parallel: it counts this process's interpreted runners)
			compiled := make(chan struct{})
			ended := make(chan struct{})
			most := make(chan int, 1)
			go func() {
				peak, since := 0, time.Now()
				defer func() { most <- peak }()
				for {
					select {
					case <-ended:
						return
					case <-time.After(10 * time.Millisecond):
					}
					n := interpretedRunners()
					if n > peak {
						peak, since = n, time.Now()
					}
					if (peak >= 8 && time.Since(since) > 500*time.Millisecond) || (peak > 0 && time.Since(since) > 30*time.Second) {
						select {
						case <-compiled:
						default:
							close(compiled)
						}
					}
				}
			}()
			// Ten children that end only once all ten are alive: without
			// the bound, all eleven processes would be interpreted. (They
			// slept 8 s once; on a loaded 2-core machine interpreted
			// runners took 4 s each to start, the first ended before the
			// eighth began, and the test failed.)
			res, stdout, stderr := run(t, host.Config{Compiled: compiled, ReuseRunners: reuse}, "gather", "10")
			close(ended)
			peak := <-most
			if res.ExitCode != 0 || len(res.Processes) != 11 {
				t.Fatalf("exit code %d, %d processes\n%s\n%s", res.ExitCode, len(res.Processes), stdout, stderr)
			}
			if peak != 8 {
				t.Errorf("at most %d interpreted runners alive at once, want 8", peak)
			}
			// (How many were interpreted in all depends on timing: a
			// runner freed before the machine code was ready may serve
			// another process interpreted.)
			if !res.Processes[0].Interpreted {
				t.Errorf("MainProcess started before the machine code was ready and is not interpreted")
			}
			compiledKids := 0
			for _, p := range res.Processes[1:] {
				if !p.Interpreted {
					compiledKids++
				}
			}
			if compiledKids == 0 {
				t.Errorf("every process ran interpreted: none started once the machine code was ready: %+v", res.Processes)
			}
		})
	}
}

// interpretedRunners counts the runners of this process started with
// --interpret that are alive.
func interpretedRunners() int {
	n := 0
	for _, pid := range testutil.Children() {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmd, []byte("\x00--interpret\x00")) {
			n++
		}
	}
	return n
}

// TestCheckedWhileStarting: with Config.Checked, MainProcess's runner
// starts at once and the guest runs only after the check passes; a check
// that fails ends Run with its error, before any guest ran.
func TestCheckedWhileStarting(t *testing.T) {
	bad := errors.New("invalid module: made up by the test")
	tests := []struct {
		name    string
		outcome error
	}{
		{"passes", nil},
		{"fails", bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checked := make(chan error, 1)
			timer := time.AfterFunc(300*time.Millisecond, func() { checked <- tt.outcome })
			defer timer.Stop()
			s, out := probeSupervisor(t, host.Config{Checked: checked}, "hello")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := s.Run(ctx)
			if tt.outcome == nil {
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("Run: exit code %d, %v\n%s", res.ExitCode, err, out.String())
				}
				matchLines(t, "stdout", out.String(), []string{"hello from MainProcess.*"})
				return
			}
			if !errors.Is(err, host.ErrMainFailed) || !errors.Is(err, bad) {
				t.Fatalf("Run error %v, want ErrMainFailed wrapping %v", err, bad)
			}
			if res.Verdict != "" || len(res.Processes) != 0 || out.String() != "" {
				t.Errorf("a guest ran: verdict %q, processes %+v, output %q", res.Verdict, res.Processes, out.String())
			}
		})
	}
}

// TestInterpretedLimitSaysSo: a limit reached by an interpreted process
// says it ran interpreted, and how to run compiled code instead.
func TestInterpretedLimitSaysSo(t *testing.T) {
	t.Parallel()
	s, out := probeSupervisor(t, host.Config{CPULimit: time.Second, Compiled: make(chan struct{})}, "loop") // never ready
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.Run(ctx)
	if res.Verdict != host.VerdictCPULimit || !strings.Contains(res.Explanation, "running interpreted") {
		t.Fatalf("verdict %q: %s (%v)\n%s", res.Verdict, res.Explanation, err, out.String())
	}
}

// TestInterpretedSlowSaysSo: an interpreted process that has used 2 s of
// CPU is told about, once, in the log: compute-bound code runs much
// slower interpreted.
func TestInterpretedSlowSaysSo(t *testing.T) {
	t.Parallel()
	s, out := probeSupervisor(t, host.Config{RunCPULimit: 2 * time.Minute, Compiled: make(chan struct{})}, "loop") // never ready
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { // the run ends once it is said (or after a minute), a sample later
		for ctx.Err() == nil && !strings.Contains(out.String(), "runs interpreted") {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second)
		cancel()
	}()
	s.Run(ctx)
	if n := strings.Count(out.String(), "runs interpreted"); n != 1 {
		t.Errorf("said %d times that the process runs interpreted, want once:\n%s", n, out.String())
	}
}
