package host

import (
	"errors"
	"fmt"
)

// ErrMainFailed is returned when MainProcess could not run at all (its
// runner failed to start or died without running the guest).
var ErrMainFailed = errors.New("main process failed to run")

// errno is an ABI errno carried as a Go error inside the host, so that
// handlers can return early with one.
type errno struct {
	code int32
	msg  string
}

func (e *errno) Error() string { return fmt.Sprintf("errno %d: %s", e.code, e.msg) }

func fail(code int32, format string, args ...any) error {
	return &errno{code: code, msg: fmt.Sprintf(format, args...)}
}
