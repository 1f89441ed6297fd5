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

// Take takes w for who as TryAcquire does, sleeping on the word (a futex)
// until it changes, for up to d (negative: no bound; 0: one try, no
// sleep). Once it has slept on a Holder, it takes the word marked with
// RunnersWait (TryAcquireMarked): a runner's release wakes one sleeper
// (WakeTakers), which cannot tell whether others sleep.
func Take(w *atomic.Uint32, k Kind, who uint32, d time.Duration) bool {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	var mark uint32
	for {
		waiting := RunnersWait
		if d == 0 {
			waiting = 0
		}
		ok, v := TryAcquireMarked(w, k, who, waiting, mark)
		if ok || d == 0 {
			return ok
		}
		left := maxSleep
		if d > 0 {
			if left = time.Until(deadline); left <= 0 {
				return false
			}
		}
		Wait(w, v, min(left, maxSleep))
		if k == Holder {
			mark = RunnersWait
		}
	}
}

// maxSleep bounds one sleep of Take: the word is looked at again at least
// this often, whatever wake-up might have been missed.
const maxSleep = time.Second

// WakeTakers wakes whom a release that found RunnersWait must wake: one
// sleeper of a Holder (the lock goes to one; see Take), every sleeper of a
// Count (two releases before the one woken takes its unit find the flag
// once: a wake-up of one would leave a unit and a sleeper).
func WakeTakers(w *atomic.Uint32, k Kind) {
	n := uintptr(math.MaxInt32)
	if k == Holder {
		n = 1
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, n, 0, 0, 0)
}

// WakeAll wakes every process sleeping on w.
func WakeAll(w *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, math.MaxInt32, 0, 0, 0)
}
