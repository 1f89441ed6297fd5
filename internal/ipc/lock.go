package ipc

import (
	"context"
	"fmt"
	"time"
)

// Locker is a lock a Condition can be built on: *Lock or *RLock. Its
// unexported methods keep other implementations out.
type Locker interface {
	Object
	// Acquire takes the lock for who, as Lock.Acquire and RLock.Acquire.
	Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error)
	// Release gives the lock back, as Lock.Release and RLock.Release.
	Release(who int32) error

	// owns reports whether who holds the lock.
	owns(who int32) bool
	// releaseAll releases every level who holds and returns how many.
	releaseAll(who int32) (levels int, err error)
	// reacquire waits without a time limit to hold the lock again at levels.
	reacquire(ctx context.Context, who int32, levels int) error
}

var (
	_ Locker = (*Lock)(nil)
	_ Locker = (*RLock)(nil)
)

// Lock is multiprocessing.Lock. As in CPython, where it is a semaphore with
// maximum value 1, any process may release it, not only the one that
// acquired it; releasing it when it is not held is ErrValue ("semaphore or
// lock released too many times"). It is not recursive: acquiring it again
// from the holder blocks.
type Lock struct {
	m         monitor
	locked    bool
	holder    int32 // the process that acquired it, while locked
	abandoned bool
	abandoner int32
}

// NewLock returns an unlocked Lock.
func NewLock() *Lock { return &Lock{} }

// Kind returns "lock".
func (l *Lock) Kind() string { return "lock" }

// Inherit does nothing: after fork the child does not hold the parent's
// lock (SemLock._after_fork resets the per-process count).
func (l *Lock) Inherit(parent, child int32) {}

// ProcessExited releases the lock if who holds it and records who as the
// abandoner (see Abandoned).
func (l *Lock) ProcessExited(who int32) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.locked && l.holder == who {
		l.locked = false
		l.abandoned, l.abandoner = true, who
	}
	l.m.broadcast()
}

// Abandoned reports the last process that died while holding the lock, so
// that the host can report it; the lock was released at that moment.
func (l *Lock) Abandoned() (by int32, ok bool) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.abandoner, l.abandoned
}

// Acquire takes the lock, waiting up to timeout (negative: forever; zero:
// do not block). It returns false, like Python, when the time runs out.
func (l *Lock) Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.acquire(ctx, who, timeout)
}

// acquire is Acquire with l.m.mu held.
func (l *Lock) acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	err := l.m.await(ctx, l, timeout, func() bool { return ended(ctx) || !l.locked })
	switch {
	case err == errTimedOut:
		return false, nil
	case err != nil:
		return false, err
	case ended(ctx):
		return false, ErrExited
	}
	l.locked, l.holder = true, who
	return true, nil
}

// Release releases the lock, whoever holds it. ErrValue if it is not held.
func (l *Lock) Release(who int32) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if !l.locked {
		return fmt.Errorf("%w: semaphore or lock released too many times", ErrValue)
	}
	l.locked = false
	l.m.broadcast()
	return nil
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() bool {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.locked
}

// Owner returns the process that acquired the lock, if it is held.
func (l *Lock) Owner() (who int32, ok bool) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.holder, l.locked
}

func (l *Lock) owns(who int32) bool {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.locked && l.holder == who
}

func (l *Lock) releaseAll(who int32) (int, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if !l.locked || l.holder != who {
		return 0, fmt.Errorf("%w: must acquire() condition before using wait()", ErrNotOwner)
	}
	l.locked = false
	l.m.broadcast()
	return 1, nil
}

func (l *Lock) reacquire(ctx context.Context, who int32, _ int) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	_, err := l.acquire(ctx, who, -1)
	return err
}

// RLock is multiprocessing.RLock: a recursive lock owned by one process.
// The owner may acquire it again (the recursion count grows); only the
// owner may release it (ErrNotOwner otherwise, CPython's AssertionError
// "attempt to release recursive lock not owned by thread").
type RLock struct {
	m         monitor
	owner     int32
	count     int // recursion level; 0: not held
	abandoned bool
	abandoner int32
}

// NewRLock returns an unlocked RLock.
func NewRLock() *RLock { return &RLock{} }

// Kind returns "rlock".
func (r *RLock) Kind() string { return "rlock" }

// Inherit does nothing: after fork the child does not own the lock.
func (r *RLock) Inherit(parent, child int32) {}

// ProcessExited releases the lock, at every level, if who owns it, and
// records who as the abandoner (see Abandoned).
func (r *RLock) ProcessExited(who int32) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.count > 0 && r.owner == who {
		r.count = 0
		r.abandoned, r.abandoner = true, who
	}
	r.m.broadcast()
}

// Abandoned reports the last process that died while owning the lock.
func (r *RLock) Abandoned() (by int32, ok bool) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	return r.abandoner, r.abandoned
}

// Acquire takes the lock or, for its owner, one more level of it (at once,
// whatever the timeout). It returns false when the time runs out.
func (r *RLock) Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.count > 0 && r.owner == who {
		r.count++
		return true, nil
	}
	if err := r.acquire(ctx, who, timeout, 1); err != nil {
		if err == errTimedOut {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// acquire waits for the lock to be free and takes it at levels. r.m.mu held.
func (r *RLock) acquire(ctx context.Context, who int32, timeout time.Duration, levels int) error {
	err := r.m.await(ctx, r, timeout, func() bool { return ended(ctx) || r.count == 0 })
	switch {
	case err != nil:
		return err
	case ended(ctx):
		return ErrExited
	}
	r.owner, r.count = who, levels
	return nil
}

// Release releases one level. ErrNotOwner unless who owns the lock.
func (r *RLock) Release(who int32) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.count == 0 || r.owner != who {
		return fmt.Errorf("%w: attempt to release recursive lock not owned by thread", ErrNotOwner)
	}
	r.count--
	if r.count == 0 {
		r.m.broadcast()
	}
	return nil
}

// Locked reports whether the lock is held.
func (r *RLock) Locked() bool {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	return r.count > 0
}

// Owner returns the owning process and its recursion level, if held.
func (r *RLock) Owner() (who int32, count int, ok bool) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.count == 0 {
		return 0, 0, false
	}
	return r.owner, r.count, true
}

func (r *RLock) owns(who int32) bool {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	return r.count > 0 && r.owner == who
}

func (r *RLock) releaseAll(who int32) (int, error) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.count == 0 || r.owner != who {
		return 0, fmt.Errorf("%w: must acquire() condition before using wait()", ErrNotOwner)
	}
	levels := r.count
	r.count = 0
	r.m.broadcast()
	return levels, nil
}

func (r *RLock) reacquire(ctx context.Context, who int32, levels int) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	return r.acquire(ctx, who, -1, levels)
}
