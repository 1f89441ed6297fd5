package timeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// The process names and pids of the known run.
const (
	mainName, mainPID = "MainProcess", 4100
	p1Name, p1PID     = "Process-1", 4101
	p2Name, p2PID     = "Process-2", 4102
)

// evilLine is a line of output that would end the events' <script> element,
// and run a script, were it not escaped.
const evilLine = `</script><script>window.__pwned=1</script> & <!-- all done`

// record numbers events in the order the host records them (a call when it
// ends, everything else when it happens), as events.Log does.
func record(evs []events.Event) []events.Event {
	at := func(e events.Event) int64 { return e.T + e.Dur }
	sort.SliceStable(evs, func(i, j int) bool { return at(evs[i]) < at(evs[j]) })
	for i := range evs {
		evs[i].Seq = int64(i) + 1
	}
	return evs
}

func intp(n int) *int { return &n }

// knownRun is a small, realistic run: MainProcess starts Process-1 and
// Process-2; Process-1 sends 3 messages on a pipe to MainProcess and puts 2
// on a queue, of which Process-2 gets one; all three meet at a barrier;
// MainProcess joins Process-1, terminates Process-2 (SIGTERM) and joins it.
func knownRun() []events.Event {
	pipe := func(e events.Event) events.Event {
		e.Object, e.ObjectKind, e.ObjectName = 1, "pipe", "pipe 1"
		return e
	}
	queue := func(e events.Event) events.Event {
		e.Object, e.ObjectKind, e.ObjectName = 3, "queue", "queue 3"
		return e
	}
	barrier := func(e events.Event) events.Event {
		e.Object, e.ObjectKind, e.ObjectName, e.Generation = 4, "barrier", "barrier 4", intp(0)
		return e
	}
	call := func(name string, pid int, t, dur int64, op string) events.Event {
		return events.Event{T: t, Type: events.TypeCall, Process: name, PID: pid, Op: op, Result: "ok", Dur: dur}
	}
	blocked := func(e events.Event, from, dur int64) events.Event {
		e.Blocked, e.BlockedDur = from, dur
		return e
	}
	msg := func(e events.Event, id string, size int, preview string) events.Event {
		e.Msg, e.Size, e.Preview = id, size, preview
		return e
	}
	proc := func(e events.Event, peer string, handle int32) events.Event {
		e.Peer, e.Object, e.ObjectKind, e.ObjectName = peer, handle, "process", peer
		return e
	}
	out := func(name string, pid int, t int64, stream, text string) events.Event {
		return events.Event{T: t, Type: events.TypeOutput, Process: name, PID: pid, Stream: stream, Text: text}
	}
	return record([]events.Event{
		{T: 0, Type: events.TypeRun, Module: "pipes_and_queues.wasm", Args: []string{"--workers", "2"}, Version: events.Version},
		{T: 120, Type: events.TypeStart, Process: mainName, PID: mainPID},
		pipe(call(mainName, mainPID, 900, 15, "pipe_new")),
		queue(call(mainName, mainPID, 950, 12, "queue_new")),
		barrier(call(mainName, mainPID, 1000, 10, "barrier_new")),
		proc(call(mainName, mainPID, 1100, 300, "proc_start"), p1Name, 5),
		{T: 1250, Type: events.TypeStart, Process: p1Name, PID: p1PID, Parent: mainName, ParentPID: mainPID, Target: "worker"},
		proc(call(mainName, mainPID, 1500, 280, "proc_start"), p2Name, 6),
		{T: 1650, Type: events.TypeStart, Process: p2Name, PID: p2PID, Parent: mainName, ParentPID: mainPID, Target: "consumer"},

		msg(blocked(pipe(call(mainName, mainPID, 2000, 1030, "conn_recv")), 2010, 1005), "pipe1:1", 18, "('result', 1)"),
		msg(blocked(queue(call(p2Name, p2PID, 2200, 5840, "queue_get")), 2210, 5820), "queue3:1", 12, "'job-1'"),
		msg(pipe(call(p1Name, p1PID, 3000, 20, "conn_send")), "pipe1:1", 18, "('result', 1)"),
		msg(pipe(call(p1Name, p1PID, 5000, 20, "conn_send")), "pipe1:2", 18, "('result', 2)"),
		msg(pipe(call(mainName, mainPID, 5500, 12, "conn_recv")), "pipe1:2", 18, "('result', 2)"),
		msg(pipe(call(p1Name, p1PID, 7000, 20, "conn_send")), "pipe1:3", 18, "('result', 3)"),
		msg(pipe(call(mainName, mainPID, 7100, 10, "conn_recv")), "pipe1:3", 18, "('result', 3)"),
		msg(queue(call(p1Name, p1PID, 8000, 25, "queue_put")), "queue3:1", 12, "'job-1'"),
		msg(queue(call(p1Name, p1PID, 8100, 20, "queue_put")), "queue3:2", 12, "'job-2'"),

		blocked(barrier(call(mainName, mainPID, 9000, 6000, "barrier_wait")), 9010, 5985),
		blocked(barrier(call(p1Name, p1PID, 9500, 5510, "barrier_wait")), 9510, 5480),
		barrier(call(p2Name, p2PID, 15000, 15, "barrier_wait")),

		out(mainName, mainPID, 15100, "stdout", "main: got 3 results"),
		blocked(proc(call(mainName, mainPID, 15150, 900, "proc_join"), p1Name, 5), 15160, 880),
		out(p1Name, p1PID, 15200, "stdout", "worker 1: sent 3 results"),
		out(p2Name, p2PID, 15300, "stdout", "worker 2: waiting for more jobs"),
		{T: 16000, Type: events.TypeExit, Process: p1Name, PID: p1PID, ExitCode: intp(0)},
		out(p2Name, p2PID, 16500, "stderr", "worker 2: queue empty, retrying"),
		out(mainName, mainPID, 17000, "stderr", "main: worker 2 is stuck, terminating it"),
		proc(call(mainName, mainPID, 17100, 40, "proc_terminate"), p2Name, 6),
		blocked(proc(call(mainName, mainPID, 17150, 300, "proc_join"), p2Name, 6), 17160, 280),
		{T: 17400, Type: events.TypeExit, Process: p2Name, PID: p2PID, ExitCode: intp(-15), Signal: "SIGTERM", By: mainName},
		out(mainName, mainPID, 17600, "stdout", evilLine),
		{T: 18000, Type: events.TypeExit, Process: mainName, PID: mainPID, ExitCode: intp(0)},
		{T: 18200, Type: events.TypeEnd, Verdict: "ok", Explanation: "MainProcess exited with 0"},
	})
}

// largeRun is a synthetic run of procs processes and exactly n events:
// every child puts results on a queue that MainProcess gets, sends on its
// own pipe, waits on a lock now and then, and prints; MainProcess
// terminates every seventh child at the end.
func largeRun(procs, n int) []events.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	const step = 150 // µs between two steps of the run
	name := func(i int) string {
		if i == 0 {
			return mainName
		}
		return fmt.Sprintf("Process-%d", i)
	}
	pid := func(i int) int { return 20000 + i }
	evs := []events.Event{
		{T: 0, Type: events.TypeRun, Module: "large.wasm", Version: events.Version},
		{T: 100, Type: events.TypeStart, Process: mainName, PID: pid(0)},
	}
	for i := 1; i < procs; i++ {
		t := int64(200 + 300*i)
		evs = append(evs,
			events.Event{T: t, Type: events.TypeCall, Process: mainName, PID: pid(0), Op: "proc_start", Result: "ok", Dur: 250, Peer: name(i), Object: int32(100 + i), ObjectKind: "process", ObjectName: name(i)},
			events.Event{T: t + 150, Type: events.TypeStart, Process: name(i), PID: pid(i), Parent: mainName, ParentPID: pid(0), Target: "work"})
	}
	// Room for the exits, the terminates and the end.
	killed := (procs - 1) / 7
	last := n - procs - killed - 1
	t := int64(200 + 300*procs)
	for k := 0; len(evs) < last-3; k++ {
		c := 1 + k%(procs-1)
		t += int64(step/2 + rng.IntN(step))
		id := fmt.Sprintf("q:%d", k)
		put := events.Event{T: t, Type: events.TypeCall, Process: name(c), PID: pid(c), Op: "queue_put", Result: "ok", Dur: 15,
			Object: 3, ObjectKind: "queue", ObjectName: "queue 3", Msg: id, Size: 24, Preview: fmt.Sprintf("('result', %d)", k)}
		get := events.Event{T: t - int64(rng.IntN(400)), Type: events.TypeCall, Process: mainName, PID: pid(0), Op: "queue_get", Result: "ok",
			Object: 3, ObjectKind: "queue", ObjectName: "queue 3", Msg: id, Size: 24, Preview: put.Preview}
		get.Dur = t + 40 - get.T
		if get.Dur > 60 {
			get.Blocked, get.BlockedDur = get.T+5, get.Dur-10
		}
		evs = append(evs, put, get)
		switch {
		case k%4 == 0:
			wait := int64(100 + rng.IntN(3000))
			evs = append(evs, events.Event{T: t + 20, Type: events.TypeCall, Process: name(c), PID: pid(c), Op: "lock_acquire", Result: "ok", Dur: wait + 10,
				Object: 7, ObjectKind: "lock", ObjectName: "lock 7", Blocked: t + 25, BlockedDur: wait})
		case k%4 == 1:
			pipe := fmt.Sprintf("pipe %d", 200+c)
			evs = append(evs,
				events.Event{T: t + 30, Type: events.TypeCall, Process: name(c), PID: pid(c), Op: "conn_send", Result: "ok", Dur: 12,
					Object: int32(200 + c), ObjectKind: "pipe", ObjectName: pipe, Msg: fmt.Sprintf("p:%d", k), Size: 8},
				events.Event{T: t + 60, Type: events.TypeCall, Process: mainName, PID: pid(0), Op: "conn_recv", Result: "ok", Dur: 10,
					Object: int32(300 + c), ObjectKind: "pipe", ObjectName: pipe, Msg: fmt.Sprintf("p:%d", k), Size: 8})
		case k%4 == 2:
			evs = append(evs, events.Event{T: t + 30, Type: events.TypeOutput, Process: name(c), PID: pid(c), Stream: "stdout", Text: fmt.Sprintf("%s: step %d done", name(c), k)})
		default:
			evs = append(evs, events.Event{T: t + 30, Type: events.TypeCall, Process: name(c), PID: pid(c), Op: "queue_info", Result: "ok", Dur: 3,
				Object: 3, ObjectKind: "queue", ObjectName: "queue 3"})
		}
	}
	for len(evs) < last {
		t += 50
		evs = append(evs, events.Event{T: t, Type: events.TypeCall, Process: mainName, PID: pid(0), Op: "queue_info", Result: "ok", Dur: 3,
			Object: 3, ObjectKind: "queue", ObjectName: "queue 3"})
	}
	for i := 1; i < procs; i++ {
		t += 200
		if i%7 == 0 {
			evs = append(evs, events.Event{T: t, Type: events.TypeCall, Process: mainName, PID: pid(0), Op: "proc_terminate", Result: "ok", Dur: 30,
				Peer: name(i), Object: int32(100 + i), ObjectKind: "process", ObjectName: name(i)})
			evs = append(evs, events.Event{T: t + 100, Type: events.TypeExit, Process: name(i), PID: pid(i), ExitCode: intp(-15), Signal: "SIGTERM", By: mainName})
			continue
		}
		evs = append(evs, events.Event{T: t, Type: events.TypeExit, Process: name(i), PID: pid(i), ExitCode: intp(0)})
	}
	evs = append(evs,
		events.Event{T: t + 500, Type: events.TypeExit, Process: mainName, PID: pid(0), ExitCode: intp(0)},
		events.Event{T: t + 600, Type: events.TypeEnd, Verdict: "ok", Explanation: "MainProcess exited with 0"})
	return record(evs)
}

func render(t testing.TB, evs []events.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, evs); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

var cspMeta = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)

var eventsScript = regexp.MustCompile(`(?s)<script type="application/json" id="events">(.*?)</script>`)

// TestWriteEmbedsEvents checks that the events go in whole, and that no text
// of the run can end their <script> element or open a comment.
func TestWriteEmbedsEvents(t *testing.T) {
	evs := knownRun()
	page := render(t, evs)
	if bytes.Contains(page, []byte("<script>window.__pwned")) {
		t.Errorf("the page holds the raw line %q: it would run as a script", evilLine)
	}
	m := eventsScript.FindSubmatch(page)
	if m == nil {
		t.Fatal(`the page has no <script type="application/json" id="events"> element`)
	}
	if bytes.Contains(m[1], []byte("<")) || bytes.Contains(m[1], []byte(">")) {
		t.Errorf("the events' JSON holds a raw < or >: %.200s", m[1])
	}
	var got []events.Event
	if err := json.Unmarshal(m[1], &got); err != nil {
		t.Fatalf("the embedded events are not JSON: %v", err)
	}
	want, _ := json.Marshal(evs)
	again, _ := json.Marshal(got)
	if !bytes.Equal(want, again) {
		t.Errorf("the embedded events differ from those written:\n got %.300s\nwant %.300s", again, want)
	}
}

// TestWriteSelfContained checks that the page refers to nothing outside
// itself, and that its policy forbids loading anything.
func TestWriteSelfContained(t *testing.T) {
	page := string(render(t, knownRun()))
	for _, bad := range []string{"src=", "href=", "@import", "url(http", "url(//", "<link", "<iframe"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q: it should load nothing", bad)
		}
	}
	m := cspMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page has no Content-Security-Policy")
	}
	csp := html.UnescapeString(m[1])
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the page's policy %q lacks default-src 'none'", csp)
	}
	if !strings.Contains(csp, "script-src "+scriptHash()+";") {
		t.Errorf("the page's policy %q does not allow its script by hash %s", csp, scriptHash())
	}
	for _, bad := range []string{"</script", "<!--"} {
		if strings.Contains(pageScript, bad) {
			t.Errorf("timeline.js holds %q, which would end its <script> element early", bad)
		}
	}
}

// TestWriteHeader checks the header's text, taken from the run and end
// events, and what a log without them shows.
func TestWriteHeader(t *testing.T) {
	page := string(render(t, knownRun()))
	for _, want := range []string{
		`<title>pipes_and_queues.wasm – sandbox timeline</title>`,
		`data-module="pipes_and_queues.wasm"`,
		`<span class="args">--workers 2</span>`,
		`<span class="verdict" data-verdict="ok">ok</span>`,
		`<span class="explanation">MainProcess exited with 0</span>`,
		`3 processes`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	cut := knownRun()[1:12]
	page = string(render(t, cut))
	if !strings.Contains(page, "no end event") || !strings.Contains(page, "(no run event)") {
		t.Error("a log without run and end events should say so in the header")
	}
	if page := string(render(t, nil)); !strings.Contains(page, `id="events">[]</script>`) {
		t.Error("no events should embed an empty array")
	}
}

// TestLargeRunShape checks the synthetic large run itself, so that the
// browser test's numbers mean what they say.
func TestLargeRunShape(t *testing.T) {
	evs := largeRun(50, 100_000)
	if len(evs) != 100_000 {
		t.Fatalf("largeRun made %d events, want 100000", len(evs))
	}
	starts := 0
	for _, e := range evs {
		if e.Type == events.TypeStart {
			starts++
		}
	}
	if starts != 50 {
		t.Errorf("largeRun started %d processes, want 50", starts)
	}
}
