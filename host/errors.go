package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// ErrMainFailed is returned when MainProcess could not run at all (its
// runner failed to start or died without running the guest).
var ErrMainFailed = errors.New("main process failed to run")

// ErrOutputClosed stops a run whose caller closed its end of stdout or
// stderr (`sandbox run … | head`): what the processes print can no longer
// be delivered.
var ErrOutputClosed = errors.New("the reader of the output is gone")

// errno is an ABI errno carried as a Go error inside the host, so that
// handlers can return early with one.
type errno struct {
	code abi.Errno
	msg  string
}

func (e *errno) Error() string { return fmt.Sprintf("%s: %s", e.code, e.msg) }

// fail returns the error a handler gives for errno code.
func fail(code abi.Errno, format string, args ...any) error {
	return &errno{code: code, msg: fmt.Sprintf(format, args...)}
}

// ipcErrnos maps the errors of package ipc to ABI errnos.
var ipcErrnos = []struct {
	err  error
	code abi.Errno
}{
	{ipc.ErrTimeout, abi.ETIMEDOUT},
	{ipc.ErrEmpty, abi.EEMPTY},
	{ipc.ErrFull, abi.EFULL},
	{ipc.ErrEOF, abi.EEOF},
	{ipc.ErrClosed, abi.ECLOSED},
	{ipc.ErrDirection, abi.EDIRECTION},
	{ipc.ErrBrokenPipe, abi.EBROKENPIPE},
	{ipc.ErrBroken, abi.EBROKEN},
	{ipc.ErrNotOwner, abi.ENOTOWNER},
	{ipc.ErrValue, abi.EVALUE},
	{ipc.ErrNoKey, abi.ENOKEY},
	{ipc.ErrIndex, abi.EINDEX},
	{ipc.ErrExited, abi.EIO},
	{context.Canceled, abi.EIO},
}

// errnoOf is the one place where an error of a handler becomes the errno
// the guest sees: an errno from fail, an error of package ipc, or anything
// else (the host failed) as EIO.
func errnoOf(err error) abi.Errno {
	var e *errno
	if errors.As(err, &e) {
		return e.code
	}
	for _, m := range ipcErrnos {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	return abi.EIO
}

// reason is the text of a handler's error without its errno's name.
func reason(err error) string {
	var e *errno
	if errors.As(err, &e) {
		return e.msg
	}
	return err.Error()
}
