//go:build unix

package wire

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
)

// unixWriter is a Unix socket that can pass descriptors (*net.UnixConn).
type unixWriter interface {
	WriteMsgUnix(b, oob []byte, addr *net.UnixAddr) (n, oobn int, err error)
}

// SendFD writes one frame with the descriptors fds attached (SCM_RIGHTS):
// the receiver gets its own copies of them, in order, with the frame's
// first byte. The stream must be a Unix socket.
func (c *Conn) SendFD(m *Msg, fds ...int) error {
	u, ok := c.rw.(unixWriter)
	if !ok {
		return errors.New("wire: descriptors travel only on a Unix socket")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := append(c.buf[:0], 0, 0, 0, 0)
	b = m.Append(b)
	if len(b)-4 > MaxFrame {
		return ErrFrameTooLarge
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	n, _, err := u.WriteMsgUnix(b, syscall.UnixRights(fds...), nil)
	if err == nil && n < len(b) {
		_, err = c.rw.Write(b[n:]) // the descriptor went with the first byte
	}
	if cap(b) <= 1<<20 {
		c.buf = b
	}
	return err
}
