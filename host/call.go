package host

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Call is the record of one guest call as the host serves it: who made it,
// which import with which values by name, when it began and ended, what it
// answered, and what it blocked on. Every call of every process becomes one
// and passes through one pipeline (Supervisor.call):
//
//	decode → admit (limits) → handler → record (log, events) → reply
type Call struct {
	// Process is the caller's handle.
	Process int32
	// Op is the import called.
	Op abi.Op
	// Args holds the call's inputs by name and, once handled, its results.
	// Its Spec is nil when the call could not be decoded.
	Args abi.Args
	// Began and Ended bound the time the host spent on the call.
	Began, Ended time.Time
	// Errno is the answer; Err says why when it is not OK.
	Errno abi.Errno
	Err   error
	// Blocked is when the call first went to sleep waiting for another
	// process and Woke when it last woke (both zero if it never slept);
	// On is what it waited on.
	Blocked, Woke time.Time
	On            *Wait
	// Seq names the message the call sent or received, or the barrier
	// generation it waited in (ipc.Caller.Seq; 0: none).
	Seq uint64
	// Posted says the guest did not wait for the answer: it called an
	// import that posts Op (abi.Spec.Posts), and went on at once.
	Posted bool
	// Runner says the process's runner served the call itself (a direct
	// pipe) and reported it; Began and Ended are the runner's.
	Runner bool

	p       *proc
	size    int // with E2SMALL: the size the guest's buffer needs
	payload int // a runner's record: the size of the message (its data is a preview)
}

// ctx is the context of the caller's calls: it ends when the process does.
func (c *Call) ctx() context.Context { return c.p.ctx }

// tooSmall is the answer of a call whose result needs size bytes (or
// elements) more than the guest's buffer holds.
func (c *Call) tooSmall(size int) error {
	c.size = size
	return fail(abi.E2SMALL, "the result needs %d, the buffer holds less", size)
}

// received sets buffer result p from what a receive returned: msg, or,
// when it did not fit the guest's buffer (ipc.ErrTooSmall), E2SMALL with
// the size needed; any other error is the call's.
func (c *Call) received(p abi.Param, msg []byte, size int, err error) error {
	if errors.Is(err, ipc.ErrTooSmall) {
		return c.tooSmall(size)
	}
	if err != nil {
		return err
	}
	c.Args.SetBytes(p, msg)
	return nil
}

// handler carries out one import. It reads the call's inputs from c.Args,
// sets its results there, and returns nil or the error that becomes the
// call's errno (errnoOf): errors travel one way only.
type handler func(s *Supervisor, c *Call) error

// call serves one call of process p and returns the reply frame. The
// record and the reply are p's own, reused by its next call (a process
// makes one call at a time): what keeps a record beyond copies it.
func (s *Supervisor) call(p *proc, m *wire.Msg) *wire.Msg {
	c := &p.call
	*c = Call{Process: p.handle, Op: m.Op, Began: time.Now(), Posted: m.Kind == wire.KindPost, p: p}
	if spec := abi.Lookup(m.Op); spec != nil && spec.Posts != 0 {
		// The same call as the import it posts, by the same parameters:
		// served and recorded as that one.
		c.Op = spec.Posts
	}
	p.on = waitOn{}
	trace := p.log.IsTrace()
	var err error
	if c.Posted && c.Op == m.Op {
		err = fail(abi.EINVAL, "%s cannot be posted", m.Op)
	} else if c.Args, err = abi.Decode(c.Op, m.Ints, m.Bufs); err != nil {
		err = fail(abi.EINVAL, "%v", err)
	} else {
		if trace {
			line := "==> " + c.Args.String()
			if c.Posted {
				line += " posted"
			}
			p.log.Trace(line)
		}
		if err = s.admit(c); err == nil {
			p.perturb()
			err = s.handle(c)
			p.perturb()
		}
	}
	c.Ended = time.Now()
	s.moved()
	reply := c.reply(err, &p.reply)
	s.record(c, trace)
	return reply
}

// posted serves a call p posted (wire.KindPost): as any call, but nobody
// waits for its answer, so a failure is said here, once per process (a
// guest could post bad calls in a loop: the rest are counted, and the
// count logged at its end), and not when the process or the run has ended
// (a limit that stopped the run has said its own).
func (s *Supervisor) posted(p *proc, m *wire.Msg) {
	s.call(p, m)
	c := &p.call
	if c.Errno != abi.OK && p.ctx.Err() == nil && !s.isStopped() {
		if p.postsFailed++; p.postsFailed == 1 {
			p.log.Warn("a posted call failed; the process went on (its later failed posts are counted, not logged)", "op", c.Op.String(), "errno", c.Errno.String(), "error", reason(c.Err))
		}
	}
	p.forget()
}

// The delays of Config.Chaos: half the calls wait up to ChaosDelay
// (a host call takes some 10-50µs, so this reorders processes that race),
// and one in ChaosLongEvery up to ChaosLongDelay, so that processes that
// start some milliseconds apart (a process start takes that long) come to
// overlap. A program of a thousand calls is slowed by about 1.5 s.
const (
	ChaosDelay     = 2 * time.Millisecond
	ChaosLongDelay = 20 * time.Millisecond
	ChaosLongEvery = 16
)

// perturb waits, under Config.Chaos, a random while or none: before a
// call is served, so that another process's call may come first, and
// before it is answered, so that the order in which woken processes go
// on varies.
func (p *proc) perturb() {
	if p.chaos == nil {
		return
	}
	switch {
	case p.chaos.IntN(ChaosLongEvery) == 0:
		time.Sleep(time.Duration(p.chaos.Int64N(int64(ChaosLongDelay))))
	case p.chaos.IntN(2) == 0:
		time.Sleep(time.Duration(p.chaos.Int64N(int64(ChaosDelay))))
	}
}

// admit decides whether a call may run at all: the limits of the shared
// objects (how many, how large one message, how many bytes together) are
// checked here, before any object changes.
func (s *Supervisor) admit(c *Call) error {
	if s.cfg.MaxObjects > 0 && creates[c.Op] {
		s.mu.Lock()
		n := s.nobjects
		s.mu.Unlock()
		if n >= s.cfg.MaxObjects {
			return s.ipcLimit(abi.EAGAIN, fmt.Sprintf("IPC limit: the run created %d objects (processes and shared objects), the most it may", n))
		}
	}
	if p := payload[c.Op]; p != 0 {
		n := int64(len(c.Args.Bytes(p)))
		if limit := s.cfg.MaxMessage; limit > 0 && n > limit {
			return s.ipcLimit(abi.E2BIG, fmt.Sprintf("IPC limit: %s passed a message of %d bytes, more than %s", s.who(c.p), n, bytesText(limit)))
		}
		return s.ipcRoom(n)
	}
	return nil
}

// ipcRoom checks that the shared objects may hold a message of n bytes
// more (MaxIPCBytes), and ends the run if not.
func (s *Supervisor) ipcRoom(n int64) error {
	if limit := s.cfg.MaxIPCBytes; limit > 0 && s.held.Bytes()+ipc.ItemOverhead+n > limit {
		return s.ipcLimit(abi.EAGAIN, fmt.Sprintf("IPC limit: the shared objects would hold more than %s", bytesText(limit)))
	}
	return nil
}

// ipcLimit ends the run for a shared-object limit, and fails the call.
func (s *Supervisor) ipcLimit(code abi.Errno, msg string) error {
	s.stop(&LimitError{VerdictIPCLimit, msg + "; every process was killed"})
	return fail(code, "%s", msg)
}

// creates says which imports create an object of the run (their names
// end in "_new"; a process record counts: a guest that creates processes
// it never starts must not grow the host without bound); payload names
// the parameter of those that store bytes in a shared object (a message
// or a value: the Bytes input named data or value). Both are read from
// the ABI's table, once.
var creates, payload = objectOps()

func objectOps() (creates [abi.NumOps + 1]bool, payload [abi.NumOps + 1]abi.Param) {
	for _, s := range abi.Ops() {
		if s.Posts != 0 {
			continue // served as the import it posts
		}
		creates[s.Op] = strings.HasSuffix(s.Name, "_new")
		for _, f := range s.Params {
			if f.Kind == abi.Bytes && (f.Param == abi.PData || f.Param == abi.PValue) {
				payload[s.Op] = f.Param
			}
		}
	}
	return creates, payload
}

// handle runs the call's handler. A handler that panics is a bug of the
// host: the call fails with EIO and the run goes on.
func (s *Supervisor) handle(c *Call) (err error) {
	c.p.cur = c
	defer func() {
		c.p.cur = nil
		if r := recover(); r != nil {
			c.p.log.Error("host failure serving a call", "op", c.Op.String(), "panic", r, "stack", string(debug.Stack()))
			err = fail(abi.EIO, "host failure: %v", r)
		}
	}()
	return handlers[c.Op](s, c)
}

// reply sets the call's errno from err and builds the answer in m.
func (c *Call) reply(err error, m *wire.Msg) *wire.Msg {
	ints, bufs := m.Ints[:0], m.Bufs[:0]
	clear(m.Bufs) // drop the last reply's results
	*m = wire.Msg{Kind: wire.KindReply}
	if err == nil && c.Args.Spec != nil && c.Args.ResultBytes() > abi.MaxCallBytes {
		// Only a whole-object read (ns_items) can grow past a frame.
		err = fail(abi.E2BIG, "a reply of %d bytes is more than one call may carry", c.Args.ResultBytes())
	}
	if err != nil {
		c.Errno, c.Err = errnoOf(err), err
		m.Errno = c.Errno
		if c.Errno == abi.E2SMALL {
			m.Ints = append(ints, int64(c.size))
		}
		return m
	}
	m.Ints, m.Bufs = c.Args.AppendResults(ints, bufs)
	return m
}

// record is where a finished call is handed on: to the event log, when
// there is one, and to the trace log.
func (s *Supervisor) record(c *Call, trace bool) {
	if s.ev != nil {
		s.callEvent(c)
	}
	if !trace {
		return
	}
	switch {
	case c.Args.Spec == nil:
		c.p.log.Trace(fmt.Sprintf("==> %s: %v", c.Op, c.Err))
		c.p.log.Trace("<== " + c.Errno.String())
	case c.Errno != abi.OK:
		c.p.log.Trace(fmt.Sprintf("<== %s (%s)", c.Errno, reason(c.Err)))
	default:
		line := "<== ok"
		if r := c.Args.ResultString(); r != "" {
			line += " " + r
		}
		c.p.log.Trace(line)
	}
}

// forget drops what p's last call referenced (the received frame, the
// results), so that a process that makes no more calls keeps no large
// buffer alive. Called once the reply is sent.
func (p *proc) forget() {
	p.call = Call{}
	clear(p.reply.Bufs)
	p.reply.Bufs = p.reply.Bufs[:0]
	p.on = waitOn{}
}
