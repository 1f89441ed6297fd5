package lockword

import (
	"math"
	"runtime"
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

// wait sleeps while *w is v, for at most d (negative: no bound), until a
// wake; it may return early (a signal, a change already made).
func wait(w *atomic.Uint32, v uint32, d time.Duration) {
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
	// The deadline counts from the first sleep (a spin before it lasts
	// spinFor at most): Take reads the clock only on its way to a sleep (in
	// a virtual machine a read was a tenth of a contended lock's CPU).
	var deadline time.Time
	var mark uint32
	for {
		waiting := RunnersWait
		if d == 0 {
			waiting = 0
		} else if spin(w, k) {
			// (Before it says it sleeps, so that the release it saw
			// made no system call.)
			if ok, _ := TryAcquireMarked(w, k, who, 0, mark); ok {
				return true
			}
		}
		ok, v := TryAcquireMarked(w, k, who, waiting, mark)
		if ok || d == 0 {
			return ok
		}
		left := maxSleep
		if d > 0 {
			if deadline.IsZero() {
				deadline = time.Now().Add(d)
			}
			if left = time.Until(deadline); left <= 0 {
				return false
			}
		}
		wait(w, v, min(left, maxSleep))
		if k == Holder {
			mark = RunnersWait
		}
	}
}

// spin looks at w until it is available, for spinFor at most, and reports
// whether it is: a word held by a process running on another CPU is
// usually released within a host call or two, much sooner than a futex
// sleep and its wake-up take (both processes pay a system call and a
// context switch). One CPU: no spin (the holder cannot run meanwhile).
func spin(w *atomic.Uint32, k Kind) bool {
	if !multiCPU {
		return false
	}
	var began time.Time
	for i := 0; ; i++ {
		if Available(k, w.Load()) {
			return true
		}
		if i%16 == 0 { // (a load is a few ns; one that misses the cache, 100)
			if i == 0 {
				began = time.Now()
			} else if time.Since(began) > spinFor {
				return false
			}
		}
	}
}

// spinFor bounds a spin: about ten acquire+release pairs of a process.
const spinFor = 3 * time.Microsecond

var multiCPU = runtime.NumCPU() > 1

// maxSleep bounds one sleep of Take: the word is looked at again at least
// this often, whatever wake-up might have been missed. (A variable for
// the tests: they make a missed one plain.)
var maxSleep = time.Second

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
