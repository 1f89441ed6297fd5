package host_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// datagramBound is the largest message a direct pipe's datagram carries
// on this machine: a quarter of a new socket's send buffer, at most 64 KiB
// (host/direct_linux.go, socketPair; a direct queue's, selfSocket, is the
// same).
func datagramBound(t *testing.T) int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	sndbuf, err := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		t.Fatal(err)
	}
	return min(64<<10, sndbuf/4)
}
