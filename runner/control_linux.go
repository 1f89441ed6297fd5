package runner

import (
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// controlFD is the runner's control socket, blocking, read and written
// with raw system calls by the one goroutine that runs the guest.
//
// Why raw: a host call is a write of the call and a read of the reply.
// Through Go's network poller that read is a read that fails (EAGAIN), an
// epoll_wait, a read, and a goroutine woken; a blocking read through
// syscall.Syscall lets the runtime's monitor hand the runner's single P to
// a new thread whenever the reply takes more than 20 µs (a P in a system
// call is taken back when no other P is idle), which wakes a thread per
// call. A raw read is one system call, and the P stays with the guest,
// which is the only goroutine the runner has while a guest runs: the
// cheapest host call (queue_info) went from 34 to 20 µs, 64-byte queue
// messages from 52 to 30 µs, 4 KiB pipe messages from 131 to 95 (bench
// guest, medians of 7 interleaved runs against the build before).
//
// A raw read holds the P, so it must not wait long: the runtime would take
// the guest for a goroutine running too long (a preemption signal every 10
// ms, its monitor kept awake) and no timer or collector work could run.
// The socket's timeouts (fastWait) bound every raw read and write: a reply
// that takes longer is waited for in ppoll, a system call the runtime
// knows of (WaitReadable), and then read. Measured without that bound: a
// runner blocked in a join used 10-20 ms of CPU every 2 s (about 100
// signals a second); with it, none (as through the poller). A runner
// waiting for a process (its first, or the next once idle) waits in
// WaitReadable too (firstWait, idleWait).
type controlFD int

// fastWait is how long a raw read of the control socket may wait: most
// replies come sooner (a call takes tens of microseconds; one that blocks
// on another process, as long as that process takes).
const fastWait = 2 * time.Millisecond

// openControl returns the control socket on ControlFD.
func openControl() io.ReadWriteCloser {
	if _, err := unix.FcntlInt(ControlFD, unix.F_GETFD, 0); err != nil {
		return nil
	}
	f, err := newControlFD(ControlFD)
	if err != nil {
		return nil
	}
	return f
}

// newControlFD makes fd blocking, its raw reads and writes bounded by
// fastWait.
func newControlFD(fd int) (controlFD, error) {
	if err := syscall.SetNonblock(fd, false); err != nil {
		return -1, err
	}
	tv := unix.NsecToTimeval(int64(fastWait))
	for _, opt := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, opt, &tv); err != nil {
			return -1, err
		}
	}
	return controlFD(fd), nil
}

// Read reads with recvmsg, so that a descriptor the host passes with a
// frame (a direct pipe's socket: direct_linux.go) is kept (passedFDs).
func (f controlFD) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var oob [64]byte // room for a few descriptors; the host passes one at a time
	for {
		iov := unix.Iovec{Base: &p[0]}
		iov.SetLen(len(p))
		msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &oob[0]}
		msg.SetControllen(len(oob))
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(f), uintptr(unsafe.Pointer(&msg)), unix.MSG_CMSG_CLOEXEC)
		if e == 0 && msg.Controllen > 0 {
			keepPassed(oob[:msg.Controllen])
		}
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			// Nothing within fastWait: wait where the runtime sees it.
			f.WaitReadable(-1)
			continue
		case e != 0:
			return 0, os.NewSyscallError("read", e)
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}

func (f controlFD) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(f), uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			// The host has not taken what was sent within fastWait (its
			// output is backed up): wait where the runtime sees it.
			f.wait(unix.POLLOUT, -1)
			continue
		case e != 0:
			return done, os.NewSyscallError("write", e)
		}
		done += int(n)
	}
	return done, nil
}

func (f controlFD) Close() error { return syscall.Close(int(f)) }

// WaitReadable waits up to d (d < 0: as long as it takes) for the host to
// send something (or close the socket). It is a system call that the
// runtime knows of: the P may serve timers and the collector meanwhile.
func (f controlFD) WaitReadable(d time.Duration) bool { return f.wait(unix.POLLIN, d) }

// wait waits up to d (d < 0: no bound) for events on the socket, in ppoll.
func (f controlFD) wait(events int16, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(f), Events: events}}
	var timeout *unix.Timespec
	if d >= 0 {
		ts := unix.NsecToTimespec(int64(d))
		timeout = &ts
	}
	for {
		n, err := unix.Ppoll(fds, timeout, nil)
		if err == unix.EINTR {
			continue // (ts is not updated: a signal may lengthen the wait)
		}
		return err != nil || n > 0 // on an error, read and find out
	}
}

// passedFDs are the descriptors the host passed, in the order they came,
// until taken (takePassed).
var passedFDs struct {
	sync.Mutex
	fds []int
}

// keepPassed keeps the descriptors of the control messages in oob.
func keepPassed(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	passedFDs.Lock()
	defer passedFDs.Unlock()
	for _, m := range msgs {
		if fds, err := unix.ParseUnixRights(&m); err == nil {
			passedFDs.fds = append(passedFDs.fds, fds...)
		}
	}
}

// takePassed returns the first descriptor passed and not yet taken.
func takePassed() (int, bool) {
	passedFDs.Lock()
	defer passedFDs.Unlock()
	if len(passedFDs.fds) == 0 {
		return -1, false
	}
	fd := passedFDs.fds[0]
	passedFDs.fds = passedFDs.fds[1:]
	return fd, true
}
