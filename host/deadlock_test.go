package host_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/runner"
)

// startBlock starts the block guest's scenario under a new Supervisor and
// returns it, with a channel that delivers Run's result.
// deadlockAfter is Config.DeadlockAfter (0: the default).
func startBlock(t *testing.T, ctx context.Context, scenario string, stdout, stderr *syncBuffer, deadlockAfter time.Duration) (*host.Supervisor, <-chan runResult) {
	t.Helper()
	module, cache := guest(t, "internal/testguests/block")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, err := host.New(host.Config{
		Module: module, Args: []string{"block.wasm", scenario},
		Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
		Stdout: stdout, Stderr: stderr,
		Logger:        hclog.New(&hclog.LoggerOptions{Output: stderr, Level: hclog.Error}),
		DeadlockAfter: deadlockAfter,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan runResult, 1)
	go func() {
		res, err := s.Run(ctx)
		done <- runResult{res, err}
	}()
	return s, done
}

type runResult struct {
	res host.Result
	err error
}

// runBound bounds a run of the block guest: its processes start (a second
// or two on a loaded machine), block, and the deadlock is declared
// DefaultDeadlockAfter later. The margin is for a slow CI machine; a run
// the detector missed would never end.
const runBound = 30 * time.Second

// TestDeadlock: a run in which every process waits for ever ends with a
// DeadlockError that says who waits on what, and which processes could
// end each wait.
func TestDeadlock(t *testing.T) {
	tests := []struct {
		scenario string
		lines    []string // regexps, one per process, in handle order
	}{
		{"recv", []string{
			`^MainProcess \(pid \d+\) waits in conn_recv on pipe \d+ for \S+; only Process-1 could end it$`,
			`^Process-1 \(pid \d+\) waits in event_wait on event \d+ for \S+; any process could end it$`,
		}},
		{"lock", []string{
			`^MainProcess \(pid \d+\) waits in proc_join \S+ for Process-1 to end$`,
			`^Process-1 \(pid \d+\) waits in lock_acquire on lock \d+ for \S+; it is held by MainProcess$`,
		}},
		{"barrier", []string{
			`^MainProcess \(pid \d+\) waits in barrier_wait on barrier \d+ for \S+; 1 more must arrive$`,
			`^Process-1 \(pid \d+\) waits in barrier_wait on barrier \d+ for \S+; 1 more must arrive$`,
		}},
		{"exit", []string{
			`^MainProcess \(pid \d+\) has returned and waits \S+ for its children to end: Process-1$`,
			`^Process-1 \(pid \d+\) waits in event_wait on event \d+ for \S+; any process could end it$`,
		}},
		{"queue-get", []string{`^MainProcess \(pid \d+\) waits in queue_get on queue \d+ for \S+; any process could end it$`}},
		{"condition", []string{`^MainProcess \(pid \d+\) waits in cond_wait on condition \d+ for \S+; any process could end it$`}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			_, done := startBlock(t, context.Background(), tt.scenario, &stdout, &stderr, 0)
			var r runResult
			select {
			case r = <-done:
			case <-time.After(runBound):
				t.Fatalf("the deadlocked run still runs after %v\nstdout:\n%s\nstderr:\n%s", runBound, stdout.String(), stderr.String())
			}
			var de *host.DeadlockError
			if !errors.As(r.err, &de) || !errors.Is(r.err, host.ErrDeadlock) {
				t.Fatalf("Run = %v, want a DeadlockError\nstdout:\n%s\nstderr:\n%s", r.err, stdout.String(), stderr.String())
			}
			if len(de.Lines) != len(tt.lines) {
				t.Fatalf("deadlock report:\n%s\nwant %d lines", strings.Join(de.Lines, "\n"), len(tt.lines))
			}
			for i, re := range tt.lines {
				if !regexp.MustCompile(re).MatchString(de.Lines[i]) {
					t.Errorf("line %d = %q, want a match for %s", i, de.Lines[i], re)
				}
			}
			if !strings.Contains(de.Error(), de.Lines[0]) {
				t.Errorf("Error() = %q, want the report in it", de.Error())
			}
			if r.res.ExitCode != -9 {
				t.Errorf("MainProcess exit code %d, want -9 (killed at the deadlock)", r.res.ExitCode)
			}
		})
	}
}

// TestNoFalseDeadlock: runs in which every process waits at some moment,
// but one sleeps, computes or waits with a timeout, are not deadlocks:
// they end by themselves.
func TestNoFalseDeadlock(t *testing.T) {
	for _, scenario := range []string{"sleeper", "busy", "timed"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			_, done := startBlock(t, context.Background(), scenario, &stdout, &stderr, 0)
			var r runResult
			select {
			case r = <-done:
			case <-time.After(runBound):
				t.Fatalf("the run still runs after %v\nstdout:\n%s\nstderr:\n%s", runBound, stdout.String(), stderr.String())
			}
			if r.err != nil || r.res.ExitCode != 0 || !strings.Contains(stdout.String(), "done") {
				t.Fatalf("Run = %+v, %v; want exit 0 and done\nstdout:\n%s\nstderr:\n%s", r.res, r.err, stdout.String(), stderr.String())
			}
		})
	}
}

// TestStuck: two children deadlock on two RLocks while MainProcess sleeps
// on: the run goes on, Stuck names the two, and a run ended from outside
// reports them.
func TestStuck(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, done := startBlock(t, ctx, "partial", &stdout, &stderr, 0)
	deadline := time.Now().Add(runBound)
	for len(s.Stuck()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Stuck() = %v after %v; waits %v\nstderr:\n%s", s.Stuck(), runBound, s.Waits(), stderr.String())
		}
		select {
		case r := <-done:
			t.Fatalf("the run ended: %+v %v\nstderr:\n%s", r.res, r.err, stderr.String())
		case <-time.After(5 * time.Millisecond): // polling against the deadline
		}
	}
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled (a part of the run is not a deadlock of the run)", r.err)
	}
	var names []string
	for _, w := range r.res.Stuck {
		names = append(names, w.Name+" "+w.Kind)
	}
	if strings.Join(names, ",") != "Process-1 rlock,Process-2 rlock" {
		t.Errorf("Result.Stuck = %v, want Process-1 and Process-2 waiting for rlocks", names)
	}
	if len(r.res.StuckLines) != 2 || !strings.Contains(r.res.StuckLines[0], "it is held by Process-2") {
		t.Errorf("Result.StuckLines = %q", r.res.StuckLines)
	}
}
