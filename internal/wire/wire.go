// Package wire is the protocol between the host and its runners.
//
// A runner talks to the host over one stream socket (file descriptor 3 in
// the runner). Both sides send frames; a frame is a 4-byte little-endian
// length followed by the encoded Msg. The runner sends Hello once it is
// ready, the host answers with Assign (which process the runner is), and
// from then on the runner sends Call frames (one guest host-function call
// each, answered by exactly one Reply), Output frames (what the guest wrote
// to stdout or stderr) and finally Exit, which the host answers with a Reply
// once the process's end-of-life duties are done. That Reply says whether
// the runner exits now or stays to be assigned another process of the run
// (a fresh instance of the same module): then Assign comes again, or the
// host closes the socket to let the runner go; on Linux, where a staying
// runner starts its next guest at once, the runner sends Parked when that
// guest waits for its process (before or after the Assign came), its first
// frame after the Reply.
//
// Output and calls travel on the same ordered stream, so the host always
// writes out what a process printed before it acts on that process's next
// call: a line printed before a Queue.Put is written out before the line a
// consumer prints after the matching Get.
//
// The package depends on neither the host nor the runner; both import it.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
)

// Kind says what a frame is.
type Kind uint8

// Frame kinds.
const (
	// KindHello (runner → host): the runner is started and its module
	// compiled. Ints: [runner OS pid].
	KindHello Kind = 1 + iota
	// KindAssign (host → runner): which process the runner is.
	// Ints: [process handle]; Bufs: the guest's argv.
	KindAssign
	// KindCall (runner → host): one host-function call. Op says which;
	// Ints and Bufs hold its inputs in the order of the import's parameters
	// (abi.Args.Encode).
	KindCall
	// KindReply (host → runner): the answer to a Call or Exit. Errno is the
	// ABI errno; Ints and Bufs hold the results (abi.Args.Results), or with
	// E2SMALL, Ints the size needed.
	KindReply
	// KindOutput (runner → host): guest output. Ints: [stream] (1 stdout,
	// 2 stderr); Bufs: [data].
	KindOutput
	// KindExit (runner → host): the guest ended. Ints: [exit code, trapped
	// (0 or 1), the runner's CPU time so far in µs, its peak resident
	// memory in KiB, 1 if the runner's memory limit refused the guest a
	// memory.grow]; Bufs: [the trap's first line], when it trapped. The
	// host replies when the process's children are dealt with; Ints of
	// the reply: [1 if the runner is to stay for another assignment].
	KindExit
	// KindPost (runner → host): a call of an import that posts another
	// (abi.Spec.Posts), laid out as KindCall with Op the posting import.
	// The host serves it in order with the process's other frames and
	// sends no reply; the runner does not wait for one.
	KindPost
	// KindAttach (runner → host): the process asks to serve a pipe end or
	// a lock itself (README, "Direct pipes", "Direct locks"). Ints:
	// [handle]. The reply's first Int says what the handle is (AttachPipe,
	// ...). AttachPipe: Ints [AttachPipe, the end, 1 if duplex, the most
	// bytes of one message (0: no limit), the record wanted, the largest
	// message sent in one datagram (a larger one is a blob)], and the
	// end's socket travels with the reply (SCM_RIGHTS). AttachLock: Ints
	// [AttachLock, the offset of its slot, its lockword.Kind, the count a
	// release cannot pass, 1 if an RLock, the record wanted, the size of
	// the memory], and the memory file travels with it. AttachQueue: Ints
	// [AttachQueue, the offset of its words, its maxsize (0: none), 1 if
	// joinable, the most bytes of one message, the record wanted, the
	// largest message sent in one datagram, the size of the memory], and
	// the queue's socket and the memory file travel with it, in that
	// order. The record wanted
	// is 2 for records with the call's whole inputs, 1 with a preview of
	// the message, 0 none. Otherwise the runner forwards the handle's
	// calls.
	KindAttach
	// KindRecord (runner → host, no reply): a call the runner served
	// itself, for the host's records (events, trace log). Op: the
	// import. Ints: [errno, began, ended, blocked, woke (Unix ns; 0:
	// never blocked), seq of the message, its size, a result (conn_poll's
	// ready), the call's input Ints...]; Bufs: [the error's reason, the
	// message's first bytes (a preview), the call's input Bufs (when the
	// host asked for a preview only, a conn_send's data is the preview)].
	KindRecord
	// KindWait (runner → host, no reply): the process is about to block in
	// a call it serves itself. Op: the import. Ints: [handle, timeout ns
	// (negative: none), the call's input Ints...]; Bufs: the call's input
	// Bufs (when the host asked for a preview only, a conn_send's data is
	// the preview). KindWoke (no fields) ends the wait.
	KindWait
	KindWoke
	// KindBlobPut (runner → host): a message too large for a direct pipe's
	// datagram, kept by the host until taken (the datagram carries its id
	// and size). Ints: [handle]; Bufs: [data]. The reply's Errno, Ints:
	// [the blob's id]. KindBlobTake: Ints: [handle, id]; the reply's
	// Bufs: [data].
	KindBlobPut
	KindBlobTake
	// KindSync (runner → host): answered with an empty reply once the
	// host has dealt with every frame the runner sent before it: a
	// runner sends it before a message on a direct pipe or queue, and
	// before the release of a direct lock, when it has sent output or a
	// posted call since its last answer, so that those come first, as they
	// did when the host carried every message; and before a direct put
	// when it cannot tell whether the host has taken the message it
	// handed over last (KindSpill).
	KindSync
	// KindReleased (runner → host, no reply): the process released a
	// direct lock whose word said the host has waiters (host/directlock.go),
	// which may take it now, or took back the last unfinished task of a
	// direct queue. Ints: [handle].
	KindReleased
	// KindSpill (runner → host, no reply): a message for a direct queue
	// whose socket is full, or whose earlier messages the host still holds
	// (host/directqueue.go), which the host writes
	// into the socket, in the order it came, as room comes. Ints:
	// [handle]; Bufs: [the datagram]. The host counts what it so holds
	// in the queue's spill word.
	KindSpill
	// KindParked (runner → host, no reply): a runner that stays for
	// another process has made its next guest's instance and run it to
	// where it waits for its assignment (runner.go, "Parked guests"). It
	// is the first frame the runner sends after the reply to a KindExit
	// that let it stay; the host, which reads nothing from an idle runner,
	// finds it waiting in the socket (Conn.Pending) and gives the next
	// start a runner whose guest is parked already (host/worker.go).
	KindParked
)

// The datagram of a message on a direct pipe or queue (README, "Direct
// pipes"): the message's number (its sender's process handle, then its
// count: 8 bytes, little-endian), a kind byte, then the message itself
// (DgInline) or, for a message larger than a datagram, the id the host
// keeps it under and its size (DgBlob: 8 bytes each, little-endian). The
// runners write and read them; the host writes those handed to it
// (KindSpill) as they are.
const (
	DgHeader = 9
	DgInline = 0
	DgBlob   = 1
)

// Ticket returns the id of the message a datagram stands for, if it is a
// ticket (DgBlob).
func Ticket(dg []byte) (id int64, ok bool) {
	if len(dg) != DgHeader+16 || dg[8] != DgBlob {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(dg[DgHeader:])), true
}

// The first Int of the reply to a KindAttach: what the handle is to the
// runner.
const (
	AttachRefused = -1 // not an object the process may use so: the host answers its calls (and says why)
	AttachHost    = 0  // an object the host serves
	AttachPipe    = 1  // a direct pipe end: its socket came with the reply
	AttachLock    = 2  // a direct lock: the locks' memory file came with the reply
	AttachQueue   = 3  // a direct queue: its socket, then the memory file of its words, came with the reply
)

// Streams of KindOutput.
const (
	Stdout = 1
	Stderr = 2
)

// MaxFrame is the largest frame either side accepts (64 MiB): the largest
// call or reply the ABI allows, and room for the frame's own fields.
const MaxFrame = abi.MaxCallBytes + 64<<10

// ErrFrameTooLarge is returned for a frame over MaxFrame.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// Msg is one frame.
type Msg struct {
	Kind  Kind
	Op    abi.Op
	Errno abi.Errno
	Ints  []int64
	Bufs  [][]byte
	// Out is never encoded: in a runner, a call's views of the guest's
	// buffers for its variable-size results, in the order of the import's
	// parameters (hostfuncs). Whoever serves the call in the runner may
	// write a result straight into its buffer and answer with a Buf that
	// starts where the view does; it is then not copied again.
	Out [][]byte
}

// Int returns Ints[i], or 0 when there is no such element.
func (m *Msg) Int(i int) int64 {
	if i < len(m.Ints) {
		return m.Ints[i]
	}
	return 0
}

// OutBuf returns Out[i], or nil when there is no such element.
func (m *Msg) OutBuf(i int) []byte {
	if i < len(m.Out) {
		return m.Out[i]
	}
	return nil
}

// Buf returns Bufs[i], or nil when there is no such element.
func (m *Msg) Buf(i int) []byte {
	if i < len(m.Bufs) {
		return m.Bufs[i]
	}
	return nil
}

// Append encodes m (without the length prefix) onto b.
func (m *Msg) Append(b []byte) []byte {
	b = append(b, byte(m.Kind))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Op))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Errno))
	b = binary.AppendUvarint(b, uint64(len(m.Ints)))
	for _, v := range m.Ints {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Bufs)))
	for _, v := range m.Bufs {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// Decode parses an encoded frame body. The Bufs of the result alias b.
func Decode(b []byte) (*Msg, error) {
	if len(b) < 7 {
		return nil, fmt.Errorf("wire: short frame (%d bytes)", len(b))
	}
	m := &Msg{
		Kind:  Kind(b[0]),
		Op:    abi.Op(binary.LittleEndian.Uint16(b[1:])),
		Errno: abi.Errno(binary.LittleEndian.Uint32(b[3:])),
	}
	b = b[7:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("wire: bad int count")
	}
	b = b[k:]
	if n > 0 {
		m.Ints = make([]int64, n)
	}
	for i := range m.Ints {
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, errors.New("wire: bad int")
		}
		m.Ints[i], b = v, b[k:]
	}
	n, k = binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("wire: bad buffer count")
	}
	b = b[k:]
	if n > 0 {
		m.Bufs = make([][]byte, n)
	}
	for i := range m.Bufs {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errors.New("wire: bad buffer length")
		}
		m.Bufs[i], b = b[k:k+int(l)], b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("wire: %d trailing bytes", len(b))
	}
	return m, nil
}

// Conn sends and receives frames on a stream. Send may be called from many
// goroutines; Recv from one at a time.
type Conn struct {
	rw  io.ReadWriter
	r   *bufio.Reader
	wmu sync.Mutex
	buf []byte
}

// NewConn wraps a stream.
func NewConn(rw io.ReadWriter) *Conn {
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, 64<<10)}
}

// Send writes one frame.
func (c *Conn) Send(m *Msg) error { return c.SendAfter(nil, m) }

// AppendFrame encodes m as a whole frame, its length first, onto b: frames
// gathered so travel in one write (SendAfter).
func AppendFrame(b []byte, m *Msg) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = m.Append(b)
	if len(b)-start-4 > MaxFrame {
		return b[:start], ErrFrameTooLarge
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b, nil
}

// SendAfter writes the frames pre (made by AppendFrame) and then m (nil:
// none) in one write.
func (c *Conn) SendAfter(pre []byte, m *Msg) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := append(c.buf[:0], pre...)
	if m != nil {
		var err error
		if b, err = AppendFrame(b, m); err != nil {
			return err
		}
	}
	if len(b) == 0 {
		return nil
	}
	_, err := c.rw.Write(b)
	if cap(b) <= 1<<20 {
		c.buf = b
	}
	return err
}

// Buffered reports how many bytes of frames not yet returned by Recv were
// read from the stream already: when it is not zero, the next Recv needs
// no read.
func (c *Conn) Buffered() int { return c.r.Buffered() }

// Recv reads one frame. It returns io.EOF when the stream ended cleanly
// between frames.
func (c *Conn) Recv() (*Msg, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return nil, ErrFrameTooLarge
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return Decode(b)
}

// Frames other than calls and replies, built and read by name.

// Hello is the runner's KindHello frame.
func Hello(pid int) *Msg { return &Msg{Kind: KindHello, Ints: []int64{int64(pid)}} }

// HelloPID is the runner's OS pid in a KindHello frame.
func (m *Msg) HelloPID() int { return int(m.Int(0)) }

// Assign is the host's KindAssign frame: the runner is process handle,
// with the guest's argv.
func Assign(handle int32, argv [][]byte) *Msg {
	return &Msg{Kind: KindAssign, Ints: []int64{int64(handle)}, Bufs: argv}
}

// Parked is the runner's KindParked frame.
func Parked() *Msg { return &Msg{Kind: KindParked} }

// AssignHandle is the process handle in a KindAssign frame.
func (m *Msg) AssignHandle() int32 { return int32(m.Int(0)) }

// Output is a KindOutput frame: data written to stream (Stdout, Stderr).
func Output(stream int, data []byte) *Msg {
	return &Msg{Kind: KindOutput, Ints: []int64{int64(stream)}, Bufs: [][]byte{data}}
}

// OutputOf returns the stream and the data of a KindOutput frame.
func (m *Msg) OutputOf() (stream int, data []byte) { return int(m.Int(0)), m.Buf(0) }

// Exit is the runner's KindExit frame: the guest's exit code, whether it
// trapped, what the runner has used so far (its CPU time and peak
// resident memory in bytes, from getrusage), and whether the runner's
// memory limit refused the guest more linear memory.
func Exit(code int, trapped bool, cpu time.Duration, peakRSS int64, limited bool) *Msg {
	return &Msg{Kind: KindExit, Ints: []int64{int64(code), flag(trapped), cpu.Microseconds(), peakRSS >> 10, flag(limited)}}
}

// ExitLimited reports whether a KindExit frame says the runner's memory
// limit refused the guest more linear memory.
func (m *Msg) ExitLimited() bool { return m.Int(4) != 0 }

// ExitOf returns the exit code and the trap flag of a KindExit frame.
func (m *Msg) ExitOf() (code int, trapped bool) { return int(m.Int(0)), m.Int(1) != 0 }

// ExitUsage returns the runner's CPU time and peak resident memory (bytes)
// reported in a KindExit frame.
func (m *Msg) ExitUsage() (cpu time.Duration, peakRSS int64) {
	return time.Duration(m.Int(2)) * time.Microsecond, m.Int(3) << 10
}

// ExitReply is the host's answer to a KindExit frame: stay says whether
// the runner waits for another assignment instead of exiting.
func ExitReply(stay bool) *Msg { return &Msg{Kind: KindReply, Ints: []int64{flag(stay)}} }

// Stay reports whether a reply to KindExit asks the runner to stay.
func (m *Msg) Stay() bool { return m.Int(0) != 0 }

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ExitMessage is the trap message of a KindExit frame (its first line),
// empty when the guest did not trap.
func (m *Msg) ExitMessage() string { return string(m.Buf(0)) }
