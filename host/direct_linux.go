package host

import "golang.org/x/sys/unix"

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

func closeFD(fd int) { unix.Close(fd) }
