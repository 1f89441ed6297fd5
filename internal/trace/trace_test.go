package trace

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// ---- Building synthetic logs -------------------------------------------

// proc is a guest process of a synthetic log.
type proc struct {
	name string
	pid  int
}

func (p proc) start(t int64, parent *proc) events.Event {
	e := events.Event{T: t, Type: events.TypeStart, Process: p.name, PID: p.pid, Target: "main.worker"}
	if parent != nil {
		e.Parent, e.ParentPID = parent.name, parent.pid
	} else {
		e.Target = ""
	}
	return e
}

// call is a call that succeeded; kind and object name the object it acted
// on ("" for none). A call on a process names it as its peer.
func (p proc) call(t, dur int64, op, kind, object string) events.Event {
	e := events.Event{T: t, Dur: dur, Type: events.TypeCall, Process: p.name, PID: p.pid,
		Op: op, ObjectKind: kind, ObjectName: object, Result: "ok"}
	if kind == "process" {
		e.Peer = object
	}
	return e
}

func (p proc) exit(t int64, code int, signal, by string) events.Event {
	return events.Event{T: t, Type: events.TypeExit, Process: p.name, PID: p.pid,
		ExitCode: &code, Signal: signal, By: by}
}

func (p proc) print(t int64, stream, text string) events.Event {
	return events.Event{T: t, Type: events.TypeOutput, Process: p.name, PID: p.pid, Stream: stream, Text: text}
}

// blocked marks a call as having waited from `from` for dur µs.
func blocked(e events.Event, from, dur int64) events.Event {
	e.Blocked, e.BlockedDur = from, dur
	return e
}

// message gives a send, put, receive or get its message.
func message(e events.Event, id, preview string) events.Event {
	e.Msg, e.Preview, e.Size = id, preview, len(preview)
	return e
}

func generation(e events.Event, g int) events.Event {
	e.Generation = &g
	return e
}

func failed(e events.Event, result, why string) events.Event {
	e.Result, e.Error = result, why
	return e
}

func runEvent(module string) events.Event {
	return events.Event{Type: events.TypeRun, Module: module, Args: []string{"-n", "3"}, Version: events.Version}
}

func endEvent(t int64, verdict string, dropped int64) events.Event {
	return events.Event{T: t, Type: events.TypeEnd, Verdict: verdict,
		Explanation: "MainProcess exited with code 0", Dropped: dropped}
}

// recorded numbers events as the host's log does, in the order it records
// them: a call when it ends, anything else when it happens. It returns them
// in that order, which is not time order.
func recorded(evs ...events.Event) []events.Event {
	at := func(e events.Event) int64 {
		if e.Type == events.TypeCall {
			return e.T + e.Dur
		}
		return e.T
	}
	out := slices.Clone(evs)
	slices.SortStableFunc(out, func(a, b events.Event) int { return cmp.Compare(at(a), at(b)) })
	for i := range out {
		out[i].Seq = int64(i) + 1
	}
	return out
}

// ---- The scenarios -----------------------------------------------------

var (
	mainProc = proc{"MainProcess", 4100}
	process1 = proc{"Process-1", 4107}
)

// pingPong: MainProcess and Process-1 send three pings and pongs over two
// pipes. In rounds 1 and 2 each receiver waits before the sender calls; in
// round 3 MainProcess receives after the pong was sent.
func pingPong() []events.Event {
	m, p := mainProc, process1
	evs := []events.Event{
		runEvent("pipes.wasm"),
		m.start(600, nil),
		m.call(100_000, 20, "pipe_new", "pipe", "pipe 2"),
		m.call(100_050, 5, "pipe_new", "pipe", "pipe 5"),
		m.call(100_100, 10, "proc_new", "process", p.name),
		m.call(100_200, 60_000, "proc_start", "process", p.name),
		p.start(160_100, &m),
		p.call(170_000, 3, "proc_target", "", ""),
	}
	for i := range int64(3) {
		base := 200_000 + i*10_000
		ping, pong := fmt.Sprintf("2.1.%d", i+1), fmt.Sprintf("5.1.%d", i+1)
		evs = append(evs,
			message(blocked(p.call(base, 1012, "conn_recv", "pipe", "pipe 2"), base+4, 1005), ping, "ping"),
			message(m.call(base+1000, 6, "conn_send", "pipe", "pipe 2"), ping, "ping"),
			message(p.call(base+1100, 5, "conn_send", "pipe", "pipe 5"), pong, "pong"),
		)
		if i < 2 {
			evs = append(evs, message(blocked(m.call(base+1020, 90, "conn_recv", "pipe", "pipe 5"), base+1022, 85), pong, "pong"))
		} else {
			evs = append(evs, message(m.call(base+1200, 7, "conn_recv", "pipe", "pipe 5"), pong, "pong"))
		}
	}
	evs = append(evs,
		p.exit(240_000, 0, "", ""),
		blocked(m.call(235_000, 5_100, "proc_join", "process", p.name), 235_002, 5_000),
		m.print(241_000, "stdout", "done"),
		m.exit(245_000, 0, "", ""),
		endEvent(246_000, "ok", 0),
	)
	return recorded(evs...)
}

// queue3: three producers put two items each on one queue; MainProcess
// gets them, sometimes waiting for a put, sometimes finding one there;
// its last get times out on an empty queue.
func queue3() []events.Event {
	m := proc{"MainProcess", 5000}
	prods := []proc{{"producer-1", 5001}, {"producer-2", 5002}, {"producer-3", 5003}}
	evs := []events.Event{
		runEvent("queue.wasm"),
		m.start(500, nil),
		m.call(10_000, 30, "queue_new", "queue", "queue 3"),
	}
	for k, p := range prods {
		t := int64(k+1) * 20_000
		evs = append(evs,
			m.call(t, 600, "proc_start", "process", p.name),
			p.start(t+500, &m))
		for j := range 2 {
			put := int64(100_000 + (k+1)*1000 + j*50_000)
			evs = append(evs, message(p.call(put, 8, "queue_put", "queue", "queue 3"),
				fmt.Sprintf("3.%d", j*3+k+1), fmt.Sprint(k*10+j)))
		}
		evs = append(evs, p.exit(170_000+int64(k), 0, "", ""))
	}
	get := func(t, dur int64, msg string) events.Event {
		return message(m.call(t, dur, "queue_get", "queue", "queue 3"), msg, "x")
	}
	evs = append(evs,
		blocked(get(90_000, 11_010, "3.1"), 90_003, 11_003), // woken by producer-1's put
		blocked(get(101_500, 509, "3.2"), 101_502, 503),     // woken by producer-2's put
		get(110_000, 6, "3.3"),                              // put before: no wait
		blocked(get(110_100, 40_910, "3.4"), 110_102, 40_902),
		get(160_000, 6, "3.5"),
		get(160_050, 6, "3.6"),
		failed(blocked(m.call(160_100, 1000, "queue_get", "queue", "queue 3"), 160_101, 999),
			"ETIMEDOUT", "timed out"),
		m.exit(200_000, 0, "", ""),
		endEvent(201_000, "ok", 0),
	)
	return recorded(evs...)
}

// barrier4: MainProcess, two children and a grandchild wait twice on a
// barrier of 4. Process-1:1 starts after Process-2 but sorts under its
// parent, Process-1.
func barrier4() []events.Event {
	m := proc{"MainProcess", 6000}
	p1, p2, p11 := proc{"Process-1", 6001}, proc{"Process-2", 6002}, proc{"Process-1:1", 6003}
	evs := []events.Event{
		runEvent("barrier.wasm"),
		m.start(300, nil),
		m.call(1000, 30, "barrier_new", "barrier", "barrier 2"),
		m.call(2000, 500, "proc_start", "process", p1.name), p1.start(2400, &m),
		m.call(3000, 500, "proc_start", "process", p2.name), p2.start(3400, &m),
		p1.call(5000, 500, "proc_start", "process", p11.name), p11.start(5400, &p1),
	}
	wait := func(p proc, t, release int64, gen int, last bool) events.Event {
		e := generation(p.call(t, release-t, "barrier_wait", "barrier", "barrier 2"), gen)
		if !last {
			e = blocked(e, t+2, release-t-4)
		}
		return e
	}
	evs = append(evs,
		wait(m, 10_000, 10_305, 0, false), wait(p1, 10_100, 10_306, 0, false),
		wait(p2, 10_200, 10_307, 0, false), wait(p11, 10_300, 10_304, 0, true),
		wait(p11, 20_000, 20_160, 1, false), wait(p2, 20_050, 20_161, 1, false),
		wait(m, 20_100, 20_162, 1, false), wait(p1, 20_150, 20_155, 1, true),
		p11.exit(30_000, 0, "", ""), p2.exit(30_100, 0, "", ""), p1.exit(30_200, 0, "", ""),
		m.exit(31_000, 0, "", ""),
		endEvent(31_500, "ok", 0),
	)
	return recorded(evs...)
}

// terminate: MainProcess terminates Process-1 and kills Process-2; the run
// itself kills Process-3 at a limit (no "by").
func terminate() []events.Event {
	m := proc{"MainProcess", 7000}
	p1, p2, p3 := proc{"Process-1", 7001}, proc{"Process-2", 7002}, proc{"Process-3", 7003}
	return recorded(
		runEvent("killing.wasm"),
		m.start(700, nil),
		p1.start(10_000, &m), p2.start(11_000, &m), p3.start(12_000, &m),
		m.print(40_000, "stdout", "terminating"),
		m.call(50_000, 28, "proc_terminate", "process", p1.name),
		p1.exit(50_900, -15, "SIGTERM", m.name),
		m.call(51_000, 3, "proc_join", "process", p1.name),
		m.call(60_000, 20, "proc_kill", "process", p2.name),
		p2.exit(60_500, -9, "SIGKILL", m.name),
		p3.exit(70_000, -9, "SIGKILL", ""),
		m.exit(80_000, 0, "", ""),
		endEvent(81_000, "ok", 0),
	)
}

// Lines the output scenario prints.
var (
	longLine    = strings.Repeat("0123456789", 20)
	unicodeLine = "héllo — ✓ 世界"
	escapeLine  = "quote \" backslash \\ tab \t <script>&amp; \x01 \u2028"
)

// output: lines on stdout and stderr, some while a call waits, one on the
// very microsecond a call begins, one not UTF-8.
func output() []events.Event {
	m, p := proc{"MainProcess", 8000}, proc{"Process-1", 8001}
	return recorded(
		runEvent("print.wasm"),
		m.start(100, nil),
		m.print(1000, "stdout", "hello"),
		m.print(1001, "stdout", ""),
		m.print(1002, "stdout", longLine),
		m.print(1003, "stdout", unicodeLine),
		m.print(1004, "stderr", escapeLine),
		m.call(10_000, 5, "lock_acquire", "lock", "lock 3"),
		m.print(10_000, "stdout", "on the call's start"),
		p.start(12_000, &m),
		blocked(p.call(13_000, 2000, "lock_acquire", "lock", "lock 3"), 13_001, 1998),
		p.print(14_000, "stderr", "Traceback (most recent call last):"),
		p.print(14_001, "stdout", "bad \xff byte"),
		p.exit(16_000, 1, "", ""),
		m.exit(17_000, 0, "", ""),
		endEvent(17_100, "ok", 0),
	)
}

// missingEnd: one message went through; the log dropped the receive of
// another and the put of a third.
func missingEnd() []events.Event {
	m, p := mainProc, process1
	return recorded(
		runEvent("pipes.wasm"),
		m.start(600, nil), p.start(5000, &m),
		message(m.call(10_000, 5, "conn_send", "pipe", "pipe 2"), "2.1.1", "a"),
		message(p.call(10_100, 5, "conn_recv", "pipe", "pipe 2"), "2.1.1", "a"),
		message(m.call(11_000, 5, "conn_send", "pipe", "pipe 2"), "2.1.2", "b"), // receive dropped
		message(p.call(12_000, 5, "queue_get", "queue", "queue 7"), "7.3", "c"), // put dropped
		p.exit(20_000, 0, "", ""), m.exit(21_000, 0, "", ""),
		endEvent(21_100, "ok", 2),
	)
}

// quirks: what a clock with microseconds and a bounded log can produce:
// calls that overlap or take no time, a blocked interval wider than its
// call, a put that waited from its first microsecond, a receive that ended
// in the microsecond its send began (drawn) and one that ended long before
// (not drawn), a line printed on a send's start, and a process with no
// start.
func quirks() []events.Event {
	m, q := proc{"MainProcess", 9000}, proc{"Process-9", 9009}
	return recorded(
		runEvent("quirks.wasm"),
		m.start(10, nil),
		m.call(1000, 50, "lock_acquire", "lock", "lock 3"),
		m.call(1020, 10, "lock_release", "lock", "lock 3"),
		m.call(1030, 100, "lock_acquire", "lock", "lock 3"),
		m.call(2000, 0, "proc_self", "", ""),
		m.call(2000, 0, "proc_self", "", ""),
		m.call(2000, 0, "proc_self", "", ""),
		m.print(2000, "stdout", "same microsecond"),
		blocked(m.call(3000, 10, "event_wait", "event", "event 4"), 2990, 50),
		m.print(3000, "stdout", "again"),
		message(blocked(q.call(6990, 10, "conn_recv", "pipe", "pipe 2"), 6991, 9), "2.1.1", "x"),
		message(m.call(7000, 5, "conn_send", "pipe", "pipe 2"), "2.1.1", "x"),
		m.print(7000, "stdout", "on a send's start"),
		message(q.call(8000, 10, "conn_recv", "pipe", "pipe 2"), "2.1.2", "y"),
		message(blocked(m.call(8500, 10, "queue_put", "queue", "queue 4"), 8500, 9), "4.1", "z"),
		message(q.call(8505, 10, "queue_get", "queue", "queue 4"), "4.1", "z"),
		message(m.call(9500, 5, "conn_send", "pipe", "pipe 2"), "2.1.2", "y"),
		m.exit(10_000, 0, "", ""),
		endEvent(10_100, "ok", 0),
	)
}

// ---- The tests ---------------------------------------------------------

// want is what a scenario's trace must show beyond the checks every trace
// gets (checkTrace).
type want struct {
	tracks  []string // track names in tid order
	flows   int
	blocked int // nested "blocked on" slices
	woken   int // nested "message from" slices
	check   func(t *testing.T, tr *parsed)
}

func TestWrite(t *testing.T) {
	ring := bigLog(5000)
	ringMsgs := completeMessages(ring)
	tests := []struct {
		name string
		evs  []events.Event
		want want
	}{
		{"pipe ping-pong", pingPong(), want{
			tracks: []string{"MainProcess (pid 4100)", "Process-1 (pid 4107)"},
			flows:  6, blocked: 6, woken: 5,
			check: func(t *testing.T, tr *parsed) {
				// Round 1's ping: from MainProcess's conn_send to the slice
				// of Process-1's conn_recv that begins when it woke.
				s, f := tr.flowEnds(t, "2.1.1")
				if s.Name != "conn_send" || f.Name != "message from MainProcess" {
					t.Errorf("flow 2.1.1 binds %q to %q, want conn_send to message from MainProcess", s.Name, f.Name)
				}
				// Round 3's pong: received after it was sent, bound to the call.
				if _, f := tr.flowEnds(t, "5.1.3"); f.Name != "conn_recv" {
					t.Errorf("flow 5.1.3 ends on %q, want conn_recv", f.Name)
				}
				want := map[string]any{"object_name": "pipe 2", "object_kind": "pipe", "result": "ok",
					"size": 4.0, "preview": "ping", "msg": "2.1.1"}
				if got := s.Args; !subset(want, got) {
					t.Errorf("conn_send args = %v, want %v", got, want)
				}
			},
		}},
		{"queue with 3 producers", queue3(), want{
			tracks: []string{"MainProcess (pid 5000)", "producer-1 (pid 5001)", "producer-2 (pid 5002)", "producer-3 (pid 5003)"},
			flows:  6, blocked: 4, woken: 3,
			check: func(t *testing.T, tr *parsed) {
				for id, from := range map[string]string{"3.1": "producer-1", "3.2": "producer-2", "3.4": "producer-1"} {
					if _, f := tr.flowEnds(t, id); f.Name != "message from "+from {
						t.Errorf("flow %s ends on %q, want message from %s", id, f.Name, from)
					}
				}
				if _, f := tr.flowEnds(t, "3.3"); f.Name != "queue_get" {
					t.Errorf("flow 3.3 ends on %q, want queue_get", f.Name)
				}
				if n := len(tr.find("X", "queue_get", func(e *tevent) bool { return e.Args["result"] == "ETIMEDOUT" })); n != 1 {
					t.Errorf("%d queue_get slices with result ETIMEDOUT, want 1", n)
				}
			},
		}},
		{"barrier of 4 with generations", barrier4(), want{
			tracks:  []string{"MainProcess (pid 6000)", "Process-1 (pid 6001)", "Process-1:1 (pid 6003)", "Process-2 (pid 6002)"},
			blocked: 6,
			check: func(t *testing.T, tr *parsed) {
				gens := map[float64]int{}
				for _, e := range tr.find("X", "barrier_wait", nil) {
					g, ok := e.Args["generation"].(float64)
					if !ok {
						t.Errorf("barrier_wait at %v has no generation: %v", e.TS, e.Args)
					}
					gens[g]++
				}
				if gens[0] != 4 || gens[1] != 4 {
					t.Errorf("barrier_wait slices by generation: %v, want 4 of 0 and 4 of 1", gens)
				}
			},
		}},
		{"terminate and kill", terminate(), want{
			tracks: []string{"MainProcess (pid 7000)", "Process-1 (pid 7001)", "Process-2 (pid 7002)", "Process-3 (pid 7003)"},
			check: func(t *testing.T, tr *parsed) {
				for _, c := range []struct{ track, name string }{
					{"MainProcess (pid 7000)", "terminate Process-1"},
					{"MainProcess (pid 7000)", "kill Process-2"},
					{"Process-1 (pid 7001)", "terminated by MainProcess"},
					{"Process-1 (pid 7001)", "exit -15 SIGTERM by MainProcess"},
					{"Process-2 (pid 7002)", "killed by MainProcess"},
					{"Process-2 (pid 7002)", "exit -9 SIGKILL by MainProcess"},
					{"Process-3 (pid 7003)", "exit -9 SIGKILL"},
				} {
					if len(tr.find("i", c.name, tr.on(c.track))) != 1 {
						t.Errorf("no instant %q on %s", c.name, c.track)
					}
				}
				if term := tr.find("X", "proc_terminate", nil); len(term) != 1 || term[0].Args["peer"] != "Process-1" {
					t.Errorf("proc_terminate slices: %v, want one with peer Process-1", term)
				}
				ex := tr.find("i", "exit -15 SIGTERM by MainProcess", nil)
				if len(ex) == 1 && (ex[0].Args["exit_code"] != -15.0 || ex[0].Args["signal"] != "SIGTERM" || ex[0].Args["by"] != "MainProcess") {
					t.Errorf("exit args = %v, want exit_code -15, signal SIGTERM, by MainProcess", ex[0].Args)
				}
			},
		}},
		{"output lines", output(), want{
			tracks:  []string{"MainProcess (pid 8000)", "Process-1 (pid 8001)"},
			blocked: 1,
			check: func(t *testing.T, tr *parsed) {
				bad := tr.find("i", "bad \ufffd byte", nil)
				if len(bad) != 1 || bad[0].Args["text"] != "bad \ufffd byte" {
					t.Errorf("a line with a byte not UTF-8: %v, want it with U+FFFD", bad)
				}
				if n := len(tr.find("i", "(empty line)", nil)); n != 1 {
					t.Errorf("%d instants for the empty line, want 1", n)
				}
			},
		}},
		{"message with a missing end", missingEnd(), want{
			tracks: []string{"MainProcess (pid 4100)", "Process-1 (pid 4107)"},
			flows:  1,
			check: func(t *testing.T, tr *parsed) {
				if tr.other["dropped"] != 2.0 {
					t.Errorf("otherData.dropped = %v, want 2", tr.other["dropped"])
				}
				if n := len(tr.find("i", "verdict: ok (the log dropped 2 events)", nil)); n != 1 {
					t.Errorf("%d verdicts that say the log dropped 2 events, want 1", n)
				}
			},
		}},
		{"ring of 50 processes", ring, want{
			// Every receive waits, and wakes after its send begins.
			tracks: ringTracks(),
			flows:  ringMsgs, blocked: ringMsgs, woken: ringMsgs,
		}},
		{"clock and log quirks", quirks(), want{
			tracks: []string{"MainProcess (pid 9000)", "Process-9 (pid 9009)"},
			flows:  2, blocked: 3, woken: 1,
			check: func(t *testing.T, tr *parsed) {
				if n := len(tr.find("X", "proc_self", nil)); n != 3 {
					t.Errorf("%d proc_self slices, want 3 (calls of no time kept apart)", n)
				}
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.evs); err != nil {
				t.Fatal(err)
			}
			tr := checkTrace(t, buf.Bytes(), tt.evs)
			w := tt.want
			if got := tr.trackNames(); !slices.Equal(got, w.tracks) {
				t.Errorf("tracks = %q, want %q", got, w.tracks)
			}
			if got := len(tr.flows); got != w.flows {
				t.Errorf("%d flows, want %d", got, w.flows)
			}
			if got := len(tr.find("X", "blocked on *", nil)); got != w.blocked {
				t.Errorf("%d blocked slices, want %d", got, w.blocked)
			}
			if got := len(tr.find("X", "message from *", nil)); got != w.woken {
				t.Errorf("%d message-from slices, want %d", got, w.woken)
			}
			if w.check != nil {
				w.check(t, tr)
			}
			if t.Failed() {
				t.Logf("trace:\n%s", buf.Bytes())
			}
		})
	}
}

// TestWriteDoesNotModify: Write leaves the caller's events as they were.
func TestWriteDoesNotModify(t *testing.T) {
	evs := pingPong()
	before := slices.Clone(evs)
	if err := Write(&bytes.Buffer{}, evs); err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if fmt.Sprint(evs[i]) != fmt.Sprint(before[i]) {
			t.Fatalf("event %d changed: %+v, was %+v", i, evs[i], before[i])
		}
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return w.n, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	for _, n := range []int{0, 100, 70 << 10} {
		err := Write(&failingWriter{n}, bigLog(2000))
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("writer failing after %d bytes: err = %v, want one that wraps disk full", n, err)
		}
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	checkTrace(t, buf.Bytes(), nil)
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 80, "short"},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"ééééééé", 3, "éé…"},
	}
	for _, tt := range tests {
		if got := cut(tt.in, tt.n); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for ns, want := range map[int64]string{0: "0", 1: "0.001", 1500: "1.5", 2000: "2", 123456789: "123456.789", 10: "0.01"} {
		if got := string(appendTime(nil, ns)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ns, got, want)
		}
	}
}

// TestRealEvents converts the JSONL log named by SANDBOX_EVENTS (from
// `sandbox run --events FILE`) and checks its trace like the synthetic
// ones; it writes the trace beside the log as FILE.trace.json, to open in
// ui.perfetto.dev.
func TestRealEvents(t *testing.T) {
	path := os.Getenv("SANDBOX_EVENTS")
	if path == "" {
		t.Skip("SANDBOX_EVENTS is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := events.ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, evs); err != nil {
		t.Fatal(err)
	}
	tr := checkTrace(t, buf.Bytes(), evs)
	if want := completeMessages(evs); len(tr.flows) != want {
		t.Errorf("%d flows, want %d (the messages with both ends in the log)", len(tr.flows), want)
	}
	out := strings.TrimSuffix(path, filepath.Ext(path)) + ".trace.json"
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d tracks, %d flows: %s", len(evs), len(tr.names), len(tr.flows), out)
}

// completeMessages counts the messages of a log with both ends.
func completeMessages(evs []events.Event) int {
	made, taken := map[string]int{}, map[string]int{}
	for _, e := range evs {
		switch {
		case e.Msg == "":
		case e.Op == "conn_send" || e.Op == "queue_put":
			made[e.Msg]++
		case e.Op == "conn_recv" || e.Op == "queue_get":
			taken[e.Msg]++
		}
	}
	n := 0
	for m, k := range made {
		n += min(k, taken[m])
	}
	return n
}

// bigLog is a log of about n events: 50 processes passing messages around a
// ring, each receiver waiting before its sender calls, with some output.
func bigLog(n int) []events.Event {
	procs := make([]proc, 50)
	evs := []events.Event{runEvent("big.wasm")}
	for i := range procs {
		procs[i] = proc{fmt.Sprintf("Process-%d", i), 10_000 + i}
		var parent *proc
		if i == 0 {
			procs[i].name = "MainProcess"
		} else {
			parent = &procs[0]
		}
		evs = append(evs, procs[i].start(int64(i)*100, parent))
	}
	for k := 0; len(evs) < n-len(procs)-1; k++ {
		base := 10_000 + int64(k)*100
		from, to := procs[k%len(procs)], procs[(k+1)%len(procs)]
		id := fmt.Sprintf("2.%d", k)
		evs = append(evs,
			message(blocked(to.call(base, 62, "conn_recv", "pipe", "pipe 2"), base+2, 58), id, "v"),
			message(from.call(base+50, 3, "conn_send", "pipe", "pipe 2"), id, "v"))
		if k%10 == 0 {
			evs = append(evs, from.print(base+55, "stdout", fmt.Sprintf("round %d", k)))
		}
	}
	end := 10_000 + int64(len(evs))*100
	for i, p := range procs {
		evs = append(evs, p.exit(end+int64(i), 0, "", ""))
	}
	return recorded(append(evs, endEvent(end+100, "ok", 0))...)
}

// subset reports whether every key of want is in got with the same value.
func subset(want, got map[string]any) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// ringTracks are the tracks of bigLog: MainProcess, then its children.
func ringTracks() []string {
	out := []string{"MainProcess (pid 10000)"}
	for i := 1; i < 50; i++ {
		out = append(out, fmt.Sprintf("Process-%d (pid %d)", i, 10_000+i))
	}
	return out
}

// TestLarge converts 100,000 events and logs how long it took (it asserts
// no time: machines differ).
func TestLarge(t *testing.T) {
	evs := bigLog(100_000)
	var buf bytes.Buffer
	start := time.Now()
	if err := Write(&buf, evs); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("%d events to %d bytes of trace in %v", len(evs), buf.Len(), took)
	// The structure is checked at a smaller scale (TestWrite's ring); here,
	// that the JSON is whole and every message is drawn.
	if !json.Valid(buf.Bytes()) {
		t.Fatal("the trace is not valid JSON")
	}
	var file struct {
		OtherData struct{ Flows int } `json:"otherData"`
	}
	if err := json.Unmarshal(buf.Bytes(), &file); err != nil {
		t.Fatal(err)
	}
	if want := completeMessages(evs); file.OtherData.Flows != want {
		t.Errorf("%d flows, want %d", file.OtherData.Flows, want)
	}
}

func BenchmarkWrite(b *testing.B) {
	evs := bigLog(100_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs)), "events/op")
}

// ---- Checking a trace --------------------------------------------------

// tevent is an event of a trace as read back.
type tevent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Dur  *float64       `json:"dur"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	ID   *int           `json:"id"`
	BP   string         `json:"bp"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`

	i int // place in the file
}

func (e *tevent) ts() int64 { return int64(math.Round(e.TS * 1000)) }

func (e *tevent) dur() int64 {
	if e.Dur == nil {
		return 0
	}
	return int64(math.Round(*e.Dur * 1000))
}

func (e *tevent) end() int64 { return e.ts() + e.dur() }

type trackID struct{ pid, tid int }

// parsed is a trace read back and checked.
type parsed struct {
	events []*tevent
	names  map[trackID]string
	sort   map[trackID]int
	other  map[string]any
	// flows maps a flow id to its start and finish, and the slices each
	// binds to by Perfetto's rule.
	flows map[int]*tflow
}

type tflow struct {
	s, f           *tevent
	sSlice, fSlice *tevent
}

func (tr *parsed) trackNames() []string {
	var ids []trackID
	for id := range tr.names {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b trackID) int { return cmp.Compare(a.tid, b.tid) })
	var out []string
	for _, id := range ids {
		out = append(out, tr.names[id])
	}
	return out
}

// find returns the events of phase ph named name (a trailing * matches
// any end) that also satisfy keep (nil: all).
func (tr *parsed) find(ph, name string, keep func(*tevent) bool) []*tevent {
	var out []*tevent
	for _, e := range tr.events {
		ok := e.Name == name
		if prefix, found := strings.CutSuffix(name, "*"); found {
			ok = strings.HasPrefix(e.Name, prefix)
		}
		if e.Ph == ph && ok && (keep == nil || keep(e)) {
			out = append(out, e)
		}
	}
	return out
}

// on is a find filter: events on the track named name.
func (tr *parsed) on(name string) func(*tevent) bool {
	return func(e *tevent) bool { return tr.names[trackID{e.PID, e.TID}] == name }
}

// flowEnds returns the slices the flow of message msg binds to.
func (tr *parsed) flowEnds(t *testing.T, msg string) (s, f *tevent) {
	t.Helper()
	for _, fl := range tr.flows {
		if fl.s.Args["msg"] == msg {
			return fl.sSlice, fl.fSlice
		}
	}
	t.Fatalf("no flow for message %s", msg)
	return nil, nil
}

// checkTrace checks what every trace of evs must be, and returns it read
// back: well-formed JSON in the object form; every track named; per track,
// timestamps monotonic in the file and slices nested without partial
// overlap; every flow start with exactly one finish of the same id, cat and
// name, not before it, each bound (by Perfetto's rule and by
// chrome://tracing's, which must agree) to a send or put and to a receive
// or get or the slice nested in it where the receiver woke, the first
// beginning no later than the second; a named instant per exit and per
// output line, with the line's text; the verdict.
func checkTrace(t *testing.T, data []byte, evs []events.Event) *parsed {
	t.Helper()
	var file struct {
		TraceEvents     []*tevent      `json:"traceEvents"`
		DisplayTimeUnit string         `json:"displayTimeUnit"`
		OtherData       map[string]any `json:"otherData"`
	}
	if !json.Valid(data) {
		t.Fatalf("the trace is not valid JSON")
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("the trace does not read back: %v", err)
	}
	if file.DisplayTimeUnit != "ms" {
		t.Errorf("displayTimeUnit = %q, want ms", file.DisplayTimeUnit)
	}
	tr := &parsed{events: file.TraceEvents, names: map[trackID]string{}, sort: map[trackID]int{},
		other: file.OtherData, flows: map[int]*tflow{}}
	procNamed := map[int]bool{}
	for i, e := range tr.events {
		e.i = i
		if e.Ph != "M" {
			continue
		}
		id := trackID{e.PID, e.TID}
		switch e.Name {
		case "process_name":
			procNamed[e.PID] = true
		case "thread_name":
			name, _ := e.Args["name"].(string)
			if name == "" {
				t.Errorf("thread_name of %v without a name", id)
			}
			tr.names[id] = name
		case "thread_sort_index":
			n, _ := e.Args["sort_index"].(float64)
			tr.sort[id] = int(n)
		}
	}
	checkTracks(t, tr, procNamed)
	checkNesting(t, tr)
	checkFlows(t, tr)
	checkInstants(t, tr, evs)
	return tr
}

// checkTracks: every event is on a named track of a named process; the
// tracks are in thread_sort_index order; timestamps never go back on a
// track.
func checkTracks(t *testing.T, tr *parsed, procNamed map[int]bool) {
	t.Helper()
	last := map[trackID]int64{}
	for _, e := range tr.events {
		id := trackID{e.PID, e.TID}
		if !procNamed[e.PID] {
			t.Errorf("event %d (%s %q) is in pid %d, which has no process_name", e.i, e.Ph, e.Name, e.PID)
		}
		if e.Ph == "M" || e.S == "g" {
			continue
		}
		if _, ok := tr.names[id]; !ok {
			t.Errorf("event %d (%s %q) is on track %v, which has no thread_name", e.i, e.Ph, e.Name, id)
		}
		if e.ts() < last[id] {
			t.Errorf("event %d (%s %q) at %v goes back in time on track %v", e.i, e.Ph, e.Name, e.TS, id)
		}
		last[id] = e.ts()
	}
	for id, tid := range tr.sort {
		if id.tid != tid {
			t.Errorf("track %v has thread_sort_index %d: Perfetto orders by tid, so they must agree", id, tid)
		}
	}
}

// checkNesting: on each track, in file order, a slice either begins after
// the open ones end or ends within the innermost.
func checkNesting(t *testing.T, tr *parsed) {
	t.Helper()
	stacks := map[trackID][]*tevent{}
	for _, e := range tr.events {
		if e.Ph != "X" {
			continue
		}
		if e.Dur == nil || e.dur() <= 0 {
			t.Errorf("slice %d %q has no positive dur", e.i, e.Name)
		}
		id := trackID{e.PID, e.TID}
		st := stacks[id]
		for len(st) > 0 && st[len(st)-1].end() <= e.ts() {
			st = st[:len(st)-1]
		}
		if len(st) > 0 && e.end() > st[len(st)-1].end() {
			top := st[len(st)-1]
			t.Errorf("slice %q [%v, +%v] overlaps %q [%v, +%v] on track %v",
				e.Name, e.TS, *e.Dur, top.Name, top.TS, *top.Dur, id)
		}
		// A blocked slice, or one where a receiver woke, is inside its call.
		if e.Cat == "blocked" || e.Cat == "msg" {
			if len(st) == 0 || st[len(st)-1].Cat == "blocked" || st[len(st)-1].Cat == "msg" {
				t.Errorf("slice %q at %v is not inside a call", e.Name, e.TS)
			}
		}
		stacks[id] = append(st, e)
	}
}

// checkFlows checks the flows and binds them as Perfetto does: it reads
// events by time, slices of a time first (longest first), the rest in the
// file's order, and binds a flow event to the slice on top of its track's
// stack (which only the next slice's arrival pops). chrome://tracing binds
// to the innermost slice that contains the time; both must agree.
func checkFlows(t *testing.T, tr *parsed) {
	t.Helper()
	order := slices.Clone(tr.events)
	key := func(e *tevent) int64 {
		if e.Ph == "X" {
			return -e.dur()
		}
		return 0
	}
	slices.SortStableFunc(order, func(a, b *tevent) int {
		return cmp.Or(cmp.Compare(a.ts(), b.ts()), cmp.Compare(key(a), key(b)))
	})
	type binding struct{ flow, slice *tevent }
	var bindings []binding
	stacks := map[trackID][]*tevent{}
	byTrack := map[trackID][]*tevent{} // slices and thread instants, by time
	for _, e := range order {
		id := trackID{e.PID, e.TID}
		switch {
		case e.Ph == "X" || (e.Ph == "i" && e.S == "t"):
			st := stacks[id]
			for len(st) > 0 {
				top := st[len(st)-1]
				if top.end() < e.ts() || (top.end() == e.ts() && !(top.dur() == 0 && e.dur() == 0)) {
					st = st[:len(st)-1]
					continue
				}
				break
			}
			stacks[id] = append(st, e)
			byTrack[id] = append(byTrack[id], e)
		case e.Ph == "s" || e.Ph == "f":
			if e.ID == nil {
				t.Errorf("flow event %d has no id", e.i)
				continue
			}
			st := stacks[id]
			var bound *tevent
			if len(st) > 0 {
				bound = st[len(st)-1]
			}
			fl := tr.flows[*e.ID]
			if fl == nil {
				fl = &tflow{}
				tr.flows[*e.ID] = fl
			}
			if e.Ph == "s" {
				if fl.s != nil {
					t.Errorf("flow %d starts twice", *e.ID)
				}
				fl.s, fl.sSlice = e, bound
			} else {
				if fl.f != nil {
					t.Errorf("flow %d finishes twice", *e.ID)
				}
				if fl.s == nil {
					t.Errorf("flow %d finishes (event %d) before it starts: Perfetto drops it", *e.ID, e.i)
				}
				if e.BP != "e" {
					t.Errorf("flow %d finish has bp %q, want e", *e.ID, e.BP)
				}
				fl.f, fl.fSlice = e, bound
			}
			if bound == nil {
				t.Errorf("flow event %d (id %d) has no slice to bind to", e.i, *e.ID)
				continue
			}
			bindings = append(bindings, binding{e, bound})
		}
	}
	for _, b := range bindings {
		if deep := innermost(byTrack[trackID{b.flow.PID, b.flow.TID}], b.flow.ts()); deep != b.slice {
			t.Errorf("flow event %d (id %d) binds to %q in Perfetto but to %v in chrome://tracing",
				b.flow.i, *b.flow.ID, b.slice.Name, deep)
		}
	}
	for id, fl := range tr.flows {
		if fl.s == nil || fl.f == nil || fl.sSlice == nil || fl.fSlice == nil {
			t.Errorf("flow %d lacks an end: %+v", id, fl)
			continue
		}
		if fl.s.Cat != fl.f.Cat || fl.s.Name != fl.f.Name {
			t.Errorf("flow %d: start %s/%s, finish %s/%s: cat and name must match", id, fl.s.Cat, fl.s.Name, fl.f.Cat, fl.f.Name)
		}
		if fl.f.ts() < fl.s.ts() || fl.f.i < fl.s.i {
			t.Errorf("flow %d finishes at %v (event %d), before its start at %v (event %d)", id, fl.f.TS, fl.f.i, fl.s.TS, fl.s.i)
		}
		if n := fl.sSlice.Name; n != "conn_send" && n != "queue_put" {
			t.Errorf("flow %d starts on %q, want a send or put", id, n)
		}
		if n := fl.fSlice.Name; n != "conn_recv" && n != "queue_get" && !strings.HasPrefix(n, "message from ") {
			t.Errorf("flow %d finishes on %q, want a receive or get", id, n)
		}
		if fl.fSlice.ts() < fl.sSlice.ts() {
			t.Errorf("flow %d: its receiving slice begins before its sending one: Perfetto would draw it backwards", id)
		}
		if fl.sSlice.ts() != fl.s.ts() || fl.fSlice.ts() != fl.f.ts() {
			t.Errorf("flow %d: its events are not on their slices' starts", id)
		}
	}
}

// innermost is chrome://tracing's binding, on exact times: the innermost
// slice (or thread instant, a slice of no length) that contains ts, ends
// included. track is sorted by time, a slice before those it holds; of
// nested slices the innermost begins last, so it is the first found going
// back from ts.
func innermost(track []*tevent, ts int64) *tevent {
	i, _ := slices.BinarySearchFunc(track, ts+1, func(e *tevent, ts int64) int { return cmp.Compare(e.ts(), ts) })
	for i--; i >= 0; i-- {
		if track[i].end() >= ts {
			return track[i]
		}
	}
	return nil
}

// checkInstants: an instant named "exit..." for every exit event, one
// named by its text for every output line (cut to maxName characters),
// with the text and stream in its args; a global instant for the verdict.
func checkInstants(t *testing.T, tr *parsed, evs []events.Event) {
	t.Helper()
	exits := tr.find("i", "exit*", nil)
	lines := map[string][]*tevent{}
	for _, e := range tr.find("i", "*", func(e *tevent) bool { return e.Cat == "stdout" || e.Cat == "stderr" }) {
		text, _ := e.Args["text"].(string)
		lines[text] = append(lines[text], e)
	}
	nExit := 0
	for _, e := range evs {
		switch e.Type {
		case events.TypeExit:
			nExit++
		case events.TypeOutput:
			if !utf8.ValidString(e.Text) {
				continue // checked by its scenario
			}
			got := lines[e.Text]
			if len(got) == 0 {
				t.Errorf("no instant for line %q", e.Text)
				continue
			}
			in := got[0]
			lines[e.Text] = got[1:]
			if in.Args["stream"] != e.Stream {
				t.Errorf("line %q: stream %v, want %s", e.Text, in.Args["stream"], e.Stream)
			}
			want := e.Text
			if utf8.RuneCountInString(want) > maxName {
				want = string([]rune(want)[:maxName-1]) + "…"
			}
			if want == "" {
				want = "(empty line)"
			}
			if in.Name != want {
				t.Errorf("line %q: instant named %q, want %q", e.Text, in.Name, want)
			}
		case events.TypeEnd:
			if len(tr.find("i", "verdict: "+e.Verdict+"*", func(e *tevent) bool { return e.S == "g" })) != 1 {
				t.Errorf("no global instant for the verdict %q", e.Verdict)
			}
		}
	}
	if len(exits) != nExit {
		t.Errorf("%d exit instants, want %d (one per exit)", len(exits), nExit)
	}
}
