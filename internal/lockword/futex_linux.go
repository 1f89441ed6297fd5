package lockword

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The futex operations (linux/futex.h), not private: the word is in
// memory several processes map.
const (
	futexWait = 0
	futexWake = 1
)

// Wait sleeps while *w is v, for at most d (negative: no bound), until a
// wake; it may return early (a signal, a change already made).
func Wait(w *atomic.Uint32, v uint32, d time.Duration) {
	var ts *unix.Timespec
	if d >= 0 {
		t := unix.NsecToTimespec(d.Nanoseconds())
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait, uintptr(v), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// WakeAll wakes every process sleeping on w.
func WakeAll(w *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, math.MaxInt32, 0, 0, 0)
}
