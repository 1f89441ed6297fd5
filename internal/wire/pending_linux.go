package wire

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Pending reports whether bytes of a frame wait to be read: read from the
// stream already (Buffered), or in the kernel's queue of its socket or
// pipe (FIONREAD). It does not block; a stream with no descriptor has
// nothing pending but what Buffered counts.
func (c *Conn) Pending() bool {
	if c.r.Buffered() > 0 {
		return true
	}
	sc, ok := c.rw.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var n int
	if raw.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }) != nil {
		return false
	}
	return n > 0
}
