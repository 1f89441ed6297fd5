// Package pump writes to a stream (the caller's stdout or stderr) from a
// goroutine of its own, so that a reader that stalls or goes away never
// holds up the program that writes: while the program runs, a writer waits
// when a window of bytes is pending (flow control, as a pipe gives); once
// the program is stopping, writes never wait, and a drain gives up at a
// deadline, counting what it dropped.
package pump

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"time"
)

// Window is how many bytes a Pump holds before a writer waits.
const Window = 1 << 20

// Pump is one stream. Create it with New.
type Pump struct {
	w io.Writer

	mu       sync.Mutex
	cond     *sync.Cond
	queue    [][]byte
	pending  int   // bytes queued or being written
	released bool  // writes never wait
	closed   bool  // no more writes will come
	dropped  int64 // bytes given up on
	err      error // the first write error (EPIPE: the reader is gone)
	done     chan struct{}
	onFail   func() // called once, at the first write error
}

// New starts a Pump writing to w. onFail, if not nil, is called (once, from
// the pump's goroutine) when a write to w fails.
func New(w io.Writer, onFail func()) *Pump {
	p := &Pump{w: w, done: make(chan struct{}), onFail: onFail}
	p.cond = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// Write queues a copy of b, waiting for room unless the pump is released.
// It never fails: what cannot be written is counted as dropped.
func (p *Pump) Write(b []byte) (int, error) {
	p.write(b)
	return len(b), nil
}

func (p *Pump) write(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.pending >= Window && !p.released && p.err == nil {
		p.cond.Wait()
	}
	if p.err != nil || p.closed {
		p.dropped += int64(len(b))
		return
	}
	p.queue = append(p.queue, append([]byte(nil), b...))
	p.pending += len(b)
	p.cond.Broadcast()
}

// run writes the queue out.
func (p *Pump) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closed {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		b := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()

		_, err := p.w.Write(b)

		p.mu.Lock()
		p.pending -= len(b)
		fail := err != nil && p.err == nil
		if fail {
			p.err = err
			for _, q := range p.queue {
				p.dropped += int64(len(q))
			}
			p.dropped += int64(len(b))
			p.queue, p.pending = nil, 0
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		if fail && p.onFail != nil {
			p.onFail()
		}
	}
}

// Release makes writes never wait again: the writer is stopping, and its
// last output must not hold it up.
func (p *Pump) Release() {
	p.mu.Lock()
	p.released = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Drain closes the pump and waits until its output is written, or until
// deadline fires (nil: no deadline); what is left then is dropped. It
// returns the bytes dropped in all. A writer stalled for good stays
// blocked in its goroutine.
func (p *Pump) Drain(deadline <-chan time.Time) int64 {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-deadline:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.queue {
		p.dropped += int64(len(q))
	}
	p.queue = nil
	return p.dropped
}

// ReaderGone reports whether the reader is gone (a write failed with
// EPIPE: `sandbox run … | head`).
func (p *Pump) ReaderGone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Is(p.err, syscall.EPIPE)
}

// Err returns the first write error, if any.
func (p *Pump) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
