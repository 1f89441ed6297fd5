package runner

import (
	"encoding/binary"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// direct serves one process's calls on the direct pipe ends it holds
// (host/direct.go says why and what the host keeps): conn_send,
// conn_recv and conn_poll are a write, a read and a poll of the end's
// socket, with no frame to the host and no reply to wait for. The first
// call on an end asks the host for its socket (KindAttach); an end the
// host serves itself (not a direct pipe) is forwarded as before. It
// serves lock_acquire and lock_release on direct locks the same way
// (directlock_linux.go).
//
// Every call served here is recorded for the host (KindRecord) when it
// asks for records, in a batch sent with the runner's next frame, and a
// wait longer than a moment is reported as it begins and ends (KindWait,
// KindWoke).
type direct struct {
	r    *remote
	self int32
	ends map[int32]*pipeEnd // nil: the host serves the handle
	// locks are the direct locks the process used (nil: the host serves
	// the handle), whose words are in mem (directlock_linux.go).
	locks map[int32]*lockRef
	// queues are the direct queues the process used (nil: the host
	// serves the handle; directqueue_linux.go), closedQueues those it
	// closed, whose calls the host answers.
	queues       map[int32]*queueRef
	closedQueues map[int32]bool
	mem          []byte
	seq          uint32 // the process's messages sent so far
	want         int64  // records the host wants: 0 none, 1 with previews, 2 with whole inputs
	buf          []byte // a datagram received
	out          []byte // a datagram to send
	// hdr is a datagram's header, and room for a ticket, received apart
	// from a message taken straight into the guest's buffer (readInto);
	// iov and msg are that receive's, kept here so that it allocates nothing.
	hdr [dgHeader + ticketBytes]byte
	iov [2]unix.Iovec
	msg unix.Msghdr
	// c is the call being served, post a posted put as the put it posts:
	// the process makes one call at a time and reads the reply before its
	// next, so a call served here allocates nothing of its own (begin).
	c    call
	post wire.Msg
}

// pipeEnd is a direct pipe end the process holds.
type pipeEnd struct {
	fd     int
	end    int
	duplex bool
	maxMsg int64 // the run's --max-message (0: none)
	inline int   // the largest message sent in the datagram itself

	pending    []byte // a message received that the guest's buffer could not hold
	pendingSeq uint64
	hasPending bool
	// pendingOwn: pending is the end's own (a ticket's message, from the
	// host), not a view of a buffer the next receive reuses.
	pendingOwn bool
}

// A message travels as one datagram (wire.DgHeader...: its number, its
// kind, the message itself or a ticket for the host's copy).
const (
	dgHeader  = wire.DgHeader
	dgInline  = wire.DgInline
	dgBlob    = wire.DgBlob
	maxInline = 64 << 10
	// ticketBytes is the size of a ticket's body: the id and the size.
	ticketBytes = 16
	// shortWait is how long a wait lasts before it is reported to the
	// host: most end sooner (the other process is running), and the
	// deadlock detector needs none shorter than its 250 ms.
	shortWait = time.Millisecond
	// recordBatch is how many bytes of records wait for the next frame.
	recordBatch = 64 << 10
)

func newDirect(r *remote, self int32) *direct {
	return &direct{r: r, self: self, ends: map[int32]*pipeEnd{}, locks: map[int32]*lockRef{},
		queues: map[int32]*queueRef{}, closedQueues: map[int32]bool{}}
}

// close closes every socket the process held and unmaps the locks' (and
// queues') memory: it has ended (its runner may serve another process next).
func (d *direct) close() {
	for h, e := range d.ends {
		if e != nil {
			unix.Close(e.fd)
		}
		delete(d.ends, h)
	}
	clear(d.locks)
	for h, q := range d.queues {
		if q != nil {
			unix.Close(q.fd)
		}
		delete(d.queues, h)
	}
	clear(d.closedQueues)
	if d.mem != nil {
		unix.Munmap(d.mem)
		d.mem = nil
	}
}

// serve serves req if it is a call on a direct pipe end the process
// holds; ok is false when the host is to serve it.
func (d *direct) serve(req *wire.Msg) (reply *wire.Msg, ok bool, err error) {
	if len(req.Ints) == 0 {
		return nil, false, nil
	}
	h := int32(req.Int(0))
	if req.Kind == wire.KindPost && req.Op == abi.OpQueuePost {
		return d.serveQueue(req, h)
	}
	if req.Kind != wire.KindCall {
		return nil, false, nil
	}
	switch req.Op {
	case abi.OpConnSend, abi.OpConnRecv, abi.OpConnPoll:
	case abi.OpLockAcquire, abi.OpLockRelease:
		return d.serveLock(req, h)
	case abi.OpQueuePut, abi.OpQueueGet, abi.OpQueueInfo:
		return d.serveQueue(req, h)
	case abi.OpQueueClose:
		// The host keeps who closed a queue (and answers the put or get
		// of a process that did).
		d.closedQueues[h] = true
		return nil, false, nil
	case abi.OpConnClose:
		// The host drops the holder (and shuts the end down if it was the
		// last); this copy of the socket closes here.
		if e := d.ends[h]; e != nil {
			unix.Close(e.fd)
		}
		delete(d.ends, h)
		return nil, false, nil
	default:
		return nil, false, nil
	}
	e, err := d.end(h)
	if e == nil || err != nil {
		return nil, false, err
	}
	c := d.begin(req, e)
	switch req.Op {
	case abi.OpConnSend:
		if e.maxMsg > 0 && int64(len(req.Buf(0))) > e.maxMsg {
			return nil, false, nil // the host's limit ends the run
		}
		err = c.send(req.Buf(0))
	case abi.OpConnRecv:
		err = c.recv(time.Duration(req.Int(1)), int(req.Int(2)))
	default:
		err = c.poll(time.Duration(req.Int(1)))
	}
	if err != nil {
		return nil, false, err
	}
	c.record()
	return &c.reply, true, nil
}

// shortcut serves op with args (hostfuncs.Shortcut) when it is a call on
// a direct lock that needs neither a wait nor a record (shortcutLock);
// served is false when serve is to serve it.
func (d *direct) shortcut(op abi.Op, args *hostfuncs.IntArgs) (result int64, e abi.Errno, served bool, err error) {
	if op == abi.OpLockAcquire || op == abi.OpLockRelease {
		return d.shortcutLock(op, args)
	}
	return 0, abi.OK, false, nil
}

// attach asks the host for what the runner needs to serve handle h
// itself (KindAttach): the reply, and the descriptors that came with it
// (past RLIMIT_NOFILE the kernel drops them).
func (d *direct) attach(h int32) (reply *wire.Msg, fds []int, err error) {
	reply, err = d.r.roundTrip(&wire.Msg{Kind: wire.KindAttach, Ints: []int64{int64(h)}})
	if err != nil {
		return nil, nil, err
	}
	n := 0
	switch reply.Int(0) {
	case wire.AttachPipe, wire.AttachLock:
		n = 1
	case wire.AttachQueue:
		n = 2
	}
	for range n {
		if fd, ok := takePassed(); ok {
			fds = append(fds, fd)
		}
	}
	return reply, fds, nil
}

// closeFDs closes the descriptors an attach brought that are not kept.
func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// end returns the end behind handle h, asking the host for its socket
// the first time; nil when the host serves it.
func (d *direct) end(h int32) (*pipeEnd, error) {
	if e, ok := d.ends[h]; ok {
		return e, nil
	}
	reply, fds, err := d.attach(h)
	if err != nil {
		return nil, err
	}
	if reply.Int(0) != wire.AttachPipe || len(fds) != 1 {
		closeFDs(fds)
		// The host answers the call: a pipe it serves, a lock (its misuse),
		// or an end the process does not hold (or could not receive),
		// which it may hold later (not remembered).
		if k := reply.Int(0); k == wire.AttachHost || k == wire.AttachLock || k == wire.AttachQueue {
			d.ends[h] = nil
		}
		return nil, nil
	}
	fd := fds[0]
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	inline := min(int(reply.Int(5)), maxInline)
	e := &pipeEnd{fd: fd, end: int(reply.Int(1)), duplex: reply.Int(2) != 0, maxMsg: reply.Int(3), inline: inline}
	d.want = reply.Int(4)
	d.ends[h] = e
	if d.buf == nil {
		d.buf = make([]byte, dgHeader+maxInline)
	}
	return e, nil
}

// call is one call being served.
type call struct {
	d     *direct
	req   *wire.Msg
	e     *pipeEnd
	reply wire.Msg
	ints  [1]int64  // the reply's Ints (answer)
	bufs  [1][]byte // the reply's Bufs (answerBuf)

	// began is when the call began: taken when it is to be recorded, or
	// when a timed wait begins (its timeout counts from it).
	began, blocked, woke time.Time
	reason               string
	seq                  uint64
	size                 int
	result               int64
	preview              []byte
}

// begin starts serving req (on pipe end e, or nil) as d's call.
func (d *direct) begin(req *wire.Msg, e *pipeEnd) *call {
	c := &d.c
	*c = call{d: d, req: req, e: e}
	if d.want != 0 {
		c.began = time.Now()
	}
	return c
}

// answer makes v the reply's one integer result.
func (c *call) answer(v int64) {
	c.ints[0] = v
	c.reply.Ints = c.ints[:1]
}

// answerBuf makes b the reply's one buffer result.
func (c *call) answerBuf(b []byte) {
	c.bufs[0] = b
	c.reply.Bufs = c.bufs[:1]
}

// fail answers the call with errno and says why.
func (c *call) fail(errno abi.Errno, reason string) error {
	c.reply.Errno, c.reason = errno, reason
	return nil
}

func (c *call) send(data []byte) error {
	d, e := c.d, c.e
	if !e.duplex && e.end == 0 {
		return c.fail(abi.EDIRECTION, "connection is read-only")
	}
	if d.r.unsynced {
		// What the process printed or posted before this send reaches
		// the host before the message can reach its receiver, whose next
		// line or call would otherwise race it there.
		if _, err := d.r.roundTrip(&wire.Msg{Kind: wire.KindSync}); err != nil {
			return err
		}
	}
	out, err := c.datagram(data)
	if out == nil || err != nil {
		return err
	}
	for {
		switch errno := writeDatagram(e.fd, out); errno {
		case 0:
			return nil
		case syscall.EAGAIN:
			// The socket is full: wait for the receivers, as CPython's send.
			if _, err := c.waitSocket(unix.POLLOUT, -1); err != nil {
				return err
			}
		case syscall.EPIPE:
			return c.fail(abi.EBROKENPIPE, "the other end of the pipe is closed")
		default:
			return c.fail(abi.EIO, "send: "+errno.Error())
		}
	}
}

// writeDatagram sends datagram out on fd without waiting (a signal that
// interrupts the write writes it again): 0, or the write's errno.
func writeDatagram(fd int, out []byte) syscall.Errno {
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)))
		if errno != syscall.EINTR {
			return errno
		}
	}
}

// datagram numbers the message and makes its datagram (in d.out): the
// message itself, or for a large one the ticket of the host's copy
// (KindBlobPut). It is nil when the call has its answer already (the
// host did not keep the message).
func (c *call) datagram(data []byte) ([]byte, error) {
	d, e := c.d, c.e
	d.seq++
	c.seq = uint64(d.self)<<32 | uint64(d.seq)
	c.size, c.preview = len(data), data[:min(len(data), previewBytes)]
	out := binary.LittleEndian.AppendUint64(d.out[:0], c.seq)
	if len(data) <= e.inline {
		out = append(append(out, dgInline), data...)
	} else {
		reply, err := d.r.roundTrip(&wire.Msg{Kind: wire.KindBlobPut, Ints: []int64{c.req.Int(0)}, Bufs: [][]byte{data}})
		if err != nil {
			return nil, err
		}
		switch reply.Errno {
		case abi.OK:
		case abi.EBROKENPIPE:
			return nil, c.fail(reply.Errno, "the other end of the pipe is closed")
		default:
			return nil, c.fail(reply.Errno, "the host did not keep the message")
		}
		out = binary.LittleEndian.AppendUint64(append(out, dgBlob), uint64(reply.Int(0)))
		out = binary.LittleEndian.AppendUint64(out, uint64(len(data)))
	}
	if cap(out) <= 2*maxInline {
		d.out = out
	}
	return out, nil
}

func (c *call) recv(timeout time.Duration, limit int) error {
	e := c.e
	if !e.duplex && e.end == 1 {
		return c.fail(abi.EDIRECTION, "connection is write-only")
	}
	if !e.hasPending {
		if view := c.req.OutBuf(0); len(view) == limit && limit >= max(e.inline, ticketBytes) {
			// Any datagram's message fits: no peek first, and the runner
			// does not copy it.
			if ok, err := c.readInto(view, timeout); err != nil || !ok {
				return err
			}
		} else {
			if limit < e.inline {
				// The next message may not fit: learn its size first, and
				// leave it, as the ABI says, to whoever asks with room for
				// it (another holder of the end, too).
				size, ok, err := c.peek(timeout)
				if err != nil || !ok {
					return err
				}
				if size > limit {
					c.size = size
					c.answer(int64(size))
					return c.fail(abi.E2SMALL, "")
				}
			}
			if ok, err := c.read(timeout); err != nil || !ok {
				return err
			}
		}
	}
	msg := e.pending
	c.seq, c.size = e.pendingSeq, len(msg)
	if limit >= 0 && len(msg) > limit {
		if !e.pendingOwn {
			e.pending, e.pendingOwn = append([]byte(nil), msg...), true // kept for the retry
		}
		c.answer(int64(len(msg)))
		return c.fail(abi.E2SMALL, "")
	}
	e.pending, e.hasPending = nil, false
	c.preview = msg[:min(len(msg), previewBytes)]
	c.answerBuf(msg)
	return nil
}

// read takes the next message into e.pending, waiting up to timeout; ok
// is false when the call has its answer already (EOF, a timeout).
func (c *call) read(timeout time.Duration) (ok bool, err error) {
	d := c.d
	n, ok, err := c.receive(d.buf, 0, timeout)
	if !ok || err != nil {
		return false, err
	}
	return c.took(d.buf[:n])
}

// readInto is read with the message received straight into view, the
// guest's buffer, which holds any datagram's message (at least the end's
// inline bytes, and a ticket's). The datagram's header and its next
// ticketBytes land in d.hdr (a ticket, if it is one, which the guest's
// buffer is not to see), the rest in view past them; a longer message's
// first bytes are then copied to view's start. e.pending is then in view,
// for this call only.
func (c *call) readInto(view []byte, timeout time.Duration) (ok bool, err error) {
	d, e := c.d, c.e
	n, ok, err := c.receiveInto(view[ticketBytes:], timeout)
	if !ok || err != nil {
		return false, err
	}
	if n <= len(d.hdr) { // a ticket, or a message of at most ticketBytes
		return c.took(d.hdr[:n])
	}
	copy(view, d.hdr[dgHeader:])
	e.hold(binary.LittleEndian.Uint64(d.hdr[:]), view[:n-dgHeader], false)
	return true, nil
}

// took makes datagram dg, just received, the end's pending message, taking
// a ticket's message from the host.
func (c *call) took(dg []byte) (ok bool, err error) {
	seq := binary.LittleEndian.Uint64(dg)
	id, ticket := wire.Ticket(dg)
	if !ticket {
		c.e.hold(seq, dg[dgHeader:], false)
		return true, nil
	}
	reply, err := c.d.r.roundTrip(&wire.Msg{Kind: wire.KindBlobTake, Ints: []int64{c.req.Int(0), id}})
	if err != nil {
		return false, err
	}
	if reply.Errno != abi.OK {
		return false, c.fail(abi.EIO, "recv: the host lost a large message")
	}
	c.e.hold(seq, reply.Buf(0), true)
	return true, nil
}

// hold makes msg, message seq, the end's pending one; own: it is the
// end's (the host's copy of a ticket's message), not a view of a buffer
// the next receive reuses.
func (e *pipeEnd) hold(seq uint64, msg []byte, own bool) {
	e.pending, e.pendingSeq, e.hasPending, e.pendingOwn = msg, seq, true, own
}

// peek waits up to timeout for the next message and returns its size,
// leaving it in the socket; ok is false when the call has its answer
// already (EOF, a timeout).
func (c *call) peek(timeout time.Duration) (size int, ok bool, err error) {
	// MSG_TRUNC: the datagram's whole length, though only its header (and
	// a blob's id and size) is copied.
	buf := c.d.buf[:dgHeader+ticketBytes]
	n, ok, err := c.receive(buf, unix.MSG_PEEK|unix.MSG_TRUNC, timeout)
	if !ok || err != nil {
		return 0, false, err
	}
	if buf[8] == dgBlob && n == dgHeader+ticketBytes {
		return int(binary.LittleEndian.Uint64(buf[dgHeader+8:])), true, nil
	}
	return n - dgHeader, true, nil
}

// receiveInto is receive of a datagram in two parts: d.hdr, then body.
// A datagram longer than both is a failure (it cannot be, for an end's).
func (c *call) receiveInto(body []byte, timeout time.Duration) (n int, ok bool, err error) {
	d := c.d
	d.iov[0].Base, d.iov[1].Base = &d.hdr[0], unsafe.SliceData(body)
	d.iov[0].SetLen(len(d.hdr))
	d.iov[1].SetLen(len(body))
	d.msg = unix.Msghdr{Iov: &d.iov[0], Iovlen: 2}
	n, ok, err = c.receive(nil, 0, timeout)
	d.iov = [2]unix.Iovec{} // (no view of guest memory is kept)
	if ok && n > len(d.hdr)+len(body) {
		return 0, false, c.fail(abi.EIO, "recv: a datagram of the pipe is too long")
	}
	return n, ok, err
}

// receive receives the next datagram into buf (with recvfrom's flags;
// nil: receiveInto's recvmsg of d.msg), waiting up to timeout for one,
// and returns its length (at least its header); ok is false when the call
// has its answer already: EOF, a timeout, a failure.
func (c *call) receive(buf []byte, flags int, timeout time.Duration) (n int, ok bool, err error) {
	for {
		var r uintptr
		var errno syscall.Errno
		if buf == nil {
			// MSG_TRUNC: the datagram's whole length, should it not fit.
			r, _, errno = syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(c.e.fd), uintptr(unsafe.Pointer(&c.d.msg)), unix.MSG_TRUNC)
		} else {
			r, _, errno = syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(c.e.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(flags), 0, 0)
		}
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			ready, err := c.waitSocket(unix.POLLIN, timeout)
			if err != nil {
				return 0, false, err
			}
			if !ready {
				return 0, false, c.fail(abi.ETIMEDOUT, "pipe recv: timed out")
			}
			continue
		case errno != 0:
			return 0, false, c.fail(abi.EIO, "recv: "+errno.Error())
		case r == 0:
			return 0, false, c.fail(abi.EEOF, "the other end of the pipe is closed")
		case r < dgHeader:
			return 0, false, c.fail(abi.EIO, "recv: a datagram of the pipe is too short")
		}
		return int(r), true, nil
	}
}

func (c *call) poll(timeout time.Duration) error {
	e := c.e
	if !e.duplex && e.end == 1 {
		return c.fail(abi.EDIRECTION, "connection is write-only")
	}
	ready := e.hasPending
	if !ready {
		var err error
		if ready, err = c.waitSocket(unix.POLLIN, timeout); err != nil {
			return err
		}
	}
	if ready {
		c.result = 1
	}
	c.answer(c.result)
	return nil
}

// waitSocket waits, as wait, for the end's socket to be ready for events
// (or shut down).
func (c *call) waitSocket(events int16, timeout time.Duration) (bool, error) {
	fd := c.e.fd
	return c.wait(func(d time.Duration) bool { return pollFD(fd, events, d) }, timeout)
}

// wait waits up to timeout (negative: no bound) for ready, which waits up
// to the time it is given (negative: no bound) and reports whether what
// the call waits for came. A wait longer than shortWait is reported to
// the host while it lasts.
func (c *call) wait(ready func(time.Duration) bool, timeout time.Duration) (bool, error) {
	if ok := ready(0); ok || timeout == 0 {
		return ok, nil
	}
	if c.began.IsZero() && timeout > 0 {
		c.began = time.Now() // (a timeout counts from it; a record's is taken in begin)
	}
	first := shortWait
	if timeout > 0 && timeout < first {
		first = timeout
	}
	if ready(first) {
		return true, nil
	}
	if timeout > 0 && timeout <= first {
		return false, nil
	}
	if c.blocked.IsZero() {
		c.blocked = time.Now()
	}
	w := &wire.Msg{Kind: wire.KindWait, Op: c.req.Op, Ints: append([]int64{c.req.Int(0), int64(timeout)}, c.req.Ints...)}
	if sends(c.req.Op) {
		w.Bufs = [][]byte{c.preview} // the host decodes the call: its data, or a preview
		if c.d.want == 2 {
			w.Bufs = c.req.Bufs
		}
	}
	if err := c.d.r.send(w); err != nil {
		return false, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = c.began.Add(timeout)
	}
	ok := false
	for !ok {
		left := time.Duration(-1)
		if timeout > 0 {
			if left = time.Until(deadline); left <= 0 {
				break
			}
		}
		ok = ready(left)
	}
	c.woke = time.Now()
	return ok, c.d.r.send(&wire.Msg{Kind: wire.KindWoke})
}

// pollFD reports whether fd is ready for events (or shut down, or
// failed: the read or write then finds out) within d (negative: no
// bound), in a system call the Go runtime knows of.
func pollFD(fd int, events int16, d time.Duration) bool {
	return controlFD(fd).wait(events, d)
}

// previewBytes is how much of a message a record carries: more than the
// host's event log shows of it.
const previewBytes = 64

// record queues the call's record for the host, if it wants records.
func (c *call) record() {
	d := c.d
	if d.want == 0 {
		return
	}
	ended := time.Now()
	ints := []int64{int64(c.reply.Errno), c.began.UnixNano(), ended.UnixNano(), unixNano(c.blocked), unixNano(c.woke), int64(c.seq), int64(c.size), c.result}
	ints = append(ints, c.req.Ints...)
	bufs := [][]byte{[]byte(c.reason), c.preview}
	if sends(c.req.Op) {
		if d.want == 2 {
			bufs = append(bufs, c.req.Bufs...)
		} else {
			bufs = append(bufs, c.preview) // the message's size is in the record
		}
	}
	m := &wire.Msg{Kind: wire.KindRecord, Op: c.req.Op, Ints: ints, Bufs: bufs}
	b, err := wire.AppendFrame(d.r.records, m)
	if err != nil {
		return
	}
	d.r.records = b
	if len(b) >= recordBatch {
		d.r.send(nil)
	}
}

// sends reports whether op's input holds a message (conn_send, queue_put).
func sends(op abi.Op) bool { return op == abi.OpConnSend || op == abi.OpQueuePut }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
