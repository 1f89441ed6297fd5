package host

import (
	"fmt"
	"sync"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct pipes (Config.DirectPipes; docs/ABI.md, "Direct pipes").
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

	mu    sync.Mutex
	blobs [2]map[int64][]byte // messages kept by the host, by the end that receives them
	next  int64
	meter *ipc.Meter
}

// newDirectPipe makes pipe a direct one, if the platform can: its sockets
// are made and hooked to its holders. It reports whether it did.
func (s *Supervisor) newDirectPipe(pipe *ipc.Pipe) bool {
	fds, inline, err := socketPair()
	if err != nil {
		s.log.Debug("a pipe is served by the host: no sockets for it", "error", err)
		return false
	}
	sk := &pipeSockets{fd: fds, inline: inline, meter: &s.held}
	pipe.OnGone(sk.gone)
	s.mu.Lock()
	if s.sockets == nil {
		s.sockets = map[*ipc.Pipe]*pipeSockets{}
	}
	s.sockets[pipe] = sk
	s.mu.Unlock()
	return true
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
func (sk *pipeSockets) gone(e int) {
	shutdown(sk.fd[e])
	sk.mu.Lock()
	for _, b := range sk.blobs[e] {
		sk.meter.Add(-len(b) - ipc.ItemOverhead)
	}
	sk.blobs[e] = nil
	sk.mu.Unlock()
}

// closeSockets closes every direct pipe's sockets: the run is over.
func (s *Supervisor) closeSockets() {
	s.mu.Lock()
	all := s.sockets
	s.sockets = nil
	s.mu.Unlock()
	for _, sk := range all {
		closeFD(sk.fd[0])
		closeFD(sk.fd[1])
	}
}

// attach answers a runner's KindAttach: the socket of the end named by
// the handle, if the pipe is direct and the process holds that end.
func (s *Supervisor) attach(conn *wire.Conn, p *proc, m *wire.Msg) error {
	// Ints[0]: 1 direct, 0 served by the host, -1 not a pipe end the
	// process holds (the host's answer to the call will say so).
	reply := &wire.Msg{Kind: wire.KindReply, Ints: []int64{-1}}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	if err != nil {
		return conn.Send(reply)
	}
	sk := s.socketsOf(pipe)
	switch {
	case sk == nil:
		reply.Ints[0] = 0
		return conn.Send(reply)
	case !pipe.Holds(p.handle, end):
		return conn.Send(reply)
	}
	// What the host wants of the calls served: 2 a record with their
	// whole inputs (the trace log shows them), 1 a record with a preview
	// of the message (the event log), 0 nothing.
	want := int64(0)
	switch {
	case p.log.IsTrace():
		want = 2
	case s.ev != nil:
		want = 1
	}
	reply.Ints = []int64{1, int64(end), flag(pipe.Duplex()), s.cfg.MaxMessage, want, int64(sk.inline)}
	return conn.SendFD(reply, sk.fd[end])
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// blobPut keeps a large message sent on a direct pipe until its receiver
// takes it: KindBlobPut, answered with the message's id.
func (s *Supervisor) blobPut(conn *wire.Conn, p *proc, m *wire.Msg) error {
	reply := &wire.Msg{Kind: wire.KindReply}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	sk := (*pipeSockets)(nil)
	if err == nil {
		sk = s.socketsOf(pipe)
	}
	data := m.Buf(0)
	switch {
	case sk == nil || !pipe.Holds(p.handle, end):
		reply.Errno = abi.ECLOSED
	case s.cfg.MaxIPCBytes > 0 && s.held.Bytes()+ipc.ItemOverhead+int64(len(data)) > s.cfg.MaxIPCBytes:
		msg := fmt.Sprintf("IPC limit: the shared objects would hold more than %s", bytesText(s.cfg.MaxIPCBytes))
		reply.Errno = errnoOf(s.ipcLimit(abi.EAGAIN, msg))
	default:
		to := 1 - end
		sk.mu.Lock()
		if sk.blobs[to] == nil {
			sk.blobs[to] = map[int64][]byte{}
		}
		sk.next++
		sk.blobs[to][sk.next] = clone(data)
		reply.Ints = []int64{sk.next}
		sk.mu.Unlock()
		s.held.Add(len(data) + ipc.ItemOverhead)
	}
	return conn.Send(reply)
}

// blobTake hands a large message to the receiver of its ticket
// (KindBlobTake) and forgets it.
func (s *Supervisor) blobTake(conn *wire.Conn, p *proc, m *wire.Msg) error {
	reply := &wire.Msg{Kind: wire.KindReply, Errno: abi.ECLOSED}
	pipe, end, err := lookup[*ipc.Pipe](s, int32(m.Int(0)))
	if err == nil && pipe.Holds(p.handle, end) {
		if sk := s.socketsOf(pipe); sk != nil {
			sk.mu.Lock()
			b, ok := sk.blobs[end][m.Int(1)]
			delete(sk.blobs[end], m.Int(1))
			sk.mu.Unlock()
			if ok {
				s.held.Add(-len(b) - ipc.ItemOverhead)
				reply.Errno, reply.Bufs = abi.OK, [][]byte{b}
			}
		}
	}
	return conn.Send(reply)
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

// runnerWait enters a wait the runner reported (KindWait) in the table
// of waits, as a wait in a host call would be.
func (s *Supervisor) runnerWait(p *proc, m *wire.Msg) {
	h := int32(m.Int(0))
	pipe, end, err := lookup[*ipc.Pipe](s, h)
	if err != nil {
		return
	}
	timeout := time.Duration(m.Int(1))
	if timeout < 0 {
		timeout = -1
	}
	if p.log.IsTrace() && len(m.Ints) > 2 {
		// The call's inputs follow: the trace log shows the call as it
		// goes to sleep, as it does a call the host serves.
		if args, err := abi.Decode(m.Op, m.Ints[2:], m.Bufs); err == nil {
			p.log.Trace("==> " + args.String())
		}
	}
	p.on = waitOn{op: m.Op.String(), handle: h, obj: pipe, end: end, timeout: timeout}
	s.sleep(p, pipe, timeout)
	p.on = waitOn{}
}

// endWait removes p's wait, if it has one: its runner woke (KindWoke), or
// p ended while its runner reported it waiting.
func (s *Supervisor) endWait(p *proc) {
	s.waitMu.Lock()
	_, ok := s.waits[p.handle]
	s.waitMu.Unlock()
	if ok {
		s.wake(p)
	}
}

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
	case m.Op == abi.OpConnRecv:
		c.Args.SetBytes(abi.PData, m.Buf(1))
		c.payload = size
	case m.Op == abi.OpConnSend:
		c.payload = size
	case m.Op == abi.OpConnPoll:
		c.Args.SetBool(abi.PReady, m.Ints[recResult] != 0)
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
