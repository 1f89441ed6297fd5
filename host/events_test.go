package host_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/runner"
)

// runLogged runs the guest built from dir with an event log and returns
// the result, the events and what was printed.
func runLogged(t *testing.T, dir string, max int, args ...string) (host.Result, []events.Event, int64, string) {
	t.Helper()
	l := loggedRun(t, dir, max, hclog.NewNullLogger(), args...)
	return l.res, l.events, l.dropped, l.out
}

// logged is what loggedRun saw of a run.
type logged struct {
	res     host.Result
	err     error // Run's
	events  []events.Event
	dropped int64
	out     string // what the processes printed
}

// loggedRun runs the guest built from dir, its host logging to log, with
// an event log keeping at most max events (0: all).
func loggedRun(t *testing.T, dir string, max int, log hclog.Logger, args ...string) logged {
	t.Helper()
	module, cache := guest(t, dir)
	exe, _ := os.Executable()
	var out syncBuffer
	evlog := events.NewLog(max)
	s, err := host.New(host.Config{
		Module: module, Args: append([]string{"guest.wasm"}, args...),
		Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
		Stdout: &out, Stderr: &out, Logger: log, Events: evlog,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var l logged
	l.res, l.err = s.Run(ctx)
	l.events, l.dropped = evlog.Events()
	l.out = out.String()
	return l
}

// TestEvents checks the event log of real runs against what the programs
// do: every process's start and exit, messages matched from send to
// receive, barrier generations, blocking, who terminated whom, and every
// line printed.
func TestEvents(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		res, evs, _, out := runLogged(t, "guests/communicating_with_pipe", 0)
		checkCommon(t, res, evs, out)
		sends, recvs := map[string]events.Event{}, map[string]events.Event{}
		for _, e := range evs {
			switch e.Op {
			case "conn_send":
				sends[e.Msg] = e
			case "conn_recv":
				if e.Result == "ok" {
					recvs[e.Msg] = e
				}
			}
		}
		if len(sends) != 20 || len(recvs) != 20 {
			t.Errorf("%d sends and %d receives with a message id, want 20 each (10 items through two pipes)", len(sends), len(recvs))
		}
		blocked := 0
		for id, r := range recvs {
			s, ok := sends[id]
			switch {
			case id == "":
				t.Errorf("a receive without a message id: %+v", r)
			case !ok:
				t.Errorf("receive of message %s, which no send made", id)
			case s.Preview != r.Preview || s.Size != r.Size || s.Process == r.Process:
				t.Errorf("message %s: sent %q (%d bytes) by %s, received %q (%d) by %s", id, s.Preview, s.Size, s.Process, r.Preview, r.Size, r.Process)
			case r.T+r.Dur < s.T:
				t.Errorf("message %s received (ending at %dµs) before it was sent (%dµs)", id, r.T+r.Dur, s.T)
			}
			if r.BlockedDur > 0 {
				blocked++
				if r.Blocked < r.T || r.Blocked+r.BlockedDur > r.T+r.Dur+1 {
					t.Errorf("blocked interval [%d, +%d] outside its call [%d, +%d]", r.Blocked, r.BlockedDur, r.T, r.Dur)
				}
			}
		}
		if blocked == 0 {
			t.Error("no receive blocked (the consumers start before their producers send)")
		}
	})
	t.Run("barrier", func(t *testing.T) {
		res, evs, _, out := runLogged(t, "guests/processes_barrier", 0)
		checkCommon(t, res, evs, out)
		var waits []events.Event
		for _, e := range evs {
			if e.Op == "barrier_wait" {
				waits = append(waits, e)
			}
		}
		if len(waits) != 2 {
			t.Fatalf("%d barrier waits, want 2", len(waits))
		}
		for _, w := range waits {
			if w.Generation == nil || *w.Generation != 0 || w.ObjectKind != "barrier" {
				t.Errorf("barrier wait %+v: want generation 0 of a barrier", w)
			}
		}
	})
	t.Run("terminate", func(t *testing.T) {
		res, evs, _, out := runLogged(t, "guests/killing_processes", 0)
		checkCommon(t, res, evs, out)
		var found bool
		for _, e := range evs {
			if e.Type == events.TypeExit && e.Process != "MainProcess" {
				found = true
				if e.ExitCode == nil || *e.ExitCode != -15 || e.Signal != "SIGTERM" || e.By != "MainProcess" {
					t.Errorf("exit of the terminated child: %+v, want -15, SIGTERM, by MainProcess", e)
				}
			}
		}
		if !found {
			t.Error("no exit of the child")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		res, evs, dropped, _ := runLogged(t, "guests/communicating_with_pipe", 20)
		if dropped == 0 {
			t.Errorf("%d events kept, none dropped, with room for 20", len(evs))
		}
		// Starts and exits are kept past the bound; the end is last.
		starts, exits := 0, 0
		for _, e := range evs {
			switch e.Type {
			case events.TypeStart:
				starts++
			case events.TypeExit:
				exits++
			}
		}
		if starts != len(res.Processes) || exits != len(res.Processes) {
			t.Errorf("%d starts and %d exits kept, want %d each", starts, exits, len(res.Processes))
		}
		if end := evs[len(evs)-1]; end.Type != events.TypeEnd || end.Dropped != dropped {
			t.Errorf("last event %+v, want the end, with %d dropped", end, dropped)
		}
	})
}

// checkCommon checks what every log must hold: the run first and the end
// last, numbered in order; a start and an exit for every process, with its
// pid and exit code; every line printed, in each process's order.
func checkCommon(t *testing.T, res host.Result, evs []events.Event, out string) {
	t.Helper()
	if len(evs) < 2 || evs[0].Type != events.TypeRun || evs[0].Version != events.Version || evs[len(evs)-1].Type != events.TypeEnd {
		t.Fatalf("the log does not begin with the run and end with its end: %+v ... %+v", evs[0], evs[len(evs)-1])
	}
	if end := evs[len(evs)-1]; end.Verdict != string(res.Verdict) {
		t.Errorf("end verdict %q, result %q", end.Verdict, res.Verdict)
	}
	started, exited := map[string]events.Event{}, map[string]events.Event{}
	var lines []string
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d numbered %d", i+1, e.Seq)
		}
		switch e.Type {
		case events.TypeStart:
			started[e.Process] = e
		case events.TypeExit:
			exited[e.Process] = e
		case events.TypeOutput:
			lines = append(lines, e.Text)
		case events.TypeCall:
			if _, ok := started[e.Process]; !ok {
				t.Errorf("call %s by %s before its start", e.Op, e.Process)
			}
		}
	}
	for _, p := range res.Processes {
		s, e := started[p.Name], exited[p.Name]
		if s.PID != p.PID || e.PID != p.PID || e.ExitCode == nil || *e.ExitCode != p.ExitCode {
			t.Errorf("process %s (pid %d, exit code %d): start %+v, exit %+v", p.Name, p.PID, p.ExitCode, s, e)
		}
		if p.Parent != s.Parent {
			t.Errorf("process %s: parent %q in the result, %q in the log", p.Name, p.Parent, s.Parent)
		}
	}
	printed := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(printed) {
		t.Errorf("%d output events, %d lines printed", len(lines), len(printed))
	}
	want := map[string]int{}
	for _, l := range printed {
		want[l]++
	}
	for _, l := range lines {
		want[l]--
	}
	for l, n := range want {
		if n != 0 {
			t.Errorf("line %q: %d more printed than logged", l, n)
		}
	}
}
