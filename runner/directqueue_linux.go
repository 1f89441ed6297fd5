package runner

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct queues (host/directqueue.go says why and what the host keeps):
// a queue is a datagram socket connected to itself, and queue_put and
// queue_get are a send and a receive on it, with the queue's counts
// (room left, unfinished tasks) as words in the memory of the direct
// locks: no frame to the host unless the socket is full (the message
// goes to the host to write when room comes, KindSpill), the message is
// larger than a datagram (a ticket, as on direct pipes), or a wait lasts
// longer than shortWait (reported as for pipes).

// queueRef is a direct queue the process used: its socket (and a message
// received that the guest's buffer could not hold) as a pipe end's, and
// its words.
type queueRef struct {
	pipeEnd
	room     lockRef        // free: the room left, a Count a put takes and a get gives back
	spill    *atomic.Uint32 // the messages handed to the host and not yet in the socket
	unfin    *atomic.Uint32 // a JoinableQueue's unfinished tasks
	joinable bool
}

// serveQueue serves queue_put (or queue_post, the put posted) or
// queue_get on handle h if it is a direct queue; ok is false when the
// host is to serve it.
func (d *direct) serveQueue(req *wire.Msg, h int32) (reply *wire.Msg, ok bool, err error) {
	if d.closedQueues[h] {
		return nil, false, nil
	}
	q, err := d.queue(h)
	if q == nil || err != nil {
		return nil, false, err
	}
	if req.Op == abi.OpQueuePost {
		// Served, and recorded, as the put it posts; the guest has its
		// answer when the message is in the queue (or with the host).
		put := *req
		put.Kind, put.Op = wire.KindCall, abi.OpQueuePut
		req = &put
	}
	c := call{d: d, req: req, e: &q.pipeEnd, began: time.Now()}
	switch req.Op {
	case abi.OpQueuePut:
		if q.maxMsg > 0 && int64(len(req.Buf(0))) > q.maxMsg {
			return nil, false, nil // the host's limit ends the run
		}
		err = c.put(q, h, req.Buf(0), time.Duration(req.Int(1)))
	default:
		err = c.get(q, time.Duration(req.Int(1)), int(req.Int(2)))
	}
	if err != nil {
		return nil, false, err
	}
	c.record()
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
	bounded := q.room.max < lockword.MaxValue
	if !bounded {
		timeout = 0 // (the room of an unbounded queue is never short)
	}
	ok, err := c.wait(futex(&q.room, 0), timeout)
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
	if q.spill.Load() == 0 {
		for {
			_, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(q.fd), uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)))
			switch errno {
			case 0:
				return nil
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
			default:
				c.unput(q)
				return c.fail(abi.EIO, "queue put: "+errno.Error())
			}
			break
		}
	}
	// Counted before it is sent: no later put of this process goes to
	// the socket before the host has written this one there.
	q.spill.Add(1)
	return d.r.send(&wire.Msg{Kind: wire.KindSpill, Ints: []int64{int64(h)}, Bufs: [][]byte{out}})
}

// spillWait bounds how long a get that found the socket empty waits for
// the messages the host holds for it.
const spillWait = time.Second

// unput gives back what a put that failed took: its room, its task.
func (c *call) unput(q *queueRef) {
	if sleepers, _ := lockword.Release(q.room.word, lockword.Count, q.room.max); sleepers&lockword.RunnersWait != 0 {
		lockword.WakeAll(q.room.word)
	}
	if q.joinable {
		lockword.TryAcquire(q.unfin, lockword.Count, 0, 0)
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
	for deadline := time.Now().Add(spillWait); c.reply.Errno == abi.ETIMEDOUT && q.spill.Load() > 0 && time.Now().Before(deadline); {
		pollFD(q.fd, unix.POLLIN, time.Until(deadline))
		c.reply, c.reason = wire.Msg{}, ""
		if err := c.recv(0, limit); err != nil {
			return err
		}
	}
	switch c.reply.Errno {
	case abi.OK:
		if sleepers, _ := lockword.Release(q.room.word, lockword.Count, q.room.max); sleepers&lockword.RunnersWait != 0 {
			lockword.WakeAll(q.room.word)
		}
	case abi.ETIMEDOUT:
		return c.fail(abi.EEMPTY, "queue get: queue is empty")
	}
	return nil
}
