package host_test

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/events"
)

// directQueues sets Config.DirectQueues (directSwitch).
var directQueues = directSwitch(func(c *host.Config) *bool { return &c.DirectQueues })

// queueNumbered is the msg of a message a runner put on a direct queue:
// the queue, then the putter's handle and count. The host numbers the
// messages it carries itself with one number.
var queueNumbered = regexp.MustCompile(`^\d+\.\d+-\d+$`)

// timing is the line stress-queue prints of how long it took.
var timing = regexp.MustCompile(`(?m)^ipc: queue: \d+ messages in .*\n`)

// TestDirectQueues: with Config.DirectQueues, the queue scenarios of the
// ipc guest (Full and Empty with and without timeouts, a put blocked on
// a full queue, close, posted puts, JoinableQueue's join and task_done,
// more messages than the socket holds from two putters, some larger than
// a datagram, messages of sizes around each bound of a receive, a Pool,
// 4 producers and 4 consumers on a bounded queue)
// print exactly what they print when the host carries every message; and
// the puts, gets and infos (qsize, empty, full) were served by the
// runners: every message got was numbered by the runner that put it, and
// put once.
func TestDirectQueues(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct queues are Linux's")
	}
	for _, args := range [][]string{
		{"queue-full-empty"}, {"queue-blocking"}, {"queue-close"}, {"queue-kill"}, {"queue-posted"}, {"joinable"},
		{"queue-spill", "1000"}, {"sizes", strconv.Itoa(host.DatagramBound(t))}, {"pool"}, {"class-fields"}, {"stress-queue", "20000"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			want, hostEvents, err := directRunWith(t, "internal/testguests/ipc", true, 0, directQueues(false, true), args...)
			if err != nil {
				t.Fatalf("host queues: %v\n%s", err, want)
			}
			got, evs, err := directRunWith(t, "internal/testguests/ipc", true, 0, directQueues(true, true), args...)
			if err != nil {
				t.Fatalf("direct queues: %v\n%s", err, got)
			}
			if got, want := timing.ReplaceAllString(got, ""), timing.ReplaceAllString(want, ""); got != want {
				t.Errorf("direct queues printed\n%s\nthe host's queues\n%s", got, want)
			}
			if n, _ := runnerServed(hostEvents, "queue_put"); n != 0 {
				t.Errorf("without direct queues, runners served %d queue_put", n)
			}
			if _, n := runnerServed(evs, "queue_info"); n != 0 {
				t.Errorf("with direct queues, the host served %d queue_info", n)
			}
			put := map[string]int{}
			got0 := 0
			for _, e := range evs {
				if e.Type != events.TypeCall || (e.Op != "queue_put" && e.Op != "queue_get") || e.Result != "ok" {
					continue
				}
				if !e.Runner || !queueNumbered.MatchString(e.Msg) {
					t.Fatalf("%s %s: msg %q, runner %v: want one its runner served and numbered", e.Process, e.Op, e.Msg, e.Runner)
				}
				if e.Op == "queue_put" {
					if put[e.Msg]++; put[e.Msg] > 1 {
						t.Errorf("message %s put twice", e.Msg)
					}
					continue
				}
				got0++
				if !slices.ContainsFunc(evs, func(p events.Event) bool { return p.Op == "queue_put" && p.Msg == e.Msg }) {
					t.Errorf("message %s got, never put", e.Msg)
				}
			}
			if got0 == 0 {
				t.Errorf("no message got in the event log: %d events", len(evs))
			}
		})
	}
}

// TestDirectQueueDeadlock: a process its runner reports waiting in a get
// on an empty direct queue, or in a put on a full one, is in the table of
// waits as one the host serves: the run ends as a deadlock, with the
// report the host's queues give (pids and times aside), with or without
// an event log. (A join, which the host serves, too.)
func TestDirectQueueDeadlock(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct queues are Linux's")
	}
	for _, scenario := range []string{"queue-get", "queue-put", "queue-join"} {
		for _, withEvents := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/events=%v", scenario, withEvents), func(t *testing.T) {
				t.Parallel()
				want, _ := deadlockReport(t, directQueues(false, withEvents), scenario)
				got, _ := deadlockReport(t, directQueues(true, withEvents), scenario)
				if !slices.Equal(got, want) {
					t.Errorf("direct queues' report:\n%s\nthe host's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

// TestDirectQueuesHoldWithinLimit: what the host holds for a direct queue
// (messages handed over while its socket was full, messages larger than a
// datagram) counts in MaxIPCBytes as what a queue the host serves holds:
// two putters of 40 messages of 100 KiB nobody gets, with a limit of 2
// MiB, end the run with the IPC limit's verdict either way. And the host
// keeps no descriptor of the run's queues once it is over.
func TestDirectQueuesHoldWithinLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct queues are Linux's")
	}
	before := openFDs(t)
	for _, on := range []bool{false, true} {
		out, _, err := directRunWith(t, "internal/testguests/ipc", true, 0, func(c *host.Config) {
			c.DirectQueues, c.MaxIPCBytes = on, 2<<20
		}, "queue-spill", "4000")
		var le *host.LimitError
		if !errors.As(err, &le) || le.Verdict != host.VerdictIPCLimit {
			t.Errorf("direct queues %v: Run = %v, want the IPC limit's verdict\n%s", on, err, out)
		}
	}
	if after := openFDs(t); after > before+2 {
		t.Errorf("open descriptors of the host: %d before the runs, %d after", before, after)
	}
}
