package ipc

import (
	"context"
	"sync"
	"time"
)

// Object is the part of every IPC object the host's process bookkeeping uses.
type Object interface {
	// Kind names the object type: "pipe", "queue", "lock", ...
	Kind() string
	// Inherit is called when process parent starts process child, with
	// fork semantics: the child gets a copy of what the parent holds.
	Inherit(parent, child int32)
	// ProcessExited is called once when process who has died or ended.
	ProcessExited(who int32)
}

// monitor is the mutex and change broadcast shared by every object with
// blocking calls. Waiters sleep on a channel that is closed (and forgotten)
// on every state change, so there is no busy waiting and no goroutine of
// our own.
type monitor struct {
	mu       sync.Mutex
	changed  chan struct{} // closed on the next state change; nil when nobody sleeps
	sleeping int           // goroutines currently asleep in await
}

// broadcast wakes every sleeper so it re-checks its condition. m.mu held.
func (m *monitor) broadcast() {
	if m.changed != nil {
		close(m.changed)
		m.changed = nil
	}
}

// sleepers is the number of goroutines blocked in await (for tests and
// diagnostics).
func (m *monitor) sleepers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sleeping
}

// await blocks until ready() is true, ctx is done or the timeout expires
// (negative: never; zero: check once). It is called with m.mu held and
// returns with m.mu held, so the caller acts on the state it saw. ctx is
// checked before ready, so a cancelled caller never takes anything.
// It returns nil, ctx.Err() or errTimedOut.
//
// The first time it goes to sleep it tells the Caller of ctx (Sleeping, on
// obj, the object the monitor guards, for at most timeout), and when it
// returns after sleeping, Woke: one sleep, however often it re-checks
// ready.
func (m *monitor) await(ctx context.Context, obj Object, timeout time.Duration, ready func() bool) error {
	var (
		timer    *time.Timer
		expiry   <-chan time.Time
		timedOut = timeout == 0
		caller   Caller // set once asleep
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if caller != nil {
			caller.Woke()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if ready() {
			return nil
		}
		if timedOut {
			return errTimedOut
		}
		if timeout > 0 && timer == nil {
			timer = time.NewTimer(timeout)
			expiry = timer.C
		}
		if m.changed == nil {
			m.changed = make(chan struct{})
		}
		changed := m.changed
		m.sleeping++
		m.mu.Unlock()
		if caller == nil {
			caller = callerOf(ctx)
			caller.Sleeping(obj, timeout)
		}
		select {
		case <-changed:
		case <-ctx.Done():
		case <-expiry:
			timedOut = true
		}
		m.mu.Lock()
		m.sleeping--
	}
}

// fifo is a queue of messages. It is not safe for concurrent use.
type fifo struct {
	items [][]byte
	head  int
	meter *Meter // counts the bytes of the messages
	// pushed and popped count the messages that went in and out: the
	// n-th message pushed is the n-th popped (or dropped), which names a
	// message from its send to its receive (Caller.Seq).
	pushed, popped uint64
}

func (q *fifo) len() int { return len(q.items) - q.head }

// push appends msg and returns its number (1 for the first).
func (q *fifo) push(msg []byte) uint64 {
	q.items = append(q.items, msg)
	q.meter.add(ItemOverhead + len(msg))
	q.pushed++
	return q.pushed
}

func (q *fifo) peek() []byte { return q.items[q.head] }

// pop removes and returns the oldest message and its number.
func (q *fifo) pop() ([]byte, uint64) {
	msg := q.items[q.head]
	q.popped++
	q.meter.add(-ItemOverhead - len(msg))
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 64 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return msg, q.popped
}

// reset drops every message.
func (q *fifo) reset() {
	for _, m := range q.items[q.head:] {
		q.meter.add(-ItemOverhead - len(m))
	}
	*q = fifo{meter: q.meter, pushed: q.pushed, popped: q.pushed}
}

// clone returns a copy of b that never aliases the caller's memory; a nil
// or empty b gives an empty, non-nil slice.
func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }
