package trace

import (
	"cmp"
	"fmt"
	"slices"
)

// entry is one event of the trace.
type entry struct {
	ph      byte // 'X', 's', 'f', 'i' or 'M'
	scope   byte // of an instant: 't' or 'g'
	ts, dur int64
	tid     int
	id      int // of a flow
	n       int // the order it was made in: the last tie-break
	name    string
	cat     string
	args    []arg
	// call is the call of a slice, whose args are written from it: part
	// says which slice ('c' the call, 'b' its blocked slice, 'w' the one
	// where it woke to a message).
	call *call
	part byte
}

// rank orders the events that share a time: slices first, longest first
// (a call before what it holds), then flow starts, flow finishes and
// instants. Perfetto reads them in this order too (it puts the slices of a
// time first, longest first, and keeps the file's order for the rest), so
// a flow event is read just after the slice it sits on begins, and binds
// to it.
func (e *entry) rank() int {
	switch e.ph {
	case 'X':
		return 0
	case 's':
		return 1
	case 'f':
		return 2
	}
	return 3
}

// compareEntries orders entries by time, then rank, then the longest
// first, then the order they were made in.
func compareEntries(x, y *entry) int {
	if x.ts != y.ts {
		return cmp.Compare(x.ts, y.ts)
	}
	if rx, ry := x.rank(), y.rank(); rx != ry {
		return rx - ry
	}
	if x.dur != y.dur {
		return cmp.Compare(y.dur, x.dur)
	}
	return x.n - y.n
}

// entries returns the trace's timed events in the order they are written.
func (b *builder) entries() []*entry {
	n := 2*len(b.calls) + 2*len(b.flows) + 1
	for _, t := range b.tracks {
		n += len(t.instants)
	}
	store := make([]entry, 0, n)
	add := func(e entry) {
		e.n = len(store)
		store = append(store, e)
	}
	for _, t := range b.tracks {
		for _, c := range t.calls {
			cat := c.ev.ObjectKind
			if cat == "" {
				cat = "call"
			}
			add(entry{ph: 'X', ts: c.start, dur: c.end - c.start, tid: t.tid,
				name: c.ev.Op, cat: cat, call: c, part: 'c'})
			if bl := c.blocked; bl != nil {
				add(entry{ph: 'X', ts: bl.start, dur: bl.end - bl.start, tid: t.tid,
					name: blockedName(c), cat: "blocked", call: c, part: 'b'})
			}
			if wk := c.woken; wk != nil {
				add(entry{ph: 'X', ts: wk.start, dur: wk.end - wk.start, tid: t.tid,
					name: "message from " + c.from, cat: "msg", call: c, part: 'w'})
			}
		}
		for _, in := range t.instants {
			add(entry{ph: 'i', scope: 't', ts: in.ts, tid: t.tid, name: in.name, cat: in.cat,
				args: in.args})
		}
	}
	for _, f := range b.flows {
		add(entry{ph: 's', ts: f.sTS, tid: f.from.tid, name: f.name, cat: "msg", id: f.id,
			args: []arg{text("msg", f.msg)}})
		add(entry{ph: 'f', ts: f.fTS, tid: f.to.tid, name: f.name, cat: "msg", id: f.id})
	}
	if e := b.end; e != nil {
		name := "end"
		if e.Verdict != "" {
			name = "verdict: " + e.Verdict
		}
		if e.Dropped > 0 {
			// Say it where it shows: what the trace lacks.
			name += fmt.Sprintf(" (the log dropped %d events)", e.Dropped)
		}
		add(entry{ph: 'i', scope: 'g', ts: us(e.T), tid: 1, name: name, cat: "run",
			args: []arg{str("verdict", e.Verdict), str("explanation", e.Explanation),
				integer("dropped", e.Dropped)}})
	}
	out := make([]*entry, len(store))
	for i := range store {
		out[i] = &store[i]
	}
	slices.SortFunc(out, compareEntries)
	return out
}

// args appends the args of the call's slice part (see entry) to out.
func (c *call) args(part byte, out []arg) []arg {
	e := c.ev
	switch part {
	case 'b':
		return append(out, str("object_name", e.ObjectName),
			integer("blocked_us", e.Blocked), integer("blocked_dur_us", e.BlockedDur))
	case 'w':
		return append(out, text("from", c.from), text("msg", e.Msg))
	}
	gen := arg{}
	if e.Generation != nil {
		gen = integer("generation", *e.Generation)
	}
	return append(out,
		str("object_name", e.ObjectName),
		str("object_kind", e.ObjectKind),
		str("result", e.Result),
		str("error", e.Error),
		num("size", e.Size),
		str("preview", e.Preview),
		str("msg", e.Msg),
		gen,
		str("peer", e.Peer),
		num("seq", e.Seq))
}

// blockedName names a blocked slice after what the call waited on.
func blockedName(c *call) string {
	switch {
	case c.ev.ObjectName != "":
		return "blocked on " + c.ev.ObjectName
	case c.ev.ObjectKind != "":
		return "blocked on " + c.ev.ObjectKind
	}
	return "blocked"
}

// metadata returns the events that name the trace process and its tracks
// and order them.
func (b *builder) metadata() []*entry {
	name := "sandbox run"
	if b.run != nil && b.run.Module != "" {
		name += " " + b.run.Module
	}
	out := []*entry{
		{ph: 'M', tid: 1, name: "process_name", args: []arg{text("name", name)}},
		{ph: 'M', tid: 1, name: "process_sort_index", args: []arg{integer("sort_index", 0)}},
	}
	if b.end != nil && b.end.Verdict != "" {
		// chrome://tracing shows labels beside the process's name.
		out = append(out, &entry{ph: 'M', tid: 1, name: "process_labels",
			args: []arg{text("labels", "verdict: "+b.end.Verdict)}})
	}
	for _, t := range b.tracks {
		out = append(out,
			&entry{ph: 'M', tid: t.tid, name: "thread_name", args: []arg{text("name", t.label())}},
			&entry{ph: 'M', tid: t.tid, name: "thread_sort_index", args: []arg{integer("sort_index", t.tid)}})
	}
	return out
}

// otherData is the trace's metadata object: the run, its verdict, and how
// many messages the trace draws.
func (b *builder) otherData() []arg {
	var out []arg
	if r := b.run; r != nil {
		out = append(out, str("module", r.Module), arg{key: "args", kind: argList, list: r.Args},
			num("schema_version", r.Version))
	}
	if e := b.end; e != nil {
		out = append(out, str("verdict", e.Verdict), str("explanation", e.Explanation),
			integer("dropped", e.Dropped))
	}
	return append(out, integer("flows", len(b.flows)))
}
