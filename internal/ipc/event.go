package ipc

import (
	"context"
	"time"
)

// Event is multiprocessing.Event: a flag processes can wait on.
type Event struct {
	m    monitor
	flag bool
	sets uint64 // number of Set calls, so a waiter sees a Set even if Clear follows at once
}

var _ Object = (*Event)(nil)

// NewEvent returns an event whose flag is clear.
func NewEvent() *Event { return &Event{} }

// Kind returns "event".
func (e *Event) Kind() string { return "event" }

// Inherit does nothing.
func (e *Event) Inherit(parent, child int32) {}

// ProcessExited does nothing: an event has no owner.
func (e *Event) ProcessExited(who int32) {}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	e.flag = true
	e.sets++
	e.m.broadcast()
}

// Clear clears the flag.
func (e *Event) Clear() {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	e.flag = false
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	return e.flag
}

// Wait waits up to timeout (negative: forever; zero: do not block) for the
// flag to be set. It returns true if the flag is set or was set during the
// wait (a Set immediately followed by Clear still wakes waiters with true,
// one of the outcomes CPython allows), false when the time runs out.
func (e *Event) Wait(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	start := e.sets
	err := e.m.await(ctx, e, timeout, func() bool { return e.flag || e.sets != start })
	switch {
	case err == errTimedOut:
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
