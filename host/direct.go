package host

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct pipes (Config.DirectPipes; README, "Direct pipes").
//
// A pipe's messages do not pass through the host: each pipe is a pair of
// connected sockets (SOCK_SEQPACKET: one message, one datagram), and the
// runner of a process that holds an end serves that process's conn_send,
// conn_recv and conn_poll on it, as CPython's Pipe is a socketpair each
// process reads and writes itself. The host keeps what needs one view of
// the run: who holds which end (ipc.Pipe, as for any pipe: the creator,
// inheritance at a start, close and exit), and from it EOF and broken
// pipes: when the last holder of an end lets it go, the host shuts that
// end's socket down, so the other end reads what is left and then EOF,
// and a send to it fails as a broken pipe. The runner asks for an end's
// socket (KindAttach) the first time its process uses the end; the host
// passes it only to a holder. What the runners serve they report: a
// record of each call (KindRecord, sent in batches with the runner's next
// frame) when the run keeps an event log or a trace log, and every wait
// longer than a moment (KindWait, KindWoke), so that the deadlock
// detector and Waits see a process blocked on a pipe as before. A message
// larger than a datagram travels as a ticket: the host keeps its bytes
// (counted in --max-ipc) until the receiver takes them (KindBlobPut,
// KindBlobTake).

// pipeSockets are the two connected sockets of a direct pipe: fd[e] is
// end e's. The host keeps both open for the run: it passes copies to the
// runners and shuts an end down when its last holder is gone.
type pipeSockets struct {
	fd     [2]int
	inline int // the largest message sent as one datagram; a larger one is kept by the host

	mu     sync.Mutex
	shut   [2]bool             // the end's last holder has gone
	closed bool                // both ends are gone: the sockets are closed
	blobs  [2]map[int64][]byte // messages kept by the host, by the end that receives them
	next   int64
	meter  *ipc.Meter
	charge int64 // what the sockets may hold, counted in Supervisor.socketBytes until closed
	budget *atomic.Int64
}

// newDirectPipe makes pipe a direct one, if the platform can: its sockets
// are made and hooked to its holders. It reports whether it did.
//
// What a pipe's sockets may hold, in the kernel, is bounded: a send buffer
// (about 200 KiB) for each end that sends. Those bytes are no process's
// memory and no object's, so the pipes of a run may hold together at most
// half of MaxIPCBytes (besides what the objects hold): past it a new pipe
// is served by the host, as every pipe was before.
func (s *Supervisor) newDirectPipe(pipe *ipc.Pipe) bool {
	fds, inline, sndbuf, err := socketPair()
	if err != nil {
		s.log.Debug("a pipe is served by the host: no sockets for it", "error", err)
		return false
	}
	charge := int64(sndbuf)
	if pipe.Duplex() {
		charge *= 2
	}
	charge, ok := s.chargeSockets(charge)
	if !ok {
		closeFD(fds[0])
		closeFD(fds[1])
		s.log.Debug("a pipe is served by the host: the direct sockets may hold half of --max-ipc already")
		return false
	}
	sk := &pipeSockets{fd: fds, inline: inline, meter: &s.held, charge: charge, budget: &s.socketBytes}
	pipe.OnGone(sk.gone)
	s.mu.Lock()
	if s.sockets == nil {
		s.sockets = map[*ipc.Pipe]*pipeSockets{}
	}
	s.sockets[pipe] = sk
	s.mu.Unlock()
	return true
}

// chargeSockets counts n bytes, what new direct sockets may hold, against
// the half of MaxIPCBytes they may hold together; ok is false past it.
// charged is what to give back once they are closed (0: no limit, not
// counted).
func (s *Supervisor) chargeSockets(n int64) (charged int64, ok bool) {
	limit := s.cfg.MaxIPCBytes / 2
	if limit <= 0 {
		return 0, true
	}
	if s.socketBytes.Add(n) > limit {
		s.socketBytes.Add(-n)
		return 0, false
	}
	return n, true
}

// socketsOf returns the sockets of a direct pipe, nil for another.
func (s *Supervisor) socketsOf(pipe *ipc.Pipe) *pipeSockets {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sockets[pipe]
}

// gone shuts end e down: its last holder let it go. The other end reads
// what was sent before and then EOF; a send from it fails (EPIPE). The
// large messages kept for e can never be taken.
//
// Once both ends are gone nobody can hold either again (only a holder
// passes an end on, to a child it starts): the host closes its sockets
// then, so that a run that makes pipe after pipe keeps two descriptors
// per pipe still in use, not per pipe made.
func (sk *pipeSockets) gone(e int) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.closed {
		return
	}
	shutdown(sk.fd[e])
	sk.shut[e] = true
	drain(sk.fd[e]) // what was sent to e can never be read: the kernel frees it
	for _, b := range sk.blobs[e] {
		sk.meter.Free(b)
	}
	sk.blobs[e] = nil
	if sk.shut[0] && sk.shut[1] {
		sk.closeLocked()
	}
}

// closeLocked closes both sockets. sk.mu held.
func (sk *pipeSockets) closeLocked() {
	if !sk.closed {
		sk.closed = true
		closeFD(sk.fd[0])
		closeFD(sk.fd[1])
		sk.budget.Add(-sk.charge)
		for e := range sk.blobs {
			for _, b := range sk.blobs[e] {
				sk.meter.Free(b)
			}
			sk.blobs[e] = nil
		}
	}
}

// closeSockets closes every direct pipe's sockets: the run is over.
func (s *Supervisor) closeSockets() {
	s.mu.Lock()
	all := s.sockets
	s.sockets = nil
	s.mu.Unlock()
	for _, sk := range all {
		sk.mu.Lock()
		sk.closeLocked()
		sk.mu.Unlock()
	}
}

// attach answers a runner's KindAttach: the socket of the end named by
// the handle, if the pipe is direct and the process holds that end, or
// the word of a direct lock (attachLock), or a direct queue's socket and
// words (attachQueue). fds are copies of the descriptors the runner needs
// (that socket, the locks' memory file), to send with the reply and close.
func (s *Supervisor) attach(p *proc, m *wire.Msg) (reply *wire.Msg, fds []int) {
	// Ints[0] (wire.Attach...): refused when not a pipe end the process
	// holds (the host's answer to the call will say so).
	reply = &wire.Msg{Kind: wire.KindReply, Ints: []int64{wire.AttachRefused}}
	if l, _, err := lookup[ipc.Shared](s, int32(m.Int(0))); err == nil {
		reply, fd := s.attachLock(p, l)
		return reply, one(fd)
	}
	if q, _, err := lookup[*ipc.Queue](s, int32(m.Int(0))); err == nil {
		return s.attachQueue(p, q)
	}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	if err != nil {
		return reply, nil
	}
	sk := s.socketsOf(pipe)
	switch {
	case sk == nil:
		reply.Ints[0] = wire.AttachHost
		return reply, nil
	case !pipe.Holds(p.handle, end):
		return reply, nil
	}
	// A copy of the socket is sent, made under the lock (the sockets close
	// when both ends are gone) and sent after it: a runner slow to read
	// must not hold up whoever lets an end of this pipe go.
	fd := -1
	sk.mu.Lock()
	if !sk.closed {
		if fd, err = dupFD(sk.fd[end]); err != nil {
			fd = -1
		}
	}
	sk.mu.Unlock()
	if fd < 0 {
		return reply, nil
	}
	reply.Ints = []int64{wire.AttachPipe, int64(end), flag(pipe.Duplex()), s.cfg.MaxMessage, s.recordsWanted(p), int64(sk.inline)}
	return reply, []int{fd}
}

// one is fd as a list of descriptors: none when it is -1.
func one(fd int) []int {
	if fd < 0 {
		return nil
	}
	return []int{fd}
}

// recordsWanted is what the host wants of the calls p's runner serves: 2
// a record with their whole inputs (the trace log shows them), 1 a record
// with a preview of a message (the event log), 0 nothing.
func (s *Supervisor) recordsWanted(p *proc) int64 {
	switch {
	case p.log.IsTrace():
		return 2
	case s.ev != nil:
		return 1
	}
	return 0
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// blobPut keeps a large message sent on a direct pipe until its receiver
// takes it: KindBlobPut, answered with the message's id. The limit on what
// the objects hold is the one every message meets (admit).
func (s *Supervisor) blobPut(p *proc, m *wire.Msg) *wire.Msg {
	reply := &wire.Msg{Kind: wire.KindReply}
	if q, _, err := lookup[*ipc.Queue](s, int32(m.Int(0))); err == nil {
		// A direct queue's: anyone may put, and take.
		qs := s.queueSocketOf(q)
		switch {
		case qs == nil:
			reply.Errno = abi.ECLOSED
		default:
			if err := s.ipcRoom(int64(len(m.Buf(0)))); err != nil {
				reply.Errno = errnoOf(err)
			} else {
				reply.Errno = qs.keep(m.Buf(0), reply)
			}
		}
		return reply
	}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	sk := (*pipeSockets)(nil)
	if err == nil {
		sk = s.socketsOf(pipe)
	}
	data := m.Buf(0)
	switch {
	case sk == nil || !pipe.Holds(p.handle, end):
		reply.Errno = abi.ECLOSED
	default:
		if err := s.ipcRoom(int64(len(data))); err != nil {
			reply.Errno = errnoOf(err)
		} else {
			reply.Errno = sk.keep(1-end, data, reply)
		}
	}
	return reply
}

// keep keeps a large message for end to until taken, and sets its id in
// reply; EBROKENPIPE when end to is gone (the message could never be
// taken: kept, it would only hold memory).
func (sk *pipeSockets) keep(to int, data []byte, reply *wire.Msg) abi.Errno {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.shut[to] || sk.closed {
		return abi.EBROKENPIPE
	}
	if sk.blobs[to] == nil {
		sk.blobs[to] = map[int64][]byte{}
	}
	sk.next++
	sk.blobs[to][sk.next] = bytes.Clone(data)
	sk.meter.Hold(data)
	reply.Ints = []int64{sk.next}
	return abi.OK
}

// blobTake hands a large message to the receiver of its ticket
// (KindBlobTake) and forgets it.
func (s *Supervisor) blobTake(p *proc, m *wire.Msg) *wire.Msg {
	reply := &wire.Msg{Kind: wire.KindReply, Errno: abi.ECLOSED}
	if q, _, err := lookup[*ipc.Queue](s, int32(m.Int(0))); err == nil {
		if qs := s.queueSocketOf(q); qs != nil {
			if b, ok := qs.take(m.Int(1)); ok {
				reply.Errno, reply.Bufs = abi.OK, [][]byte{b}
			}
		}
		return reply
	}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	if err == nil && pipe.Holds(p.handle, end) {
		if sk := s.socketsOf(pipe); sk != nil {
			sk.mu.Lock()
			b, ok := sk.blobs[end][m.Int(1)]
			delete(sk.blobs[end], m.Int(1))
			if ok {
				sk.meter.Free(b)
				reply.Errno, reply.Bufs = abi.OK, [][]byte{b}
			}
			sk.mu.Unlock()
		}
	}
	return reply
}

// runnerRequest answers a frame a runner sends of its own, for the direct
// pipes, locks and queues its process uses (KindAttach, KindBlobPut,
// KindBlobTake, KindSync); fds go with the reply and are closed after.
func (s *Supervisor) runnerRequest(p *proc, m *wire.Msg) (*wire.Msg, []int) {
	switch m.Kind {
	case wire.KindAttach:
		return s.attach(p, m)
	case wire.KindBlobPut:
		return s.blobPut(p, m), nil
	case wire.KindBlobTake:
		return s.blobTake(p, m), nil
	}
	// KindSync: answered in order, after every frame the runner sent before.
	return &wire.Msg{Kind: wire.KindReply}, nil
}

// runnerWait enters a wait the runner reported (KindWait) in the table
// of waits, as a wait in a host call would be. The call is kept (p.waiting)
// until the runner says it woke: if the process ends first, the call is
// recorded as interrupted (endWait).
func (s *Supervisor) runnerWait(p *proc, m *wire.Msg) {
	h := int32(m.Int(0))
	obj, end, err := lookup[ipc.Object](s, h)
	if err != nil || len(m.Ints) < 3 {
		return
	}
	timeout := time.Duration(m.Int(1))
	if timeout < 0 {
		timeout = -1
	}
	now := time.Now()
	// The call, for the trace log and for its record should the process
	// end first; a wait the call's inputs do not decode for is a wait all
	// the same.
	if args, err := abi.Decode(m.Op, m.Ints[2:], m.Bufs); err == nil {
		c := &Call{Process: p.handle, Op: m.Op, p: p, Began: now, Blocked: now, Runner: true, Args: args}
		if p.log.IsTrace() {
			// The trace log shows the call as it goes to sleep, as it does
			// a call the host serves.
			p.log.Trace("==> " + c.Args.String())
		}
		p.waiting.Store(c)
	}
	p.on = waitOn{op: m.Op.String(), handle: h, obj: obj, end: end, timeout: timeout, runner: true}
	if w := p.w.Load(); w != nil {
		p.on.pid = w.pid
	}
	switch o := obj.(type) {
	case *ipc.Pipe:
		p.on.sockets, p.on.send = s.socketsOf(o), m.Op == abi.OpConnSend
	case *ipc.Queue:
		p.on.queue, p.on.send = s.queueSocketOf(o), m.Op == abi.OpQueuePut
	}
	s.sleep(p, obj, timeout)
	p.on = waitOn{}
}

// endWait removes p's wait, if it has one: its runner woke (KindWoke,
// ended false), or p ended while its runner reported it waiting (ended:
// the call is recorded as interrupted, as a call the host served is).
func (s *Supervisor) endWait(p *proc, ended bool) {
	s.waitMu.Lock()
	_, ok := s.waits[p.handle]
	s.waitMu.Unlock()
	if ok {
		s.wake(p)
	}
	if c := p.waiting.Swap(nil); c != nil && ended {
		c.Ended, c.Woke = time.Now(), time.Now()
		c.Errno, c.Err = abi.EIO, fail(abi.EIO, "the process ended during the call")
		s.record(c, p.log.IsTrace())
	}
}

// directWaking reports whether a process its runner reported waiting on
// a direct pipe, lock or queue is about to wake: the end's socket is
// ready (a message came, or room, or the other end is gone), or the
// queue's (a message came, or the host holds one for it), or the queue
// has room, or the lock is free,
// or it holds the lock (its runner took it a moment ago), but the runner
// has not said so yet (a loaded machine may not run it for a while), or
// its runner is not asleep at all (a thread of it runs or waits for a
// CPU: it took the message or the lock, and is on its way to say so).
// The deadlock detector asks before it declares one. (A process that waits
// for a Lock it holds itself is deadlocked all the same: after
// selfHeldGrace that is what it is taken for.)
func (s *Supervisor) directWaking() bool {
	s.waitMu.Lock()
	ws := make([]waiting, 0, len(s.waits))
	for _, w := range s.waits {
		ws = append(ws, *w)
	}
	s.waitMu.Unlock()
	// (The objects' own locks are taken after waitMu is let go: a wake
	// takes waitMu under them.)
	for _, w := range ws {
		if sk := w.on.sockets; sk != nil {
			sk.mu.Lock()
			waking := !sk.closed && ready(sk.fd[w.on.end], w.on.send)
			sk.mu.Unlock()
			if waking {
				return true
			}
		}
		if qs := w.on.queue; qs != nil {
			if w.on.send {
				if q, ok := w.on.obj.(*ipc.Queue); ok && q.HasRoom() {
					return true
				}
			} else {
				qs.mu.Lock()
				waking := !qs.closed && (len(qs.spilled) > 0 || ready(qs.fd, false))
				qs.mu.Unlock()
				if waking {
					return true
				}
			}
		}
		if l, ok := w.on.obj.(ipc.Shared); ok {
			if l.Available() {
				return true
			}
			if w.on.runner && l.HeldBy(w.w.Process) && time.Since(w.w.Since) < selfHeldGrace {
				return true
			}
		}
	}
	for _, w := range ws {
		if w.on.runner && w.on.pid > 0 && runnable(w.on.pid) && s.mayPutOff() {
			// Its runner runs (or waits for a CPU): it has what it waited
			// for, and has not said so yet.
			s.log.Debug("deadlock verdict put off: a waiting process's runner is running", "pid", w.on.pid)
			return true
		}
	}
	return false
}

// maxPutOffs bounds how many times in a row, with nothing happening in
// the run meanwhile, a running runner puts a deadlock verdict off (each
// time by two DeadlockAfter): a thread stuck in an uninterruptible sleep
// (state D: a frozen cgroup, a hung file system) is not on its way to
// say it woke.
const maxPutOffs = 8

// mayPutOff counts one more verdict put off because a runner was running,
// and reports whether that may be: not past maxPutOffs since the run last
// moved.
func (s *Supervisor) mayPutOff() bool {
	gen := s.generation.Load()
	if s.putOffGen.Swap(gen) != gen {
		s.putOffs.Store(0)
	}
	return s.putOffs.Add(1) <= maxPutOffs
}

// selfHeldGrace is how long a process reported waiting on a lock it holds
// is taken to be one whose runner has taken the lock and not said so yet.
const selfHeldGrace = 2 * time.Second

// Fields of a KindRecord frame, before the call's inputs.
const (
	recErrno = iota
	recBegan
	recEnded
	recBlocked
	recWoke
	recSeq
	recSize
	recResult
	recInts // the call's input Ints follow
)

// runnerRecord is a call the runner served (KindRecord), handed on as
// the host's own calls are (record): to the event log and the trace log.
func (s *Supervisor) runnerRecord(p *proc, m *wire.Msg) {
	defer survive(p, "recording a call its runner served")
	s.moved()
	if len(m.Ints) < recInts || len(m.Bufs) < 2 {
		return
	}
	c := &Call{
		Process: p.handle, Op: m.Op, p: p,
		Began: unixTime(m.Ints[recBegan]), Ended: unixTime(m.Ints[recEnded]),
		Blocked: unixTime(m.Ints[recBlocked]), Woke: unixTime(m.Ints[recWoke]),
		Errno: abi.Errno(m.Ints[recErrno]), Seq: uint64(m.Ints[recSeq]),
		Runner: true,
	}
	args, err := abi.Decode(m.Op, m.Ints[recInts:], m.Bufs[2:])
	if err != nil {
		return
	}
	c.Args = args
	size := int(m.Ints[recSize])
	switch {
	case c.Errno == abi.E2SMALL:
		c.size = size
		c.Err = fail(c.Errno, "the result needs %d, the buffer holds less", size)
	case c.Errno != abi.OK:
		c.Err = fail(c.Errno, "%s", m.Buf(0))
	case m.Op == abi.OpConnRecv, m.Op == abi.OpQueueGet:
		c.Args.SetBytes(abi.PData, m.Buf(1))
		c.payload = size
	case m.Op == abi.OpConnSend, m.Op == abi.OpQueuePut:
		c.payload = size
	case m.Op == abi.OpConnPoll:
		c.Args.SetBool(abi.PReady, m.Ints[recResult] != 0)
	case m.Op == abi.OpLockAcquire:
		c.Args.SetBool(abi.PAcquired, m.Ints[recResult] != 0)
	}
	trace := p.log.IsTrace()
	if trace && c.Blocked.IsZero() {
		// (A call that waited was shown as it went to sleep: runnerWait.)
		p.log.Trace("==> " + c.Args.String())
	}
	s.record(c, trace)
}

// unixTime is a time a runner reported in Unix nanoseconds (0: none).
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// directCheck is what a host handler does with a call on a direct pipe,
// which a runner that holds the end serves itself: the checks of the
// host's own pipe (closed, direction), and, when they pass, a failure (the
// runner could not take the end's socket).
func directCheck(pipe *ipc.Pipe, who int32, end int, send bool) error {
	if err := pipe.Check(who, end, send); err != nil {
		return err
	}
	return fail(abi.EIO, "the pipe is served by its processes' runners, and this one has not its socket")
}
