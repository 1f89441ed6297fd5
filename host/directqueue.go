package host

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct queues (Config.DirectQueues; README, "Direct queues").
//
// A queue's messages do not pass through the host: each queue is one
// datagram socket connected to itself (what is sent on it is received on
// it), and the runner of every process that uses the queue sends and
// receives on its own copy, as CPython's Queue is a pipe every process
// writes and reads, a lock around each end. A datagram is one message,
// whole, to one receiver. The queue's counts are words in the memory of
// the direct locks (internal/lockword): free, the room left, which a put
// takes and a get gives back (CPython's BoundedSemaphore of maxsize; an
// unbounded queue's is as large as a word holds), so qsize is the
// capacity less free; and a JoinableQueue's unfinished tasks, which a put
// adds to and task_done (served by the host) takes from. The host keeps
// the rest: who closed the queue, task_done and join, and what the
// deadlock detector needs (waits reported as for direct pipes).
//
// A put on an unbounded queue never waits for a getter (CPython's feeder
// thread buffers what its pipe cannot take yet). The socket holds about
// 200 KiB, so when it is full the runner waits a moment for room for a
// message of 1 KiB or more (at most a millisecond, within the put's
// timeout: runner.roomWait) and, if it is still full, hands the message
// to the host (KindSpill), which writes it into
// the socket as room comes, in the order it came; the first
// time, the host makes the socket hold about 2 MiB (grow), if the sockets'
// half of MaxIPCBytes has room for it: a stream of 4 KiB messages filled
// 200 KiB in 26, and a message handed to the host is a frame and a copy
// more (README, "Direct queues"). The host counts what it holds in the
// queue's spill word (up when a frame comes, down once written); a runner
// puts into the socket itself only while that word is zero and the host
// has answered it since its last hand-over (so has counted it: the host
// deals with a runner's frames in order), with a KindSync round trip when
// it cannot tell yet. So one process's messages keep their order (as in
// CPython, those of two processes have none between them). A message
// larger than a datagram travels as a ticket, as on direct pipes
// (KindBlobPut, KindBlobTake).

// queueSocket is a direct queue's socket and what the host keeps for it.
type queueSocket struct {
	q      *ipc.Queue
	fd     int
	inline int // the largest message sent as one datagram
	off    int // the offset of the queue's two slots in the locks' memory
	spill  *atomic.Uint32
	sndbuf int  // what the socket holds (SO_SNDBUF)
	grown  bool // grow was tried

	mu      sync.Mutex
	closed  bool
	spilled [][]byte // datagrams handed over by runners, in order, not yet written
	writing bool     // a goroutine writes spilled
	blobs   map[int64][]byte
	next    int64
	meter   *ipc.Meter
	charge  int64
	budget  *atomic.Int64
}

// queueSlots is how many lock slots a direct queue's words take: free and
// the spill count in the first, unfinished in the second.
const queueSlots = 2

// newDirectQueue makes q a direct queue, if the platform can: a socket
// and words for it. It reports whether it did. What the sockets may hold
// counts with the direct pipes' (newDirectPipe): past half of MaxIPCBytes
// a new queue is served by the host, as one past the locks' memory is.
func (s *Supervisor) newDirectQueue(q *ipc.Queue) bool {
	fd, inline, sndbuf, err := selfSocket()
	if err != nil {
		s.log.Debug("a queue is served by the host: no socket for it", "error", err)
		return false
	}
	charge, ok := s.chargeSockets(int64(sndbuf))
	if !ok {
		closeFD(fd)
		s.log.Debug("a queue is served by the host: the direct sockets may hold half of --max-ipc already")
		return false
	}
	mem, off, ok := s.allocSlots(queueSlots)
	if !ok {
		s.socketBytes.Add(-charge)
		closeFD(fd)
		return false
	}
	free, spill := lockword.Slot(mem, off)
	unfin, _ := lockword.Slot(mem, off+lockword.SlotSize)
	spill.Store(0)
	q.Share(free, unfin, func() { lockword.WakeAll(free) })
	qs := &queueSocket{q: q, fd: fd, inline: inline, off: off, spill: spill, sndbuf: sndbuf, meter: &s.held, charge: charge, budget: &s.socketBytes}
	s.mu.Lock()
	if s.queues == nil {
		s.queues = map[*ipc.Queue]*queueSocket{}
	}
	s.queues[q] = qs
	s.mu.Unlock()
	return true
}

// queueSocketOf returns the socket of a direct queue, nil for another.
func (s *Supervisor) queueSocketOf(q *ipc.Queue) *queueSocket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queues[q]
}

// attachQueue answers a runner's KindAttach for a direct queue: where its
// words are and what it is. fds are a copy of its socket and one of the
// locks' memory file, to send with the reply and close.
func (s *Supervisor) attachQueue(p *proc, q *ipc.Queue) (reply *wire.Msg, fds []int) {
	reply = &wire.Msg{Kind: wire.KindReply, Ints: []int64{wire.AttachHost}}
	qs := s.queueSocketOf(q)
	if qs == nil {
		return reply, nil
	}
	// From here on a failure is refused, not remembered: the runner asks
	// again at the process's next call (the host cannot serve it).
	reply.Ints[0] = wire.AttachRefused
	qs.mu.Lock()
	sock, err := -1, error(nil)
	if !qs.closed {
		sock, err = dupFD(qs.fd)
	}
	qs.mu.Unlock()
	if sock < 0 || err != nil {
		return reply, nil
	}
	lm := &s.locks
	lm.mu.Lock()
	mem, err := dupFD(lm.fd)
	lm.mu.Unlock()
	if err != nil {
		closeFD(sock)
		return reply, nil
	}
	reply.Ints = []int64{wire.AttachQueue, int64(qs.off), int64(q.Maxsize()), flag(q.Kind() == "joinable_queue"),
		s.cfg.MaxMessage, s.recordsWanted(p), int64(qs.inline), lockMemorySize}
	return reply, []int{sock, mem}
}

// spill takes a message a runner could not put into its queue's full
// socket (KindSpill) and writes it there as room comes. What the host
// holds so counts as any message an object holds (--max-ipc).
func (s *Supervisor) spill(p *proc, m *wire.Msg) {
	q, _, err := lookup[*ipc.Queue](s, int32(m.Int(0)))
	if err != nil {
		return
	}
	qs := s.queueSocketOf(q)
	if qs == nil {
		return
	}
	dg := m.Buf(0)
	if err := s.ipcRoom(int64(len(dg))); err != nil {
		return // the run ends
	}
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.closed {
		return
	}
	qs.grow(s)
	qs.spilled = append(qs.spilled, bytes.Clone(dg))
	qs.spill.Add(1)
	qs.meter.Hold(dg)
	if !qs.writing {
		qs.writing = true
		go qs.writeSpilled(s)
	}
}

// grownSocket is what a direct queue's socket is asked to hold once it
// was full: the kernel grants twice that (2 MiB), within
// net.core.wmem_max (grantedSendBuffer).
const grownSocket = 1 << 20

// grow makes the socket hold grownSocket, once, if the kernel would grant
// more than it holds now and the sockets' half of MaxIPCBytes has room for
// what it grants more, which counts there until the run ends. (A kernel
// whose wmem_max is below what the socket holds would shrink it: not
// asked.) qs.mu held.
func (qs *queueSocket) grow(s *Supervisor) {
	if qs.grown {
		return
	}
	qs.grown = true
	want, ok := grantedSendBuffer(grownSocket)
	if !ok || want <= qs.sndbuf {
		return
	}
	charge, ok := s.chargeSockets(int64(want - qs.sndbuf))
	if !ok {
		return
	}
	if err := setSendBuffer(qs.fd, grownSocket); err != nil {
		s.socketBytes.Add(-charge)
		return
	}
	qs.charge += charge
	qs.sndbuf = want
}

// spillPoll is how long the writer of spilled messages waits for room at
// a time before it looks whether the run is over.
const spillPoll = 100 * time.Millisecond

// writeSpilled writes the spilled messages into the socket, oldest first,
// as room comes, and ends when none is left or the socket is closed.
func (qs *queueSocket) writeSpilled(s *Supervisor) {
	for {
		qs.mu.Lock()
		if qs.closed || len(qs.spilled) == 0 {
			qs.writing = false
			qs.mu.Unlock()
			return
		}
		dg := qs.spilled[0]
		switch sent := sendNow(qs.fd, dg); sent {
		case sendOK, sendFailed:
			qs.spilled[0] = nil
			qs.spilled = qs.spilled[1:]
			qs.meter.Free(dg)
			qs.spill.Add(^uint32(0))
			qs.mu.Unlock()
			if sent == sendFailed {
				// Refused for good (it never is, by a socket that is open
				// and a datagram a quarter of its buffer): the message is
				// lost, and what its put took is given back, and the body
				// the host kept for a ticket.
				s.log.Warn("a queue's message could not be written into its socket and is lost")
				if id, ok := wire.Ticket(dg); ok {
					qs.take(id)
				}
				qs.q.Dropped()
			}
		case sendFull:
			fd := qs.fd
			qs.mu.Unlock()
			waitWritable(fd, spillPoll)
		}
	}
}

// keep keeps a large message until its receiver takes it, and sets its
// id in reply.
func (qs *queueSocket) keep(data []byte, reply *wire.Msg) abi.Errno {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.closed {
		return abi.ECLOSED
	}
	if qs.blobs == nil {
		qs.blobs = map[int64][]byte{}
	}
	qs.next++
	qs.blobs[qs.next] = bytes.Clone(data)
	qs.meter.Hold(data)
	reply.Ints = []int64{qs.next}
	return abi.OK
}

// take hands over the large message kept under id, and forgets it.
func (qs *queueSocket) take(id int64) ([]byte, bool) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	b, ok := qs.blobs[id]
	delete(qs.blobs, id)
	if ok {
		qs.meter.Free(b)
	}
	return b, ok
}

// closeQueues closes every direct queue's socket and gives each queue its
// counts back: the run is over (every runner is gone), and the locks'
// memory, where the counts are, goes next.
func (s *Supervisor) closeQueues() {
	s.mu.Lock()
	all := s.queues
	s.queues = nil
	s.mu.Unlock()
	for q, qs := range all {
		qs.mu.Lock()
		if !qs.closed {
			qs.closed = true
			closeFD(qs.fd)
			qs.budget.Add(-qs.charge)
			for _, dg := range qs.spilled {
				qs.meter.Free(dg)
			}
			for _, b := range qs.blobs {
				qs.meter.Free(b)
			}
			qs.spilled, qs.blobs = nil, nil
		}
		qs.mu.Unlock()
		q.Unshare()
	}
}

// queueDirectCheck is what a host handler does with a put or a get on a
// direct queue, which the runners serve: the host's own checks (a queue
// the process closed), and when they pass, a failure (the runner could
// not take the queue's socket).
func queueDirectCheck(c *Call, q *ipc.Queue) error {
	if err := q.Check(c.ctx(), c.Process); err != nil {
		return err
	}
	return fail(abi.EIO, "the queue is served by its processes' runners, and this one has not its socket")
}
