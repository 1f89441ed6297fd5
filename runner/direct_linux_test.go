package runner

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestDirectRecv: a direct pipe end's receive, on a real socket pair.
// Into a buffer that holds any datagram's message (the end's inline
// size) the message goes straight into the guest's buffer (the reply's
// data is the buffer itself) past its first 16 bytes, whatever its size;
// into a smaller one the runner asks the size first, and a message that
// does not fit is left in the socket for a receive with room for it (the
// ABI's E2SMALL); an empty socket answers a receive that does not wait
// with ETIMEDOUT, a datagram longer than the end's with EIO, and a closed
// other end with EEOF.
func TestDirectRecv(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	const inline = 4096
	var seq uint64
	send := func(msg []byte) {
		t.Helper()
		seq++
		dg := append(binary.LittleEndian.AppendUint64(nil, seq), dgInline)
		if _, err := unix.Write(fds[0], append(dg, msg...)); err != nil {
			t.Fatal(err)
		}
	}
	d := &direct{buf: make([]byte, dgHeader+maxInline)}
	e := &pipeEnd{fd: fds[1], duplex: true, inline: inline}
	// recv receives into a buffer of limit bytes (the guest's, when view).
	recv := func(limit int, view bool) (*wire.Msg, []byte) {
		t.Helper()
		req := &wire.Msg{Kind: wire.KindCall, Op: abi.OpConnRecv, Ints: []int64{1, 0, int64(limit)}}
		var buf []byte
		if view {
			buf = bytes.Repeat([]byte{0xAA}, limit)
			req.Out = [][]byte{buf}
		}
		c := d.begin(req, e)
		if err := c.recv(0, limit); err != nil {
			t.Fatal(err)
		}
		return &c.reply, buf
	}
	message := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	inPlace := func(reply *wire.Msg, buf []byte) bool {
		return len(reply.Buf(0)) > 0 && unsafe.SliceData(reply.Buf(0)) == unsafe.SliceData(buf)
	}

	for _, n := range []int{0, 1, 16, 17, 100, inline - 1, inline} {
		send(message(n))
		reply, buf := recv(inline, true)
		if reply.Errno != abi.OK || !bytes.Equal(reply.Buf(0), message(n)) {
			t.Fatalf("%d bytes into a buffer of the end's inline size: errno %d, %d bytes", n, reply.Errno, len(reply.Buf(0)))
		}
		if into := inPlace(reply, buf); into != (n > ticketBytes) {
			t.Errorf("%d bytes: taken straight into the guest's buffer %v, want %v", n, into, n > ticketBytes)
		}
		if n <= ticketBytes && !bytes.Equal(buf, bytes.Repeat([]byte{0xAA}, inline)) {
			t.Errorf("%d bytes: the guest's buffer was written, not answered", n)
		}
	}

	// A buffer smaller than the end's inline size: a message that does not
	// fit is left in the socket.
	send(message(100))
	if reply, buf := recv(50, true); reply.Errno != abi.E2SMALL || reply.Int(0) != 100 || !bytes.Equal(buf, bytes.Repeat([]byte{0xAA}, 50)) {
		t.Fatalf("100 bytes into 50: errno %d, size %d", reply.Errno, reply.Int(0))
	}
	if e.hasPending {
		t.Fatal("the message that did not fit was taken from the socket")
	}
	if reply, buf := recv(200, true); reply.Errno != abi.OK || !bytes.Equal(reply.Buf(0), message(100)) || inPlace(reply, buf) {
		t.Fatalf("100 bytes into 200 (peek, read, copy): errno %d, %d bytes, in place %v", reply.Errno, len(reply.Buf(0)), inPlace(reply, buf))
	}
	if reply, _ := recv(inline, true); reply.Errno != abi.ETIMEDOUT {
		t.Errorf("an empty socket: errno %d, want ETIMEDOUT", reply.Errno)
	}

	send(message(inline + 1)) // (longer than the end's datagrams)
	if reply, _ := recv(inline, true); reply.Errno != abi.EIO {
		t.Errorf("a datagram longer than the end's: errno %d, want EIO", reply.Errno)
	}

	send(message(300))
	unix.Close(fds[0])
	if reply, _ := recv(inline, true); reply.Errno != abi.OK || !bytes.Equal(reply.Buf(0), message(300)) {
		t.Fatalf("the last message: errno %d", reply.Errno)
	}
	if reply, _ := recv(inline, true); reply.Errno != abi.EEOF {
		t.Errorf("after the other end closed: errno %d, want EEOF", reply.Errno)
	}
}

// TestWaitRoom: a put that found its queue's socket full waits for room
// only for a message of roomWaitFrom bytes or more, not for a put_nowait,
// and within a timed put's timeout (counted from when the put began to
// wait); on a socket nobody reads it gives up. Each case but the last
// runs on a writable socket, where a wait that should not happen would
// report room at once.
func TestWaitRoom(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	writable := &queueRef{pipeEnd: pipeEnd{fd: fds[0]}}
	long := time.Now().Add(-10 * time.Second)
	for _, tc := range []struct {
		name    string
		n       int
		timeout time.Duration
		began   time.Time
		want    bool
	}{
		{"a message of roomWaitFrom", roomWaitFrom, -1, time.Time{}, true},
		{"a smaller message", roomWaitFrom - 1, -1, time.Time{}, false},
		{"put_nowait", 4096, 0, time.Time{}, false},
		{"a timeout not yet over", 4096, 5 * time.Second, time.Now(), true},
		{"a timeout over", 4096, 5 * time.Second, long, false},
	} {
		c := &call{began: tc.began}
		if got := c.waitRoom(writable, tc.n, tc.timeout); got != tc.want {
			t.Errorf("%s: waitRoom = %v, want %v", tc.name, got, tc.want)
		}
	}

	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 4096)
	for {
		if _, err := unix.Write(fds[1], msg); err == unix.EAGAIN {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	if (&call{}).waitRoom(&queueRef{pipeEnd: pipeEnd{fd: fds[1]}}, 4096, -1) {
		t.Error("waitRoom reported room in a full socket nobody reads")
	}
	if d := time.Since(began); d > roomWait+500*time.Millisecond { // (margin: a loaded machine)
		t.Errorf("waitRoom on a full socket took %v, want about %v", d, roomWait)
	}
}
