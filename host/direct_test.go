package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/runner"
)

// directRun runs a scenario of the guest built from dir with direct pipes
// on or off, with an event log, and returns what MainProcess printed, the
// events and Run's error.
func directRun(t *testing.T, dir string, direct bool, deadlockAfter time.Duration, args ...string) (string, []events.Event, error) {
	return directRunWith(t, dir, direct, deadlockAfter, nil, args...)
}

// directRunWith is directRun with the Config changed by set (nil: none).
func directRunWith(t *testing.T, dir string, direct bool, deadlockAfter time.Duration, set func(*host.Config), args ...string) (string, []events.Event, error) {
	t.Helper()
	module, cache := guest(t, dir)
	exe, _ := os.Executable()
	var out, log syncBuffer
	evlog := events.NewLog(0)
	cfg := host.Config{
		Module: module, Args: append([]string{"guest.wasm"}, args...),
		Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
		Stdout: &out, Stderr: &out, Events: evlog, DirectPipes: direct, ReuseRunners: true,
		Logger:        hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Warn}),
		DeadlockAfter: deadlockAfter,
	}
	if set != nil {
		set(&cfg)
	}
	s, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = s.Run(ctx)
	evs, _ := evlog.Events()
	if strings.Contains(log.String(), "[ERROR]") {
		t.Errorf("the host logged an error:\n%s", log.String())
	}
	return out.String(), evs, err
}

// runnerNumbered is the msg of a message a runner sent on a direct pipe:
// pipe, end, then the sender's handle and count. The host numbers the
// messages it carries itself with one number.
var runnerNumbered = regexp.MustCompile(`^\d+\.\d+\.\d+-\d+$`)

// TestDirectPipes: with Config.DirectPipes, the pipe scenarios of the ipc
// guest (EOF once the writers are gone, every error of a wrong direction,
// a closed end and a broken pipe, poll with and without a timeout,
// ping-pong, a 1 MiB message, which travels as the host's blob; messages
// of sizes around each bound of a receive) print
// exactly what they print when the host carries every message; and their
// messages did not pass through the host: every one was numbered by the
// runner that sent it, and each received message was sent once.
func TestDirectPipes(t *testing.T) {
	for _, args := range [][]string{{"pipe-eof"}, {"pipe-errors"}, {"pipe-duplex"}, {"sizes", strconv.Itoa(host.DatagramBound(t))}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			want, hostEvents, err := directRun(t, "internal/testguests/ipc", false, 0, args...)
			if err != nil {
				t.Fatalf("host pipes: %v\n%s", err, want)
			}
			got, evs, err := directRun(t, "internal/testguests/ipc", true, 0, args...)
			if err != nil {
				t.Fatalf("direct pipes: %v\n%s", err, got)
			}
			if got != want {
				t.Errorf("direct pipes printed\n%s\nthe host's pipes\n%s", got, want)
			}
			for _, e := range hostEvents {
				if runnerNumbered.MatchString(e.Msg) {
					t.Fatalf("without direct pipes a message was numbered by a runner: %+v", e)
				}
			}
			sent := map[string]int{}
			received := 0
			for _, e := range evs {
				if e.Type != events.TypeCall || (e.Op != "conn_send" && e.Op != "conn_recv") || e.Result != "ok" {
					continue
				}
				if !runnerNumbered.MatchString(e.Msg) {
					t.Errorf("%s %s: msg %q, want one numbered by its sender's runner", e.Process, e.Op, e.Msg)
				}
				if e.Op == "conn_send" {
					sent[e.Msg]++
					if sent[e.Msg] > 1 {
						t.Errorf("message %s sent twice", e.Msg)
					}
				} else {
					received++
					if sent[e.Msg] == 0 && !sentLater(evs, e.Msg) {
						t.Errorf("message %s received, never sent", e.Msg)
					}
				}
			}
			if received == 0 {
				t.Errorf("no message received in the event log: %d events", len(evs))
			}
		})
	}
}

// sentLater reports whether msg was sent in evs at all (a sender's
// records may reach the host after the receiver's).
func sentLater(evs []events.Event, msg string) bool {
	for _, e := range evs {
		if e.Op == "conn_send" && e.Msg == msg {
			return true
		}
	}
	return false
}

// TestDirectPipeDeadlock: a process blocked in a receive its runner
// serves is in the table of waits like one the host serves: a run where
// it waits for ever on a pipe whose only writer waits too is declared
// deadlocked, with the same report.
//
// A sender waits too when the pipe is full (as in CPython, unlike the
// host's own pipes): a child that fills a pipe its parent reads only
// after joining it is a deadlock, reported so, with or without an event
// log (the wait's record differs: it was missed without a trace log).
func TestDirectPipeDeadlock(t *testing.T) {
	tests := []struct {
		scenario string
		events   bool
		lines    []string
		// interrupted is the process and the call its runner reported
		// waiting in when the deadlock killed it: recorded as interrupted.
		interrupted [2]string
	}{
		{"recv", true, []string{
			`^MainProcess \(pid \d+\) waits in conn_recv on pipe \d+ for \S+; only Process-1 could end it$`,
			`^Process-1 \(pid \d+\) waits in event_wait on event \d+ for \S+; any process could end it$`,
		}, [2]string{"MainProcess", "conn_recv"}},
		{"send-full", true, []string{
			`^MainProcess \(pid \d+\) waits in proc_join \S+ for Process-1 to end$`,
			`^Process-1 \(pid \d+\) waits in conn_send on pipe \d+ for \S+; only MainProcess, Process-1 could end it$`, // (it holds the read end too, as after fork)
		}, [2]string{"Process-1", "conn_send"}},
		{"send-full", false, nil, [2]string{}}, // the same lines
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/events=%v", tt.scenario, tt.events), func(t *testing.T) {
			t.Parallel()
			lines := tt.lines
			if lines == nil {
				lines = tests[1].lines
			}
			set := func(c *host.Config) {
				if !tt.events {
					c.Events = nil
				}
			}
			out, evs, err := directRunWith(t, "internal/testguests/block", true, 0, set, tt.scenario)
			var de *host.DeadlockError
			if !errors.As(err, &de) {
				t.Fatalf("Run = %v, want a DeadlockError\n%s", err, out)
			}
			if len(de.Lines) != len(lines) {
				t.Fatalf("deadlock report:\n%s\nwant %d lines", strings.Join(de.Lines, "\n"), len(lines))
			}
			for i, re := range lines {
				if !regexp.MustCompile(re).MatchString(de.Lines[i]) {
					t.Errorf("line %d = %q, want a match for %s", i, de.Lines[i], re)
				}
			}
			if who := tt.interrupted; who[0] != "" && !slices.ContainsFunc(evs, func(e events.Event) bool {
				return e.Process == who[0] && e.Op == who[1] && e.Result == "interrupted"
			}) {
				t.Errorf("no interrupted %s of %s in the event log (%d events)", who[1], who[0], len(evs))
			}
		})
	}
	// The host's own pipes never make a sender wait: the same program ends.
	out, _, err := directRun(t, "internal/testguests/block", false, 0, "send-full")
	if err != nil || !strings.Contains(out, "done 1024") {
		t.Errorf("host pipes: Run = %v\n%s", err, out)
	}
}

// TestDirectPipeOrder: what a process printed before it sent a message
// is written out before what the receiver prints after receiving it, as
// when the host carried every message (the sender's runner syncs with the
// host first: checked to fail without, in 6 runs of 10).
func TestDirectPipeOrder(t *testing.T) {
	out, _, err := directRun(t, "internal/testguests/ipc", true, 0, "pipe-order", "200")
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	pos := map[string]int{}
	for i, l := range strings.Split(out, "\n") {
		pos[l] = i
	}
	for i := range 200 {
		sent, ok1 := pos[fmt.Sprintf("sending %d", i)]
		got, ok2 := pos[fmt.Sprintf("received %d", i)]
		if !ok1 || !ok2 || got < sent {
			t.Fatalf("message %d: \"sending\" at line %d, \"received\" at %d (%v %v)\n%s", i, sent, got, ok1, ok2, out)
		}
	}
}

// TestDirectPipesLeaveNoSocket: runners reused for process after process
// do not keep the sockets of the processes they served (a runner may
// hold 1,024 descriptors and serve 100 processes: 300 children that each
// attach 12 pipe ends, one after another, would exhaust it: checked to
// fail so), and the host closes a pipe's sockets once both its ends are
// gone, and all of them when the run ends.
func TestDirectPipesLeaveNoSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("direct pipes are Linux's")
	}
	before := openFDs(t)
	out, _, err := directRun(t, "internal/testguests/ipc", true, 0, "pipe-many", "300")
	if err != nil || out != "received=300 of 300\n" {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	if after := openFDs(t); after > before+2 {
		t.Errorf("open descriptors of the host: %d before the run, %d after", before, after)
	}
}

// TestDirectPipesBudget: the direct pipes' sockets of a run may hold
// together at most half of MaxIPCBytes (about 200 KiB a sending end, in
// the kernel, counted by no other limit); past it, a new pipe is served by
// the host, and the program sees no difference. With 1 MiB, two of the
// one-way pipes of a child fit at once, the third does not.
func TestDirectPipesBudget(t *testing.T) {
	out, evs, err := directRunWith(t, "internal/testguests/ipc", true, 0,
		func(c *host.Config) { c.MaxIPCBytes = 1 << 20 }, "pipe-many", "4", "3")
	if err != nil || out != "received=4 of 4\n" {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	direct, carried := 0, 0
	for _, e := range evs {
		if e.Op != "conn_recv" || e.Result != "ok" {
			continue
		}
		if runnerNumbered.MatchString(e.Msg) {
			direct++
		} else {
			carried++
		}
	}
	if direct == 0 || carried == 0 {
		t.Errorf("%d messages on direct pipes, %d carried by the host: want both", direct, carried)
	}
}
