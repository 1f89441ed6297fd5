package mp

import (
	"encoding/json"
	"sync/atomic"
	"time"
)

// Conn is one end of a pipe, Python's multiprocessing.connection.Connection:
// Send and Recv carry values (a []byte or a string raw, anything else as
// JSON: see Queue), SendBytes and RecvBytes raw messages. Make a pair with
// Pipe.
//
// A child holds a copy of each pipe end its creator holds open when the
// child starts, as a forked child does in CPython. Each process closes its
// own copy; an end is gone, and the other end sees end of file, when every
// process holding a copy has closed it or ended. So close the ends a
// process does not use, or Recv never sees EOF.
//
// A Conn passed to a child (in Args or a Class's fields) is the same end.
// Calls block every goroutine of the calling process while they wait.
//
//	func child(w *mp.Conn) {
//		w.Send("hello")
//		w.Close()
//	}
//
//	r, w := mp.Pipe(false)
//	p := mp.NewProcess(child, mp.Args(w))
//	p.Start()
//	w.Close() // the child holds its own copy
//	var s string
//	r.Recv(&s)           // "hello"
//	err := r.Recv(&s)    // errors.Is(err, io.EOF) once the child has closed it
type Conn struct {
	handle int32
	mode   string // "r", "w" or "rw"
	closed atomic.Bool
	in     inbox // what receives keep (receive)
}

var (
	_ json.Marshaler   = (*Conn)(nil)
	_ json.Unmarshaler = (*Conn)(nil)
)

// Pipe returns the two ends of a new pipe, as Python's Pipe(duplex). With
// duplex, both ends send and receive. Without, the first end only receives
// and the second only sends (Python's r, w = Pipe(False)).
//
// It panics if the host cannot create the pipe.
func Pipe(duplex bool) (*Conn, *Conn) {
	var h0, h1 int32
	mustNew("Pipe", host.pipeNew(duplex, &h0, &h1))
	if duplex {
		return &Conn{handle: h0, mode: "rw"}, &Conn{handle: h1, mode: "rw"}
	}
	return &Conn{handle: h0, mode: "r"}, &Conn{handle: h1, mode: "w"}
}

func (c *Conn) h() int32 { return checkHandle("Conn", c.handle) }

// Handle returns the host's handle of this end, valid in every process.
func (c *Conn) Handle() int32 { return c.h() }

// Readable reports whether this end can receive.
func (c *Conn) Readable() bool { return c.mode != "w" }

// Writable reports whether this end can send.
func (c *Conn) Writable() bool { return c.mode != "r" }

// Closed reports whether this process closed its copy of the end.
func (c *Conn) Closed() bool { return c.closed.Load() }

// Send sends v to the other end as one message: a []byte or a string
// raw behind a tag byte (Python's bytes and str), any other value as JSON
// (docs/ABI.md, "Messages"). The error wraps
// ErrClosed ("handle is closed"), ErrDirection ("connection is
// read-only"), ErrBrokenPipe (the other end is closed in every process) or
// ErrTooBig.
func (c *Conn) Send(v any) error { return sendValue(v, c.SendBytes) }

// SendBytes sends b as one message, as it is (no tag), as Python's
// send_bytes. Errors are Send's. Recv of such a message decodes it as JSON,
// unless it starts with a tag byte (0x00 or 0x01).
func (c *Conn) SendBytes(b []byte) error {
	return objError(host.connSend(c.h(), b), "send", sendMsgs)
}

// Recv receives the next message, waiting for one, and decodes it into
// v, a pointer, as Queue.Get decodes: a []byte into a *[]byte, a string
// into a *string, either into a *any, anything else as json.Unmarshal (nil
// drops the message). At end
// of file, when the other end is closed in every process and nothing is
// left, the error is ErrEOF, which matches io.EOF (Python's EOFError).
// Other errors wrap ErrClosed ("handle is closed") or ErrDirection
// ("connection is write-only"); a message that does not decode into v is
// consumed and reported.
func (c *Conn) Recv(v any) error {
	b, err := c.RecvBytes()
	if err != nil {
		return err
	}
	return decodeValue(b, v)
}

// RecvBytes receives the next message as raw bytes, as Python's
// recv_bytes: a value sent with Send comes as it was sent (its tag byte,
// or its JSON). A message of any size is taken whole. Errors are Recv's.
// The bytes are the caller's; their capacity is their length (appending
// copies them), and a message of up to 8 KiB may share its backing array
// with others received on c (inbox, in object.go).
func (c *Conn) RecvBytes() ([]byte, error) {
	h := c.h()
	b, e := receive(&c.in, -1, func(timeoutNs int64, buf []byte) (uint32, errno) {
		return host.connRecv(h, timeoutNs, buf)
	})
	if e == errnoEOF {
		return nil, ErrEOF
	}
	return b, objError(e, "recv", recvMsgs)
}

// Poll reports whether a message is waiting (or Recv would report end of
// file), waiting up to timeout for one: 0 does not wait, a negative
// timeout waits forever (Python's poll(None)). Errors are Recv's.
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	ready, e := host.connPoll(c.h(), waitArg(timeout))
	if err := objError(e, "poll", recvMsgs); err != nil {
		return false, err
	}
	return ready, nil
}

// Close closes this process's copy of the end. Closing it again does
// nothing, as in Python.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.in.drop()
	e := host.connClose(c.h())
	if e == errnoClosed { // never held here (the child started before the pipe existed, say)
		return nil
	}
	return objError(e, "close", nil)
}

// MarshalJSON encodes the end as its handle and mode, so a Conn can be
// passed to a child.
func (c *Conn) MarshalJSON() ([]byte, error) {
	if c.handle == 0 {
		return marshalObject(kindConnJSON, 0)
	}
	return json.Marshal(objectJSON{Kind: kindConnJSON, Handle: c.handle, Mode: c.mode})
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (c *Conn) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindConnJSON)
	if err != nil {
		return err
	}
	c.handle, c.mode = o.Handle, o.Mode
	if c.mode == "" {
		c.mode = "rw"
	}
	c.closed.Store(false)
	return nil
}

// The messages of a connection's errors, made once (a map literal in the
// call is built at every call).
var (
	sendMsgs = map[errno]string{
		errnoClosed:     "handle is closed",
		errnoDirection:  "connection is read-only",
		errnoBrokenPipe: "[Errno 32] Broken pipe",
	}
	recvMsgs = map[errno]string{
		errnoClosed:    "handle is closed",
		errnoDirection: "connection is write-only",
	}
)
