package trace

import "github.com/sandbox-dev/sandbox/internal/events"

// Times in the trace are nanoseconds since the run started (int64), written
// as microseconds with three decimals: the log's microseconds, and room to
// move a slice by a nanosecond or two where the trace must (package doc).

// us converts the log's microseconds to the trace's nanoseconds; a time
// before the run's start (none should be) is its start.
func us(t int64) int64 { return max(t, 0) * 1000 }

// span is an interval of the trace, [start, end] in ns.
type span struct{ start, end int64 }

// call is a call event placed on its track.
type call struct {
	ev *events.Event
	tr *track
	span
	// blocked is the nested slice of the time the call waited, nil when it
	// did not wait (or had no room, see layout).
	blocked *span
	// woken is the nested slice a message's arrow ends on when the receiver
	// was waiting before the sender called (see pairMessages); from names
	// the sender.
	woken *span
	from  string
	next  *call // the track's next call
}

// layout places every call in nanoseconds. On a track a call begins after
// the previous one ends, at least 1 ns later, and lasts at least 1 ns, so
// that calls never overlap or share a start (the host's clock has
// microseconds; a call can take less). The blocked slice begins at least
// 1 ns after its call, so that a flow event on the call's start binds to
// the call, and ends within it.
func (b *builder) layout() {
	for _, t := range b.tracks {
		prevEnd := int64(-1)
		for i, c := range t.calls {
			if i+1 < len(t.calls) {
				c.next = t.calls[i+1]
			}
			e := c.ev
			c.start = max(us(e.T), prevEnd+1)
			c.end = max(us(e.T)+us(e.Dur), c.start+1)
			prevEnd = c.end
			if e.Blocked == 0 && e.BlockedDur == 0 {
				continue
			}
			bs := max(us(e.Blocked), c.start+1)
			be := min(us(e.Blocked)+us(e.BlockedDur), c.end)
			be = max(be, bs+1) // it waited less than the clock shows
			if be <= c.end {
				c.blocked = &span{bs, be}
			}
		}
	}
}

// placeInstants records the start of every slice of each track and moves
// each instant off them: in both viewers a thread's instant is a slice of
// no length, which on a slice's start would take that slice's flow events.
func (b *builder) placeInstants() {
	for _, t := range b.tracks {
		for _, c := range t.calls {
			t.starts[c.start] = true
			if c.blocked != nil {
				t.starts[c.blocked.start] = true
			}
			if c.woken != nil {
				t.starts[c.woken.start] = true
			}
		}
		for _, in := range t.instants {
			for t.starts[in.ts] {
				in.ts++
			}
		}
	}
}
