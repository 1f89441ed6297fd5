package host

import (
	"runtime"
	"testing"
)

// DatagramBound is, for the tests, the largest message a direct pipe's
// datagram carries on this machine (socketPair's inline; a direct queue's
// socket has the same); where there are no direct pipes, any size does.
func DatagramBound(t *testing.T) int {
	t.Helper()
	fds, inline, _, err := socketPair()
	if err != nil {
		if runtime.GOOS == "linux" {
			t.Fatal(err)
		}
		return 53248
	}
	closeFD(fds[0])
	closeFD(fds[1])
	return inline
}
