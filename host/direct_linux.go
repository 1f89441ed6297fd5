package host

import "golang.org/x/sys/unix"

// socketPair makes the two connected sockets of a direct pipe: one
// datagram a message, in order, never merged or split. inline is the
// largest message sent as one datagram: a quarter of the send buffer (a
// datagram must fit in it whole), at most 64 KiB.
func socketPair() (fds [2]int, inline int, err error) {
	fds, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fds, 0, err
	}
	inline = maxInline
	if sb, err := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF); err == nil && sb/4 < inline {
		inline = sb / 4
	}
	return fds, inline, nil
}

const maxInline = 64 << 10

func shutdown(fd int) { unix.Shutdown(fd, unix.SHUT_RDWR) }

func closeFD(fd int) { unix.Close(fd) }
