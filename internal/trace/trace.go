// Package trace writes the event log of a run (package events) in the
// Chrome Trace Event Format, the JSON object that Perfetto
// (ui.perfetto.dev) and chrome://tracing open: a track per guest process, a
// slice per call with a nested slice for the time it was blocked, an arrow
// per message from the send or put that made it to the receive or get that
// took it, instants for starts, exits, terminations and kills and for every
// output line, and the run's verdict as a global instant.
//
// # Tracks
//
// The run is one trace process (pid 1, named after the module) and each
// guest process is one of its threads, named "NAME (pid N)" with N its
// runner's OS pid. Perfetto draws every trace process as a group of its own,
// collapsed, and orders the groups by activity, so a trace process per guest
// would scatter parents and children; the threads of one process sit in one
// group, which Perfetto orders by tid (it ignores thread_sort_index). So the
// tid is the track's place, not an OS id: 1, 2, 3, ... in depth-first order
// of the start events, each process followed by its children in the order
// they started. thread_sort_index says the same to chrome://tracing.
// Events find their track by the runner's pid (a pid started again is a new
// track), or by the process's name when they have no pid; processes seen
// without a start event come last.
//
// A call is a slice named after its op ("conn_recv") with the event's
// fields in its args; the time it waited is a slice inside it, "blocked on
// pipe 2". A start, an exit ("exit -15 SIGTERM by MainProcess"), a
// terminate or kill (on the caller's track, and on the target's when it
// succeeded) and an output line (named by its first 80 characters, the
// whole line and its stream in args) are instants on the process's track.
//
// # Time
//
// Events carry whole microseconds since the run started; the trace keeps
// microseconds, the unit of the format, with up to three decimals. Where a
// well-formed trace needs it, the writer moves a slice or instant by a few
// nanoseconds, which no viewer shows at the scale of a call: the calls of a
// process never overlap and last at least 1 ns, a nested slice starts after
// the call that holds it, and no instant sits on the start of a slice of its
// track. Events are written in time order, so every track's timestamps are
// monotonic in the file. (chrome://tracing nests slices at microsecond
// precision, so calls of one process less than a microsecond apart, which
// the host's round trips make rare, may show stacked there.)
//
// # Messages
//
// A message is a flow: "s" at the send or put, "f" with "bp":"e" at the
// receive or get, one id per message, drawn only when both ends are in the
// log (the log may have dropped one). Both viewers bind a flow event to a
// slice by its time, with different rules: Perfetto to the slice most
// recently begun on the track, chrome://tracing to the deepest slice that
// contains the time. Every flow event here therefore sits exactly on the
// start of its slice, where the two rules agree. Perfetto also draws an
// arrow from the slice that begins first to the one that begins later, and
// drops a finish it meets before its start; yet a receiver often began to
// wait before the sender called. Then the arrow ends on a slice nested in
// the receive, "message from NAME", which begins when the receiver woke
// (the end of its blocked slice, and never before the send began).
package trace

import (
	"cmp"
	"io"
	"slices"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/events"
)

// tracePID is the pid of the one trace process that holds every track.
const tracePID = 1

// Ops with a meaning for the trace, named as in the event log.
var (
	opConnSend      = abi.OpConnSend.String()
	opQueuePut      = abi.OpQueuePut.String()
	opConnRecv      = abi.OpConnRecv.String()
	opQueueGet      = abi.OpQueueGet.String()
	opProcTerminate = abi.OpProcTerminate.String()
	opProcKill      = abi.OpProcKill.String()
)

// Write writes the run's events as a Chrome trace (a JSON object) to w.
// The events may come in any order (the log's order is not time order);
// evs is not modified.
func Write(w io.Writer, evs []events.Event) error {
	b := newBuilder()
	for _, e := range byTime(evs) {
		b.add(e)
	}
	b.order()
	b.layout()
	b.pairMessages()
	b.placeInstants()
	return b.encode(w)
}

// byTime returns pointers to the events sorted by time, then by Seq (the
// order the host recorded them), so that a process's start comes before
// what it did and its calls come in the order it made them.
func byTime(evs []events.Event) []*events.Event {
	out := make([]*events.Event, len(evs))
	for i := range evs {
		out[i] = &evs[i]
	}
	slices.SortStableFunc(out, func(a, b *events.Event) int {
		if a.T != b.T {
			return cmp.Compare(a.T, b.T)
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out
}

// builder gathers a run's tracks, calls and instants, then places them in
// time (layout, pairMessages, placeInstants) and writes them (encode).
type builder struct {
	run, end *events.Event

	tracks []*track       // in the order they were made
	byPID  map[int]*track // the latest track of each OS pid
	byName map[string]*track
	calls  []*call // every call, by time
	flows  []*flow
}

func newBuilder() *builder {
	return &builder{byPID: map[int]*track{}, byName: map[string]*track{}}
}

// add files one event (in time order) under its track.
func (b *builder) add(e *events.Event) {
	switch e.Type {
	case events.TypeRun:
		b.run = e
	case events.TypeEnd:
		b.end = e
	case events.TypeStart:
		b.addStart(e)
	case events.TypeCall:
		b.addCall(e)
	case events.TypeOutput:
		b.trackOf(e).addInstant(e.T, outputName(e.Text), e.Stream,
			text("stream", e.Stream), text("text", e.Text))
	case events.TypeExit:
		b.trackOf(e).addInstant(e.T, exitName(e), "process", exitArgs(e)...)
	}
	// Types this version does not know are left out: the schema may grow.
}

// addStart begins a track for a process's runner.
func (b *builder) addStart(e *events.Event) {
	t := b.byPID[e.PID]
	if e.PID == 0 || t == nil || t.started {
		// A new process; a pid seen again after a start is a reused pid.
		t = b.newTrack(e.Process, e.PID)
	}
	t.started = true
	switch {
	case e.ParentPID != 0 && b.byPID[e.ParentPID] != nil:
		t.parent = b.byPID[e.ParentPID]
	case e.Parent != "" && b.byName[e.Parent] != nil:
		t.parent = b.byName[e.Parent]
	}
	if t.parent == t {
		t.parent = nil
	}
	t.addInstant(e.T, "start", "process", num("pid", e.PID), str("parent", e.Parent),
		num("parent_pid", e.ParentPID), str("target", e.Target), flag("daemon", e.Daemon))
}

// addCall files a call, and the instants of a terminate or kill: on the
// caller's track and, when it succeeded, on its target's.
func (b *builder) addCall(e *events.Event) {
	t := b.trackOf(e)
	c := &call{ev: e, tr: t}
	t.calls = append(t.calls, c)
	b.calls = append(b.calls, c)

	if e.Op != opProcTerminate && e.Op != opProcKill {
		return
	}
	verb, done := "terminate", "terminated by "
	if e.Op == opProcKill {
		verb, done = "kill", "killed by "
	}
	t.addInstant(e.T, verb+" "+e.Peer, "process",
		str("peer", e.Peer), str("result", e.Result), str("error", e.Error))
	if target := b.byName[e.Peer]; target != nil && (e.Result == "" || e.Result == "ok") {
		target.addInstant(e.T, done+e.Process, "process", text("by", e.Process))
	}
}

// trackOf returns the track of the process an event is about, making one
// for a process seen before (or without) its start event.
func (b *builder) trackOf(e *events.Event) *track {
	if e.PID != 0 {
		if t := b.byPID[e.PID]; t != nil {
			return t
		}
		return b.newTrack(e.Process, e.PID)
	}
	if t := b.byName[e.Process]; t != nil {
		return t
	}
	return b.newTrack(e.Process, 0)
}

func (b *builder) newTrack(name string, pid int) *track {
	t := &track{name: name, pid: pid, starts: map[int64]bool{}}
	b.tracks = append(b.tracks, t)
	if pid != 0 {
		b.byPID[pid] = t
	}
	b.byName[name] = t
	return t
}
