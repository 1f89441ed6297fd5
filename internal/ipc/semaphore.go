package ipc

import (
	"context"
	"fmt"
	"math"
	"time"
)

// SemValueMax is the largest value a semaphore can reach, CPython's
// SEM_VALUE_MAX on Linux (INT_MAX): the bound of an "unbounded" Semaphore.
const SemValueMax = math.MaxInt32

// Semaphore is multiprocessing.Semaphore or, from NewBoundedSemaphore,
// multiprocessing.BoundedSemaphore. Any process may release it; it has no
// owner, so ProcessExited gives nothing back.
type Semaphore struct {
	m       monitor
	value   int
	max     int // release at this value is ErrValue
	bounded bool
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
	return &Semaphore{value: value, max: maxValue, bounded: bounded}, nil
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
	s.m.broadcast()
}

// Acquire decrements the value, waiting up to timeout for it to be
// positive. It returns false when the time runs out.
func (s *Semaphore) Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	err := s.m.await(ctx, s, timeout, func() bool { return ended(ctx) || s.value > 0 })
	switch {
	case err == errTimedOut:
		return false, nil
	case err != nil:
		return false, err
	case ended(ctx):
		return false, ErrExited
	}
	s.value--
	return true, nil
}

// Release increments the value. ErrValue if that would pass the bound.
func (s *Semaphore) Release(who int32) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.value >= s.max {
		return fmt.Errorf("%w: semaphore or lock released too many times", ErrValue)
	}
	s.value++
	s.m.broadcast()
	return nil
}

// Value returns the current value (Python's get_value).
func (s *Semaphore) Value() int {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.value
}

// MaxValue returns the value Release cannot pass: the initial value of a
// bounded semaphore, else SemValueMax.
func (s *Semaphore) MaxValue() int { return s.max }
