package ipc

import (
	"context"
	"fmt"
	"time"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

// SemValueMax is the largest value a semaphore can reach: the bound of an
// "unbounded" Semaphore. It is what a lock word holds (lockword.MaxValue,
// 2^30-1); CPython's SEM_VALUE_MAX on Linux is INT_MAX (2^31-1).
const SemValueMax = lockword.MaxValue

// Semaphore is multiprocessing.Semaphore or, from NewBoundedSemaphore,
// multiprocessing.BoundedSemaphore. Any process may release it; it has no
// owner, so ProcessExited gives nothing back.
type Semaphore struct {
	lockBase     // the word holds the value
	max      int // release at this value is ErrValue
	bounded  bool
}

var _ Object = (*Semaphore)(nil)

// NewSemaphore returns a semaphore with the given initial value; it can
// grow up to SemValueMax. ErrValue if value is out of 0..SemValueMax.
func NewSemaphore(value int) (*Semaphore, error) {
	return newSemaphore(value, SemValueMax, false)
}

// NewBoundedSemaphore returns a semaphore that cannot be released above its
// initial value (ErrValue, "semaphore or lock released too many times").
func NewBoundedSemaphore(value int) (*Semaphore, error) {
	return newSemaphore(value, value, true)
}

func newSemaphore(value, maxValue int, bounded bool) (*Semaphore, error) {
	if value < 0 || value > SemValueMax {
		return nil, fmt.Errorf("%w: semaphore initial value must be in 0..%d, not %d", ErrValue, SemValueMax, value)
	}
	s := &Semaphore{lockBase: lockBase{kind: lockword.Count}, max: maxValue, bounded: bounded}
	s.st.own.Store(lockword.Make(uint32(value)))
	return s, nil
}

// Kind returns "bounded_semaphore" or "semaphore".
func (s *Semaphore) Kind() string {
	if s.bounded {
		return "bounded_semaphore"
	}
	return "semaphore"
}

// Inherit does nothing.
func (s *Semaphore) Inherit(parent, child int32) {}

// ProcessExited only wakes who's waiters (its Caller refuses it): a semaphore
// has no owner, so units a dead process took stay taken, as in CPython.
func (s *Semaphore) ProcessExited(who int32) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.st.exited(&s.m)
}

// Acquire decrements the value, waiting up to timeout for it to be
// positive. It returns false when the time runs out.
func (s *Semaphore) Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.acquire(ctx, s, who, timeout)
}

// Release increments the value. ErrValue if that would pass the bound.
func (s *Semaphore) Release(who int32) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	sleepers, ok := lockword.Release(s.st.w(), lockword.Count, uint32(s.max))
	if !ok {
		return fmt.Errorf("%w: semaphore or lock released too many times", ErrValue)
	}
	s.st.woken(&s.m, sleepers)
	return nil
}

// Value returns the current value (Python's get_value).
func (s *Semaphore) Value() int {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return int(lockword.Value(s.st.w().Load()))
}

// MaxValue returns the value Release cannot pass: the initial value of a
// bounded semaphore, else SemValueMax.
func (s *Semaphore) MaxValue() int { return s.max }
