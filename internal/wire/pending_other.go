//go:build !linux

package wire

// Pending reports whether bytes of a frame wait to be read: here, only
// those read from the stream already (Buffered).
func (c *Conn) Pending() bool { return c.r.Buffered() > 0 }
