package wire

import (
	"bytes"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPending: a frame sent on a Unix socket (or a pipe) is pending on
// the other end before any read, and pending no more once read; bytes
// read into the Conn's buffer but not yet returned are pending too; a
// stream with no descriptor has only those.
func TestPending(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socket")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := NewConn(conn(fds[0])), NewConn(conn(fds[1]))
	if b.Pending() {
		t.Fatal("pending before anything was sent")
	}
	for range 2 {
		if err := a.Send(Parked()); err != nil {
			t.Fatal(err)
		}
	}
	if !b.Pending() {
		t.Fatal("a frame sent is not pending")
	}
	m, err := b.Recv() // reads both frames into b's buffer
	if err != nil || m.Kind != KindParked {
		t.Fatalf("recv = %+v, %v; want a KindParked frame", m, err)
	}
	if b.Buffered() == 0 || !b.Pending() {
		t.Fatalf("the second frame, buffered (%d bytes), is not pending", b.Buffered())
	}
	if _, err := b.Recv(); err != nil {
		t.Fatal(err)
	}
	if b.Pending() {
		t.Error("pending after every frame was read")
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := NewConn(w).Send(Parked()); err != nil {
		t.Fatal(err)
	}
	if !NewConn(r).Pending() {
		t.Error("a frame sent on a pipe is not pending")
	}
	var buf bytes.Buffer
	if err := NewConn(&buf).Send(Parked()); err != nil {
		t.Fatal(err)
	}
	if NewConn(&buf).Pending() {
		t.Error("a stream with no descriptor says a frame is pending before any read")
	}
}
