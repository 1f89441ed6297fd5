package host_test

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/events"
)

// directSwitch returns a setter of the Config switch that field picks:
// the switch set to on and, with events false, no event log.
func directSwitch(field func(*host.Config) *bool) func(on, events bool) func(*host.Config) {
	return func(on, events bool) func(*host.Config) {
		return func(c *host.Config) {
			*field(c) = on
			if !events {
				c.Events = nil
			}
		}
	}
}

// directLocks sets Config.DirectLocks (directSwitch).
var directLocks = directSwitch(func(c *host.Config) *bool { return &c.DirectLocks })

// runnerServed counts the calls of op in evs that runners served.
func runnerServed(evs []events.Event, op string) (runner, hostServed int) {
	for _, e := range evs {
		if e.Type != events.TypeCall || e.Op != op {
			continue
		}
		if e.Runner {
			runner++
		} else {
			hostServed++
		}
	}
	return runner, hostServed
}

// TestDirectLocks: with Config.DirectLocks, the lock scenarios of the ipc
// guest (a Lock released by another process, timeouts, a counter under an
// RLock and a Semaphore, a Condition whose waits the host serves over a
// lock the runners take, a holder killed while another process waits)
// print exactly what they print when the host serves every acquire, with
// an event log or without one (then the runners serve what needs no wait
// with no message made: hostfuncs.Shortcut); and the acquires and
// releases on the locks were served by the runners.
func TestDirectLocks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct locks are Linux's")
	}
	for _, scenario := range []string{"lock-release", "lock-timeout", "lock-counter", "condition", "die-lock"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			want, hostEvents, err := directRunWith(t, "internal/testguests/ipc", true, 0, directLocks(false, true), scenario)
			if err != nil {
				t.Fatalf("host locks: %v\n%s", err, want)
			}
			got, evs, err := directRunWith(t, "internal/testguests/ipc", true, 0, directLocks(true, true), scenario)
			if err != nil {
				t.Fatalf("direct locks: %v\n%s", err, got)
			}
			if got != want {
				t.Errorf("direct locks printed\n%s\nthe host's locks\n%s", got, want)
			}
			got, _, err = directRunWith(t, "internal/testguests/ipc", true, 0, directLocks(true, false), scenario)
			if err != nil {
				t.Fatalf("direct locks, no event log: %v\n%s", err, got)
			}
			if got != want {
				t.Errorf("direct locks, no event log, printed\n%s\nthe host's locks\n%s", got, want)
			}
			if n, _ := runnerServed(hostEvents, "lock_acquire"); n != 0 {
				t.Errorf("without direct locks, runners served %d lock_acquire", n)
			}
			for _, op := range []string{"lock_acquire", "lock_release"} {
				if n, _ := runnerServed(evs, op); n == 0 {
					t.Errorf("with direct locks, no %s was served by a runner", op)
				}
			}
		})
	}
}

// TestDirectLockDeadlock: a process its runner reports waiting on a
// direct lock is in the table of waits as one the host serves: a Lock,
// an RLock or a Semaphore nobody will release, or a Lock its holder
// acquires again (declared after selfHeldGrace), ends the run as a deadlock,
// with the report the host's locks give (pids and times aside), with or without an
// event log, and the acquire the deadlock interrupted is recorded so.
func TestDirectLockDeadlock(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct locks are Linux's")
	}
	report := deadlockReport
	for _, scenario := range []string{"lock", "rlock", "semaphore", "lock-self"} {
		for _, withEvents := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/events=%v", scenario, withEvents), func(t *testing.T) {
				t.Parallel()
				want, _ := report(t, directLocks(false, withEvents), scenario)
				got, evs := report(t, directLocks(true, withEvents), scenario)
				if !slices.Equal(got, want) {
					t.Errorf("direct locks' report:\n%s\nthe host's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if withEvents && !slices.ContainsFunc(evs, func(e events.Event) bool {
					return e.Op == "lock_acquire" && e.Result == "interrupted" && e.Runner
				}) {
					t.Errorf("no interrupted lock_acquire a runner served in the event log (%d events)", len(evs))
				}
			})
		}
	}
}

// varying is what differs between two runs' deadlock reports: pids, times.
var varying = regexp.MustCompile(`pid \d+|[\d.]+m?s\b`)

// deadlockReport runs a scenario of the block guest, which must end as a
// deadlock, and returns the report's lines (pids and times as N) and the
// event log.
func deadlockReport(t *testing.T, set func(*host.Config), scenario string) ([]string, []events.Event) {
	t.Helper()
	out, evs, err := directRunWith(t, "internal/testguests/block", true, 0, set, scenario)
	var de *host.DeadlockError
	if !errors.As(err, &de) {
		t.Fatalf("Run = %v, want a DeadlockError\n%s", err, out)
	}
	lines := slices.Clone(de.Lines)
	for i := range lines {
		lines[i] = varying.ReplaceAllString(lines[i], "N")
	}
	return lines, evs
}

// TestChaosTakesEveryCall: under Config.Chaos every call reaches the host
// (its delays would miss a call a runner served): pipes, locks and queues
// are the host's whatever DirectPipes, DirectLocks and DirectQueues say.
func TestChaosTakesEveryCall(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ scenario, op string }{
		{"lock-counter", "lock_acquire"},
		{"pipe-duplex", "conn_send"},
		{"queue-full-empty", "queue_get"},
	} {
		out, evs, err := directRunWith(t, "internal/testguests/ipc", true, 0, func(c *host.Config) {
			c.DirectLocks, c.DirectQueues, c.Chaos = true, true, 7
		}, tt.scenario)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.scenario, err, out)
		}
		if runner, hostServed := runnerServed(evs, tt.op); runner != 0 || hostServed == 0 {
			t.Errorf("%s under chaos: %d %s served by runners, %d by the host; want all by the host", tt.scenario, runner, tt.op, hostServed)
		}
	}
}

// TestDirectLockOrder: what a process printed while it held a direct
// lock is written out before what the next holder prints (its runner
// syncs with the host before the release): each turn's two lines come
// out together.
func TestDirectLockOrder(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct locks are Linux's")
	}
	out, _, err := directRunWith(t, "internal/testguests/ipc", true, 0, directLocks(true, false), "lock-order", "200")
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4*200*2 {
		t.Fatalf("%d lines, want %d", len(lines), 4*200*2)
	}
	for i := 0; i < len(lines); i += 2 {
		in, out := lines[i], lines[i+1]
		if !strings.HasSuffix(in, " in") || out != strings.TrimSuffix(in, " in")+" out" {
			t.Fatalf("line %d: %q then %q: another holder's line came between a turn's two", i+1, in, out)
		}
	}
}
