package host_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/host"
)

// wantWait is what a test expects of one process's wait.
type wantWait struct {
	name, op, kind string
	by             []string // names of the processes that could end it
	anyone         bool
	missing        int
}

func (w wantWait) String() string {
	return fmt.Sprintf("%s in %s on %s by %v anyone=%v missing=%d", w.name, w.op, w.kind, w.by, w.anyone, w.missing)
}

// describeWaits turns Waits into wantWaits, resolving handles to names.
func describeWaits(s *host.Supervisor, ws []host.Wait) []wantWait {
	var out []wantWait
	for _, w := range ws {
		var by []string
		for _, h := range w.By {
			by = append(by, s.ProcessName(h))
		}
		out = append(out, wantWait{name: w.Name, op: w.Op, kind: w.Kind, by: by, anyone: w.Anyone, missing: w.Missing})
	}
	return out
}

// TestWaits runs scenarios in which processes block for ever, each in one
// kind of wait, through real runners, and checks that Waits lists every
// blocked process with what it waits on and who could end the wait.
func TestWaits(t *testing.T) {
	tests := []struct {
		scenario string
		want     []wantWait
	}{
		{"recv", []wantWait{
			{name: "MainProcess", op: "conn_recv", kind: "pipe", by: []string{"Process-1"}},
			{name: "Process-1", op: "event_wait", kind: "event", anyone: true},
		}},
		{"queue-get", []wantWait{{name: "MainProcess", op: "queue_get", kind: "queue", anyone: true}}},
		{"queue-put", []wantWait{{name: "MainProcess", op: "queue_put", kind: "queue", anyone: true}}},
		{"queue-join", []wantWait{{name: "MainProcess", op: "queue_join", kind: "joinable_queue", anyone: true}}},
		{"barrier", []wantWait{
			{name: "MainProcess", op: "barrier_wait", kind: "barrier", anyone: true, missing: 1},
			{name: "Process-1", op: "barrier_wait", kind: "barrier", anyone: true, missing: 1},
		}},
		{"lock", []wantWait{
			{name: "MainProcess", op: "proc_join", kind: "process", by: []string{"Process-1"}},
			{name: "Process-1", op: "lock_acquire", kind: "lock", by: []string{"MainProcess"}, anyone: true},
		}},
		{"rlock", []wantWait{
			{name: "MainProcess", op: "proc_join", kind: "process", by: []string{"Process-1"}},
			{name: "Process-1", op: "lock_acquire", kind: "rlock", by: []string{"MainProcess"}},
		}},
		{"semaphore", []wantWait{{name: "MainProcess", op: "lock_acquire", kind: "semaphore", anyone: true}}},
		{"event", []wantWait{{name: "MainProcess", op: "event_wait", kind: "event", anyone: true}}},
		{"condition", []wantWait{{name: "MainProcess", op: "cond_wait", kind: "condition", anyone: true}}},
		{"exit", []wantWait{
			{name: "MainProcess", op: "exit", kind: "children", by: []string{"Process-1"}},
			{name: "Process-1", op: "event_wait", kind: "event", anyone: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			// Every scenario is a deadlock; here the waits are listed while
			// they last (TestDeadlock lets the detector end them).
			s, done := startBlock(t, ctx, tt.scenario, &stdout, &stderr, -1)
			defer func() {
				cancel()
				select {
				case r := <-done:
					if !errors.Is(r.err, context.Canceled) {
						t.Errorf("Run after cancel = %v, want context.Canceled", r.err)
					}
				case <-time.After(time.Minute):
					t.Error("Run did not return within a minute of its cancel")
				}
			}()

			var got []wantWait
			var raw []host.Wait
			deadline := time.Now().Add(time.Minute)
			for {
				raw = s.Waits()
				got = describeWaits(s, raw)
				if sameWaits(got, tt.want) {
					break
				}
				select {
				case r := <-done:
					t.Fatalf("the run ended (%v) before every process blocked\nstdout:\n%s\nstderr:\n%s", r.err, stdout.String(), stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("Waits() = %v\nwant %v\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
				}
				time.Sleep(5 * time.Millisecond) // polling against the deadline
			}
			for _, w := range raw {
				if w.Since.IsZero() || w.Since.After(time.Now()) {
					t.Errorf("%s: Since = %v", w.Name, w.Since)
				}
				if w.Timeout >= 0 {
					t.Errorf("%s: Timeout = %v, want none (negative)", w.Name, w.Timeout)
				}
				if (w.Object == 0) != (w.Op == host.OpExit) {
					t.Errorf("%s: Object = %d in %s", w.Name, w.Object, w.Op)
				}
			}
			// What the process printed before it blocked is written out
			// while it waits (by the output pump, which may lag the waits
			// on a loaded machine by a moment).
			for !strings.Contains(stdout.String(), "blocking") {
				if time.Now().After(deadline) {
					t.Errorf("stdout = %q, want the guest's 'blocking'", stdout.String())
					break
				}
				time.Sleep(5 * time.Millisecond) // polling against the deadline
			}
		})
	}
}

func sameWaits(got, want []wantWait) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.name != w.name || g.op != w.op || g.kind != w.kind || g.anyone != w.anyone ||
			g.missing != w.missing || !slices.Equal(g.by, w.by) {
			return false
		}
	}
	return true
}
