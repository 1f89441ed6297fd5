package ipc

import (
	"context"
	"fmt"
	"time"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

// Locker is a lock a Condition can be built on: *Lock or *RLock. Its
// unexported methods keep other implementations out.
type Locker interface {
	Object
	// Acquire takes the lock for who, as Lock.Acquire and RLock.Acquire.
	Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error)
	// Release gives the lock back, as Lock.Release and RLock.Release.
	Release(who int32) error

	// HeldBy reports whether who holds the lock.
	HeldBy(who int32) bool
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
	lockBase  // the word holds the holder
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

// MaxValue returns 1.
func (l *Lock) MaxValue() int { return 1 }

// holder returns the process holding the lock, if it is. l.m.mu held.
func (l *Lock) holder() (who int32, ok bool) {
	h := lockword.Value(l.st.w().Load())
	return int32(h), h != 0
}

// ProcessExited releases the lock if who holds it and records who as the
// abandoner (see Abandoned).
func (l *Lock) ProcessExited(who int32) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if h, err := holder(who); err == nil {
		if _, ok := lockword.ReleaseHeld(l.st.w(), h); ok {
			l.abandoned, l.abandoner = true, who
		}
	}
	l.st.exited(&l.m)
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
	return l.acquire(ctx, l, who, timeout)
}

// Release releases the lock, whoever holds it. ErrValue if it is not held.
func (l *Lock) Release(who int32) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	sleepers, ok := lockword.Release(l.st.w(), lockword.Holder, 0)
	if !ok {
		return fmt.Errorf("%w: semaphore or lock released too many times", ErrValue)
	}
	l.st.woken(&l.m, sleepers)
	return nil
}

// Locked reports whether the lock is held.
func (l *Lock) Locked() bool {
	_, ok := l.Owner()
	return ok
}

// Owner returns the process that acquired the lock, if it is held.
func (l *Lock) Owner() (who int32, ok bool) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.holder()
}

func (l *Lock) releaseAll(who int32) (int, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	h, err := holder(who)
	if err != nil {
		return 0, err
	}
	sleepers, ok := lockword.ReleaseHeld(l.st.w(), h)
	if !ok {
		return 0, fmt.Errorf("%w: must acquire() condition before using wait()", ErrNotOwner)
	}
	l.st.woken(&l.m, sleepers)
	return 1, nil
}

func (l *Lock) reacquire(ctx context.Context, who int32, _ int) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	_, err := l.acquire(ctx, l, who, -1)
	return err
}

// RLock is multiprocessing.RLock: a recursive lock owned by one process.
// The owner may acquire it again (the recursion level grows); only the
// owner may release it (ErrNotOwner otherwise, CPython's AssertionError
// "attempt to release recursive lock not owned by thread"). The level is
// changed only by the owner (or by the host once the owner is gone).
type RLock struct {
	lockBase  // the word holds the owner; the level is beside it
	abandoned bool
	abandoner int32
}

// NewRLock returns an unlocked RLock.
func NewRLock() *RLock { return &RLock{} }

// Kind returns "rlock".
func (r *RLock) Kind() string { return "rlock" }

// Inherit does nothing: after fork the child does not own the lock.
func (r *RLock) Inherit(parent, child int32) {}

// MaxValue returns 1.
func (r *RLock) MaxValue() int { return 1 }

// ProcessExited releases the lock, at every level, if who owns it, and
// records who as the abandoner (see Abandoned).
func (r *RLock) ProcessExited(who int32) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.heldBy(who) {
		r.st.l().Store(0)
		if _, ok := lockword.ReleaseHeld(r.st.w(), uint32(who)); ok {
			r.abandoned, r.abandoner = true, who
		}
	}
	r.st.exited(&r.m)
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
	if r.heldBy(who) {
		r.st.l().Add(1)
		return true, nil
	}
	ok, err := r.acquire(ctx, r, who, timeout)
	if ok {
		r.st.l().Store(1)
	}
	return ok, err
}

// Release releases one level. ErrNotOwner unless who owns the lock.
func (r *RLock) Release(who int32) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if !r.heldBy(who) || r.st.l().Load() == 0 {
		return fmt.Errorf("%w: attempt to release recursive lock not owned by thread", ErrNotOwner)
	}
	if r.st.l().Add(^uint32(0)) == 0 {
		sleepers, _ := lockword.ReleaseHeld(r.st.w(), uint32(who))
		r.st.woken(&r.m, sleepers)
	}
	return nil
}

// Locked reports whether the lock is held.
func (r *RLock) Locked() bool {
	_, _, ok := r.Owner()
	return ok
}

// Owner returns the owning process and its recursion level, if held. (A
// process whose runner took the lock a moment ago may not have set its
// level yet: it counts as 1.)
func (r *RLock) Owner() (who int32, count int, ok bool) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	h := lockword.Value(r.st.w().Load())
	if h == 0 {
		return 0, 0, false
	}
	return int32(h), max(int(r.st.l().Load()), 1), true
}

func (r *RLock) releaseAll(who int32) (int, error) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if !r.heldBy(who) {
		return 0, fmt.Errorf("%w: must acquire() condition before using wait()", ErrNotOwner)
	}
	levels := int(r.st.l().Swap(0))
	sleepers, _ := lockword.ReleaseHeld(r.st.w(), uint32(who))
	r.st.woken(&r.m, sleepers)
	return levels, nil
}

func (r *RLock) reacquire(ctx context.Context, who int32, levels int) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	ok, err := r.acquire(ctx, r, who, -1)
	if ok {
		r.st.l().Store(uint32(levels))
	}
	return err
}
