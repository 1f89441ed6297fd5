package ipc

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Pipe is multiprocessing.Pipe: two connection ends, 0 and 1. A message
// sent on one end is received on the other. With duplex=false end 0 only
// receives and end 1 only sends (Python's r, w = Pipe(False)).
//
// Each end is held by a set of processes, as a file descriptor is shared
// after fork: the creator holds both ends, Inherit copies the parent's open
// ends to the child, Close and ProcessExited drop one process's copy. An
// end with no holder left is gone: the other end then sees EOF (once its
// buffer is drained) and BrokenPipe on send.
type Pipe struct {
	m       monitor
	duplex  bool
	holders [2]map[int32]struct{}
	buf     [2]fifo // buf[e] holds messages waiting to be received on end e
	gone    func(end int)
}

var _ Object = (*Pipe)(nil)

// NewPipe returns a pipe whose two ends are held by creator.
func NewPipe(duplex bool, creator int32) *Pipe {
	p := &Pipe{duplex: duplex}
	for e := range p.holders {
		p.holders[e] = map[int32]struct{}{creator: {}}
	}
	return p
}

// Kind returns "pipe".
func (p *Pipe) Kind() string { return "pipe" }

// Duplex reports whether both ends can send and receive.
func (p *Pipe) Duplex() bool { return p.duplex }

// OnGone makes f called, with the pipe's lock held, when the last holder
// of an end lets it go (closed or exited): the host shuts down the end's
// socket of a direct pipe there. Call it before the pipe is used.
func (p *Pipe) OnGone(f func(end int)) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	p.gone = f
}

// Inherit gives child a copy of every end parent holds open now.
func (p *Pipe) Inherit(parent, child int32) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for e := range p.holders {
		if _, ok := p.holders[e][parent]; ok {
			p.holders[e][child] = struct{}{}
		}
	}
}

// ProcessExited closes every copy of either end that who holds.
func (p *Pipe) ProcessExited(who int32) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for e := range p.holders {
		p.drop(who, e)
	}
	p.m.broadcast()
}

// Close closes who's copy of end. Closing a copy who does not hold (never
// had, or already closed) is ErrClosed; Python's second close is a no-op,
// so the SDK may ignore that error.
func (p *Pipe) Close(who int32, end int) error {
	if err := checkEnd(end); err != nil {
		return err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if !p.holds(who, end) {
		return fmt.Errorf("%w: pipe end %d is not open in this process", ErrClosed, end)
	}
	p.drop(who, end)
	p.m.broadcast()
	return nil
}

// Holds reports whether who holds an open copy of end.
func (p *Pipe) Holds(who int32, end int) bool {
	if checkEnd(end) != nil {
		return false
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.holds(who, end)
}

// Holders returns the processes holding end, in increasing order.
func (p *Pipe) Holders(end int) []int32 {
	if checkEnd(end) != nil {
		return nil
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	var hs []int32
	for h := range p.holders[end] {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// Send sends a copy of msg from end to the other end. Messages are not
// limited in number. Errors: ErrClosed if who does not hold end,
// ErrDirection on the receive-only end, ErrBrokenPipe if nobody holds the
// receiving end any more.
func (p *Pipe) Send(ctx context.Context, who int32, end int, msg []byte) error {
	if err := checkEnd(end); err != nil {
		return err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	// CPython checks closed, then direction, then writes.
	if !p.holds(who, end) {
		return fmt.Errorf("%w: handle is closed", ErrClosed)
	}
	if !p.duplex && end == 0 {
		return fmt.Errorf("%w: connection is read-only", ErrDirection)
	}
	other := 1 - end
	if len(p.holders[other]) == 0 {
		return fmt.Errorf("%w: the other end of the pipe is closed", ErrBrokenPipe)
	}
	callerOf(ctx).Seq(p.buf[other].push(clone(msg)))
	p.m.broadcast()
	return nil
}

// Recv receives the next message sent from the other end, waiting up to
// timeout (negative: forever; zero: do not block) for one. If the message
// is longer than limit (limit < 0: no limit) it is left in place and Recv
// returns ErrTooSmall with size set, so the caller can retry with a bigger
// buffer. Errors: ErrClosed if who does not hold end, ErrDirection on the
// send-only end, ErrEOF when nothing is buffered and nobody holds the other
// end, ErrTimeout, or ctx.Err().
func (p *Pipe) Recv(ctx context.Context, who int32, end int, timeout time.Duration, limit int) (msg []byte, size int, err error) {
	if err := checkEnd(end); err != nil {
		return nil, 0, err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if err := p.checkReadable(who, end); err != nil {
		return nil, 0, err
	}
	if err := p.awaitReadable(ctx, who, end, timeout); err != nil {
		if err == errTimedOut {
			return nil, 0, fmt.Errorf("pipe recv: %w", ErrTimeout)
		}
		return nil, 0, err
	}
	if p.buf[end].len() == 0 {
		return nil, 0, fmt.Errorf("%w: the other end of the pipe is closed", ErrEOF)
	}
	size = len(p.buf[end].peek())
	if limit >= 0 && size > limit {
		return nil, size, fmt.Errorf("%w: message of %d bytes, limit %d", ErrTooSmall, size, limit)
	}
	msg, seq := p.buf[end].pop()
	callerOf(ctx).Seq(seq)
	return msg, size, nil
}

// Poll reports whether Recv on end would return at once with a message or
// with ErrEOF, waiting up to timeout for that to become true. It returns
// false (and no error) when the time runs out.
func (p *Pipe) Poll(ctx context.Context, who int32, end int, timeout time.Duration) (bool, error) {
	if err := checkEnd(end); err != nil {
		return false, err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if err := p.checkReadable(who, end); err != nil {
		return false, err
	}
	switch err := p.awaitReadable(ctx, who, end, timeout); err {
	case nil:
		return true, nil
	case errTimedOut:
		return false, nil
	default:
		return false, err
	}
}

// Check does the checks of a Send (send) or a Recv or Poll, in CPython's
// order, and nothing else: for a pipe whose messages travel elsewhere
// (the host's direct pipes).
func (p *Pipe) Check(who int32, end int, send bool) error {
	if err := checkEnd(end); err != nil {
		return err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if !send {
		return p.checkReadable(who, end)
	}
	if !p.holds(who, end) {
		return fmt.Errorf("%w: handle is closed", ErrClosed)
	}
	if !p.duplex && end == 0 {
		return fmt.Errorf("%w: connection is read-only", ErrDirection)
	}
	return nil
}

// checkReadable checks, in CPython's order, that who holds end and that
// end can receive. p.m.mu held.
func (p *Pipe) checkReadable(who int32, end int) error {
	if !p.holds(who, end) {
		return fmt.Errorf("%w: handle is closed", ErrClosed)
	}
	if !p.duplex && end == 1 {
		return fmt.Errorf("%w: connection is write-only", ErrDirection)
	}
	return nil
}

// awaitReadable waits until end has a message, EOF, or who lost end (then
// ErrClosed). p.m.mu held.
func (p *Pipe) awaitReadable(ctx context.Context, who int32, end int, timeout time.Duration) error {
	err := p.m.await(ctx, p, timeout, func() bool {
		return !p.holds(who, end) || p.buf[end].len() > 0 || len(p.holders[1-end]) == 0
	})
	if err == nil && !p.holds(who, end) {
		return fmt.Errorf("%w: handle is closed", ErrClosed)
	}
	return err
}

// holds reports whether who holds end. p.m.mu held.
func (p *Pipe) holds(who int32, end int) bool {
	_, ok := p.holders[end][who]
	return ok
}

// drop removes who's copy of end; when the last copy goes, messages still
// buffered for that end can never be read and are discarded. p.m.mu held.
func (p *Pipe) drop(who int32, end int) {
	_, held := p.holders[end][who]
	delete(p.holders[end], who)
	if len(p.holders[end]) == 0 {
		p.buf[end].reset()
		if held && p.gone != nil {
			p.gone(end)
		}
	}
}

func checkEnd(end int) error {
	if end != 0 && end != 1 {
		return fmt.Errorf("%w: pipe end %d (want 0 or 1)", ErrValue, end)
	}
	return nil
}
