package host

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// socketPair makes the two connected sockets of a direct pipe: one
// datagram a message, in order, never merged or split. sndbuf is the
// bytes one socket's sends may hold queued; inline the largest message
// sent as one datagram: a quarter of that (a datagram must fit whole), at
// most 64 KiB.
func socketPair() (fds [2]int, inline, sndbuf int, err error) {
	fds, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, 0, 0, err
	}
	sndbuf, err = unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fds, 0, 0, err
	}
	return fds, min(maxInline, sndbuf/4), sndbuf, nil
}

// drain reads, without waiting, every datagram queued on fd.
func drain(fd int) {
	buf := make([]byte, 1024)
	for {
		// MSG_TRUNC: a datagram longer than buf is taken whole all the same.
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
	}
}

// dupFD returns a copy of fd, closed on exec.
func dupFD(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

// ready reports whether fd is ready, now, for a receive (send false) or
// a send: a process waiting on it is about to wake.
func ready(fd int, send bool) bool {
	ev := int16(unix.POLLIN)
	if send {
		ev = unix.POLLOUT
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: ev}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

const maxInline = 64 << 10

func shutdown(fd int) { unix.Shutdown(fd, unix.SHUT_RDWR) }

// grantedSendBuffer is what the kernel grants a socket asked for n bytes
// (SO_SNDBUF): twice n, at most twice net.core.wmem_max; false when that
// cannot be read.
func grantedSendBuffer(n int) (int, bool) {
	b, err := os.ReadFile("/proc/sys/net/core/wmem_max")
	if err != nil {
		return 0, false
	}
	max, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return 0, false
	}
	return 2 * min(n, max), true
}

// setSendBuffer asks the kernel to let fd's sends hold n bytes queued (it
// grants grantedSendBuffer(n)).
func setSendBuffer(fd, n int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n)
}

func closeFD(fd int) { unix.Close(fd) }

// selfSocket makes a direct queue's socket: a datagram socket connected
// to itself (bound to an address of its own in the abstract namespace,
// which only it may send to once connected), so that what is sent on it,
// through any copy, is received on it, one datagram a message, each by
// one receiver. sndbuf and inline are as socketPair's.
func selfSocket() (fd, inline, sndbuf int, err error) {
	fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, 0, err
	}
	fail := func(err error) (int, int, int, error) {
		unix.Close(fd)
		return -1, 0, 0, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{}); err != nil { // an address is chosen
		return fail(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	if err := unix.Connect(fd, sa); err != nil {
		return fail(err)
	}
	if sndbuf, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF); err != nil {
		return fail(err)
	}
	return fd, min(maxInline, sndbuf/4), sndbuf, nil
}

// What sendNow did with a datagram.
const (
	sendOK     = iota
	sendFull   // the socket has no room now
	sendFailed // the socket refuses it for good
)

// sendNow sends datagram dg on fd without waiting.
func sendNow(fd int, dg []byte) int {
	for {
		err := unix.Send(fd, dg, unix.MSG_DONTWAIT)
		switch err {
		case nil:
			return sendOK
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.ENOBUFS, unix.ENOMEM:
			return sendFull // (no room, or no memory, for now)
		}
		return sendFailed
	}
}

// waitWritable waits up to d for room to send on fd.
func waitWritable(fd int, d time.Duration) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	unix.Poll(fds, int(d/time.Millisecond))
}

// runnable reports whether a thread of process pid is running, waiting
// for a CPU, or in an uninterruptible sleep (states R and D of
// /proc/PID/task/TID/stat): the process is on its way somewhere, not
// blocked in a wait (a runner blocked in a call it serves sleeps in poll
// or futex, state S, every thread of it).
func runnable(pid int) bool {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, t := range tasks {
		stat, err := os.ReadFile(dir + "/" + t.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ...: the name may hold anything, so the state is
		// after the last ')'.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
			if st := stat[i+2]; st == 'R' || st == 'D' {
				return true
			}
		}
	}
	return false
}
