//go:build !linux

package runner

import (
	"io"
	"os"
	"syscall"
)

// openControl returns the control socket on ControlFD, non-blocking, so
// that reads park in Go's network poller.
func openControl() io.ReadWriteCloser {
	syscall.SetNonblock(ControlFD, true)
	f := os.NewFile(ControlFD, "control")
	if f == nil {
		return nil
	}
	return f
}
