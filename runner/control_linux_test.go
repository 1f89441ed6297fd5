package runner

import (
	"errors"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestControlFD: the runner's raw control socket carries frames both ways,
// waits with a bound while idle, and reports the host's end as EOF.
func TestControlFD(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	runnerEnd, err := newControlFD(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	hostEnd := controlFD(fds[1])
	defer runnerEnd.Close()
	runnerConn, hostConn := wire.NewConn(runnerEnd), wire.NewConn(hostEnd)

	// Nothing sent: the bounded wait times out.
	began := time.Now()
	if runnerEnd.WaitReadable(30 * time.Millisecond) {
		t.Error("WaitReadable reported a frame nobody sent")
	}
	if d := time.Since(began); d < 25*time.Millisecond {
		t.Errorf("WaitReadable returned after %v, want about 30ms", d)
	}

	// A frame of 100 KiB, both ways: more than the reader's buffer (64
	// KiB), so read in pieces, less than the socket's, so that one
	// goroutine can write it and then read it (a raw read holds its P:
	// no other goroutine is needed to feed it).
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(i)
	}
	if err := hostConn.Send(&wire.Msg{Kind: wire.KindAssign, Ints: []int64{7}, Bufs: [][]byte{big}}); err != nil {
		t.Fatal(err)
	}
	if !runnerEnd.WaitReadable(-1) { // no bound: the frame is there
		t.Fatal("WaitReadable did not see the frame")
	}
	m, err := runnerConn.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != wire.KindAssign || m.Int(0) != 7 || len(m.Buf(0)) != len(big) || m.Buf(0)[12345] != big[12345] {
		t.Errorf("received kind %d, ints %v, %d bytes", m.Kind, m.Ints, len(m.Buf(0)))
	}
	if err := runnerConn.Send(&wire.Msg{Kind: wire.KindCall, Bufs: [][]byte{big}}); err != nil {
		t.Fatal(err)
	}
	if m, err = hostConn.Recv(); err != nil || len(m.Buf(0)) != len(big) {
		t.Fatalf("host received %v, %v", m, err)
	}

	// A reply that takes longer than fastWait is waited for where the
	// runtime sees it: with one P, the goroutine that sends it can run
	// (a raw read that held the P would wait for ever).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	late := 10 * fastWait
	go func() {
		time.Sleep(late)
		hostConn.Send(&wire.Msg{Kind: wire.KindReply, Ints: []int64{42}})
	}()
	began = time.Now()
	if m, err = runnerConn.Recv(); err != nil || m.Int(0) != 42 {
		t.Fatalf("late reply: %v, %v", m, err)
	}
	if d := time.Since(began); d < late {
		t.Errorf("the late reply came after %v, before it was sent (%v)", d, late)
	}

	// The host's end closes: readable at once, then EOF.
	hostEnd.Close()
	if !runnerEnd.WaitReadable(10 * time.Second) {
		t.Error("WaitReadable did not see the end")
	}
	if _, err := runnerConn.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after the host's end closed: %v, want EOF", err)
	}
	if err := runnerConn.Send(&wire.Msg{Kind: wire.KindCall}); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Send after the host's end closed: %v, want EPIPE", err)
	}
}
