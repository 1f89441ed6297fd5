package runner

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct queues (host/directqueue.go says why and what the host keeps):
// a queue is a datagram socket connected to itself, and queue_put and
// queue_get are a send and a receive on it, with the queue's counts
// (room left, unfinished tasks) as words in the memory of the direct
// locks: no frame to the host unless the socket is full or the host still
// holds earlier messages (the message goes to the host to write when room
// comes, KindSpill; and a KindSync first when the runner cannot tell
// whether the host has taken the last it handed over), the message is
// larger than a datagram (a ticket, as on direct pipes), the process
// printed since its last answer (KindSync), or a wait lasts longer than
// shortWait (reported as for pipes).

// queueRef is a direct queue the process used: its socket (and a message
// received that the guest's buffer could not hold) as a pipe end's, and
// its words.
type queueRef struct {
	pipeEnd
	room     lockRef        // free: the room left, a Count a put takes and a get gives back
	spill    *atomic.Uint32 // the messages the host holds and has not yet written into the socket
	unfin    *atomic.Uint32 // a JoinableQueue's unfinished tasks
	maxsize  int64          // 0: unbounded
	joinable bool
	// spilled: the process handed the host a message of the queue that
	// the host may not have taken yet (counted in spill only once it has:
	// the host counts what it receives, so a runner killed as it hands a
	// message over leaves no count behind); answers is the runner's
	// count of answers then (remote.answers): any later answer means the
	// host has taken it.
	spilled bool
	answers uint64
}

// serveQueue serves queue_put (or queue_post, the put posted),
// queue_get or queue_info on handle h if it is a direct queue; ok is
// false when the host is to serve it.
func (d *direct) serveQueue(req *wire.Msg, h int32) (reply *wire.Msg, ok bool, err error) {
	if d.closedQueues[h] {
		return nil, false, nil
	}
	q, err := d.queue(h)
	if q == nil || err != nil {
		return nil, false, err
	}
	post := req.Op == abi.OpQueuePost
	if post {
		// Served, and recorded, as the put it posts, when the message is
		// in the queue (or on its way to the host).
		d.post = *req
		d.post.Kind, d.post.Op = wire.KindCall, abi.OpQueuePut
		req = &d.post
	}
	c := d.begin(req, &q.pipeEnd)
	switch req.Op {
	case abi.OpQueuePut:
		if q.maxMsg > 0 && int64(len(req.Buf(0))) > q.maxMsg {
			return nil, false, nil // the host's limit ends the run
		}
		err = c.put(q, h, req.Buf(0), time.Duration(req.Int(1)))
	case abi.OpQueueInfo:
		err = c.info(q)
	default:
		err = c.get(q, time.Duration(req.Int(1)), int(req.Int(2)))
	}
	if err != nil {
		return nil, false, err
	}
	c.record()
	if post {
		// A posted call's answer is always 0 (docs/ABI.md, "Posted
		// calls"); its failure is in its record.
		return &posted, true, nil
	}
	return &c.reply, true, nil
}

// queue returns the direct queue behind handle h, asking the host for it
// the first time; nil when the host serves it.
func (d *direct) queue(h int32) (*queueRef, error) {
	if q, ok := d.queues[h]; ok {
		return q, nil
	}
	reply, fds, err := d.attach(h)
	if err != nil {
		return nil, err
	}
	if reply.Int(0) != wire.AttachQueue || len(fds) != 2 {
		closeFDs(fds)
		if k := reply.Int(0); k == wire.AttachHost || k == wire.AttachPipe || k == wire.AttachLock {
			d.queues[h] = nil
		}
		return nil, nil
	}
	sock := fds[0]
	mapped := d.mapMemory(fds[1], int(reply.Int(7)))
	unix.Close(fds[1])
	off := int(reply.Int(1))
	if !mapped || off < 0 || off+2*lockword.SlotSize > len(d.mem) || unix.SetNonblock(sock, true) != nil {
		unix.Close(sock)
		return nil, nil
	}
	free, spill := lockword.Slot(d.mem, off)
	unfin, _ := lockword.Slot(d.mem, off+lockword.SlotSize)
	capacity := uint32(lockword.MaxValue)
	if m := reply.Int(2); m > 0 {
		capacity = uint32(min(m, lockword.MaxValue))
	}
	q := &queueRef{
		pipeEnd:  pipeEnd{fd: sock, duplex: true, maxMsg: reply.Int(4), inline: min(int(reply.Int(6)), maxInline)},
		room:     lockRef{word: free, kind: lockword.Count, max: capacity},
		spill:    spill,
		unfin:    unfin,
		maxsize:  reply.Int(2),
		joinable: reply.Int(3) != 0,
	}
	d.want = reply.Int(5)
	d.queues[h] = q
	if d.buf == nil {
		d.buf = make([]byte, dgHeader+maxInline)
	}
	return q, nil
}

// put puts data into queue q (handle h): it takes room (waiting up to
// timeout for it when the queue is bounded), counts an unfinished task,
// and sends the message; when the socket is full, or the host still
// holds messages of the queue not written, the host takes it to write.
func (c *call) put(q *queueRef, h int32, data []byte, timeout time.Duration) error {
	d := c.d
	c.size, c.preview = len(data), data[:min(len(data), previewBytes)] // (a wait reports them)
	wordTimeout := timeout
	if q.room.max == lockword.MaxValue {
		wordTimeout = 0 // (the room of an unbounded queue is never short)
	}
	ok, err := c.waitWord(&q.room, 0, wordTimeout)
	if err != nil {
		return err
	}
	if !ok {
		return c.fail(abi.EFULL, "queue put: queue is full")
	}
	if q.joinable {
		lockword.Release(q.unfin, lockword.Count, lockword.MaxValue)
	}
	if d.r.unsynced {
		// What the process printed or posted before this put reaches the
		// host before the message can reach its getter, whose next line
		// or call would otherwise race it there.
		if _, err := d.r.roundTrip(&wire.Msg{Kind: wire.KindSync}); err != nil {
			return err
		}
	}
	out, err := c.datagram(data)
	if out == nil || err != nil {
		c.unput(q)
		return err
	}
	if q.spilled && q.spill.Load() == 0 && d.r.answers == q.answers {
		// The host may not have taken what this process handed it last:
		// once it has, the spill count says whether it is written.
		if _, err := d.r.roundTrip(&wire.Msg{Kind: wire.KindSync}); err != nil {
			return err
		}
	}
	if q.spilled && d.r.answers != q.answers {
		q.spilled = false
	}
	if !q.spilled && q.spill.Load() == 0 {
		errno := writeDatagram(q.fd, out)
		if errno == syscall.EAGAIN && c.waitRoom(q, len(data), timeout) && q.spill.Load() == 0 {
			errno = writeDatagram(q.fd, out) // (the host still holds none of the queue's)
		}
		switch errno {
		case 0:
			return nil
		case syscall.EAGAIN, syscall.ENOBUFS, syscall.ENOMEM:
			// (The host writes it once there is room, or memory.)
		default:
			c.unput(q)
			return c.fail(abi.EIO, "queue put: "+errno.Error())
		}
	}
	// No later put of this process goes to the socket before the host
	// has taken this one and written it there.
	q.spilled, q.answers = true, d.r.answers
	return d.r.send(&wire.Msg{Kind: wire.KindSpill, Ints: []int64{int64(h)}, Bufs: [][]byte{out}})
}

// waitRoom waits, the socket being full, for room for a message of n
// bytes, and reports whether the socket became writable: at most
// roomWait, within a timed put's timeout (counted from c.began, when the
// put began to wait for the queue's room, if it did), not at all for a
// put_nowait or a message under roomWaitFrom.
func (c *call) waitRoom(q *queueRef, n int, timeout time.Duration) bool {
	if n < roomWaitFrom || timeout == 0 {
		return false
	}
	wait := roomWait
	if timeout > 0 {
		left := timeout
		if !c.began.IsZero() {
			left -= time.Since(c.began)
		}
		wait = min(wait, left)
	}
	return wait > 0 && pollFD(q.fd, unix.POLLOUT, wait)
}

// roomWait bounds how long a put that found the socket full waits for
// room before it hands the message to the host (KindSpill); a put with a
// timeout waits within it (put_nowait: not at all). A put to an unbounded
// queue never waits for a getter, as CPython's (its feeder thread
// writes); but a getter in another process that is taking messages makes
// room within this (the socket is writable again once three quarters of
// it are taken: a few hundred microseconds at its first size; once the
// host has made it hold 2 MiB, more than this, and the put then goes to
// the host after the wait, which only a putter faster than its getters
// meets; a getter in the putter's own process waits with it), and a
// message written here costs a fraction of one the host carries, so a
// putter faster than its getters puts at their pace instead of sending
// most messages through the host (README, "Direct queues"). Once the host
// holds messages, later puts go to it at once, in order, until it has
// written them.
const roomWait = time.Millisecond

// roomWaitFrom is the size of the smallest message a put waits for room
// for: a smaller one handed to the host costs little more than one
// written here, and the putter goes on at once (queue, 64 B messages,
// medians of 8 interleaved runs: 2.64 us a message with the wait, 2.14
// without it; 4 KiB messages, with the SDK's send buffer: 10.2 without,
// 7.7 with).
const roomWaitFrom = 1 << 10

// spillWait bounds how long a get that found the socket empty waits for
// the messages the host holds for it.
const spillWait = time.Second

// info answers queue_info from the queue's words, as the host would:
// qsize (what was put and not yet got: the room taken), maxsize, the
// unfinished tasks.
func (c *call) info(q *queueRef) error {
	args, err := abi.Decode(c.req.Op, c.req.Ints, c.req.Bufs)
	if err != nil {
		return c.fail(abi.EINVAL, err.Error())
	}
	qsize := lockword.Taken(q.room.word.Load(), q.room.max)
	args.SetRecord(abi.PInfo, int64(qsize), q.maxsize, int64(lockword.Value(q.unfin.Load())))
	c.reply.Ints, c.reply.Bufs = args.Results()
	return nil
}

// giveRoom gives back one place of room, and wakes the puts waiting for
// it.
func (q *queueRef) giveRoom() {
	if sleepers, _ := lockword.Release(q.room.word, lockword.Count, q.room.max); sleepers&lockword.RunnersWait != 0 {
		lockword.WakeAll(q.room.word)
	}
}

// unput gives back what a put that failed took: its room, its task (and
// a join waiting for the last task is told, as after a task_done).
func (c *call) unput(q *queueRef) {
	q.giveRoom()
	if q.joinable {
		if ok, _ := lockword.TryAcquire(q.unfin, lockword.Count, 0, 0); ok && lockword.Value(q.unfin.Load()) == 0 {
			c.d.r.send(&wire.Msg{Kind: wire.KindReleased, Ints: []int64{c.req.Int(0)}})
		}
	}
}

// get takes the message at the head of queue q into the reply, waiting
// up to timeout for one, and gives back its room.
func (c *call) get(q *queueRef, timeout time.Duration, limit int) error {
	if err := c.recv(timeout, limit); err != nil {
		return err
	}
	// Messages the host holds for the socket, which had room, are about
	// to be in it: a get that found it empty (get_nowait included) waits
	// for them, a moment, as for messages that are in the queue. (A
	// process's puts are in the queue before its end, as CPython's feeder
	// is flushed before a process ends.)
	wait := spillWait
	if timeout > 0 {
		wait = min(wait, timeout) // (a timed get waits at most twice its time)
	}
	for deadline := time.Now().Add(wait); c.reply.Errno == abi.ETIMEDOUT && q.spill.Load() > 0 && time.Now().Before(deadline); {
		pollFD(q.fd, unix.POLLIN, time.Until(deadline))
		c.reply, c.reason = wire.Msg{}, ""
		if err := c.recv(0, limit); err != nil {
			return err
		}
	}
	switch c.reply.Errno {
	case abi.OK:
		q.giveRoom()
	case abi.ETIMEDOUT:
		return c.fail(abi.EEMPTY, "queue get: queue is empty")
	}
	return nil
}
