package trace

// flow is a message's arrow: from the start of the send or put to the
// start of the receive or get, or of the slice nested in it that begins
// when the receiver woke.
type flow struct {
	id       int
	name     string // the object: "pipe 2", "queue 5"
	msg      string
	from, to *track
	sTS, fTS int64 // ns
}

// producer and consumer report whether a call with a message made it or
// took it.
func producer(op string) bool { return op == opConnSend || op == opQueuePut }
func consumer(op string) bool { return op == opConnRecv || op == opQueueGet }

// pairMessages draws a flow for every message whose two ends are in the
// log: the first call that made a message with the first that took it,
// and so on should a message id repeat. A message that lost an end (the
// log dropped it, or nobody took the message) gets no flow. Ids count
// from 1 in the order the messages were first seen.
func (b *builder) pairMessages() {
	type ends struct{ made, taken []*call }
	byMsg := map[string]*ends{}
	var msgs []string
	for _, c := range b.calls {
		m := c.ev.Msg
		if m == "" || !(producer(c.ev.Op) || consumer(c.ev.Op)) {
			continue
		}
		e := byMsg[m]
		if e == nil {
			e = &ends{}
			byMsg[m] = e
			msgs = append(msgs, m)
		}
		if producer(c.ev.Op) {
			e.made = append(e.made, c)
		} else {
			e.taken = append(e.taken, c)
		}
	}
	for _, m := range msgs {
		e := byMsg[m]
		for i := range min(len(e.made), len(e.taken)) {
			send, recv := e.made[i], e.taken[i]
			fTS, ok := bindReceive(send, recv)
			if !ok {
				continue
			}
			name := send.ev.ObjectName
			if name == "" {
				name = "message"
			}
			b.flows = append(b.flows, &flow{
				id: len(b.flows) + 1, name: name, msg: m,
				from: send.tr, to: recv.tr, sTS: send.start, fTS: fTS,
			})
		}
	}
}

// bindReceive returns where a message's flow ends on the call that took
// it: the call's start when it began no earlier than the send; otherwise
// the start of a nested slice "message from SENDER" that it adds to recv,
// from when the receiver woke (the end of its blocked slice, and not
// before the send began) to the end of the call, shortening the blocked
// slice to end before it. ok is false when the receive ended a microsecond
// or more before the send began: it cannot have taken the message.
func bindReceive(send, recv *call) (fTS int64, ok bool) {
	s := send.start
	if recv.start >= s {
		return recv.start, true
	}
	if recv.woken != nil {
		return 0, false // taken twice: a message id that repeats
	}
	if recv.end <= s {
		// The receive ended in the microsecond the send began (the clock
		// cut both to it): lengthen it by the nanoseconds the arrow needs,
		// when the track's next call leaves room.
		if s-recv.end >= 1000 || (recv.next != nil && recv.next.start <= s+1) {
			return 0, false
		}
		recv.end = s + 1
	}
	w := s
	if recv.blocked != nil {
		w = max(w, recv.blocked.end)
	}
	w = min(w, recv.end-1) // >= s
	if bl := recv.blocked; bl != nil && bl.end >= w {
		bl.end = w - 1
		if bl.end <= bl.start {
			recv.blocked = nil // no room left: under 2 ns of waiting
		}
	}
	recv.woken = &span{w, recv.end}
	recv.from = send.tr.name
	return w, true
}
