package ipc

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Condition is multiprocessing.Condition over a Lock or RLock of this
// package. wait_for is left to the SDK, on top of Wait.
type Condition struct {
	lock    Locker
	mu      sync.Mutex // guards waiters; taken before the lock's own mutex
	waiters []*condWaiter
}

// condWaiter is one process blocked in Wait.
type condWaiter struct {
	who      int32
	wake     chan struct{} // closed by notify
	notified bool
}

var _ Object = (*Condition)(nil)

// NewCondition returns a condition variable over lock; a nil lock means a
// new RLock, as Python's Condition().
func NewCondition(lock Locker) *Condition {
	if lock == nil {
		lock = NewRLock()
	}
	return &Condition{lock: lock}
}

// Kind returns "condition".
func (c *Condition) Kind() string { return "condition" }

// Lock returns the lock the condition is built on.
func (c *Condition) Lock() Locker { return c.lock }

// Inherit passes the fork on to the lock.
func (c *Condition) Inherit(parent, child int32) { c.lock.Inherit(parent, child) }

// ProcessExited drops who's waits (a dead process cannot take a
// notification) and passes the exit on to the lock, which releases it if
// who held it. The lock's ProcessExited is idempotent, so the host may
// also call it directly when the lock has its own handle.
func (c *Condition) ProcessExited(who int32) {
	c.mu.Lock()
	c.waiters = slices.DeleteFunc(c.waiters, func(w *condWaiter) bool { return w.who == who })
	c.mu.Unlock()
	c.lock.ProcessExited(who)
}

// Acquire acquires the underlying lock.
func (c *Condition) Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	return c.lock.Acquire(ctx, who, timeout)
}

// Release releases the underlying lock.
func (c *Condition) Release(who int32) error { return c.lock.Release(who) }

// Wait releases the lock completely (every level of an RLock), waits up to
// timeout (negative: forever; zero: do not block) for Notify or NotifyAll,
// then re-acquires the lock at the same level, without a time limit,
// before it returns. It returns false if it timed out. ErrNotOwner if who
// does not hold the lock. On ctx cancellation it returns ctx.Err() without
// the lock, and a notification it had already been given passes to the
// next waiter.
func (c *Condition) Wait(ctx context.Context, who int32, timeout time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	w := &condWaiter{who: who, wake: make(chan struct{})}
	c.mu.Lock()
	// Register and release under c.mu: a notifier must take the lock and
	// then c.mu, so it cannot slip in between.
	levels, err := c.lock.releaseAll(who)
	if err != nil {
		c.mu.Unlock()
		return false, err
	}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()

	if timeout != 0 {
		var expiry <-chan time.Time
		if timeout > 0 {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expiry = t.C
		}
		caller := callerOf(ctx)
		caller.Sleeping(c, timeout)
		select {
		case <-w.wake:
		case <-ctx.Done():
		case <-expiry:
		}
		caller.Woke()
	}

	c.mu.Lock()
	notified := w.notified
	if !notified {
		c.remove(w)
	}
	c.mu.Unlock()
	err = ctx.Err()
	if err == nil {
		err = c.lock.reacquire(ctx, who, levels)
	}
	if err != nil {
		if notified {
			c.passOn()
		}
		return false, err
	}
	return notified, nil
}

// passOn gives the notification a cancelled waiter got to the next waiter.
func (c *Condition) passOn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notify(1)
}

// Notify wakes up to n processes waiting in Wait, oldest first.
// ErrNotOwner if who does not hold the lock.
func (c *Condition) Notify(who int32, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lock.HeldBy(who) {
		return fmt.Errorf("%w: lock is not owned", ErrNotOwner)
	}
	c.notify(n)
	return nil
}

// NotifyAll wakes every process waiting in Wait. ErrNotOwner if who does
// not hold the lock.
func (c *Condition) NotifyAll(who int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lock.HeldBy(who) {
		return fmt.Errorf("%w: lock is not owned", ErrNotOwner)
	}
	c.notify(len(c.waiters))
	return nil
}

// NWaiting returns the number of processes waiting for a notification.
func (c *Condition) NWaiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// notify wakes the n oldest waiters. c.mu held.
func (c *Condition) notify(n int) {
	n = min(max(n, 0), len(c.waiters))
	for _, w := range c.waiters[:n] {
		w.notified = true
		close(w.wake)
	}
	c.waiters = slices.Delete(c.waiters, 0, n)
}

// remove drops w from the waiters, if it is still there. c.mu held.
func (c *Condition) remove(w *condWaiter) {
	if i := slices.Index(c.waiters, w); i >= 0 {
		c.waiters = slices.Delete(c.waiters, i, i+1)
	}
}
