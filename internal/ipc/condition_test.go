package ipc

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestConditionNeedsLock(t *testing.T) {
	ctx := t.Context()
	for _, l := range []Locker{NewLock(), NewRLock()} {
		t.Run(l.Kind(), func(t *testing.T) {
			c := NewCondition(l)
			if _, err := c.Wait(ctx, 1, 0); !errors.Is(err, ErrNotOwner) {
				t.Errorf("wait without the lock = %v, want ErrNotOwner", err)
			}
			if err := c.Notify(1, 1); !errors.Is(err, ErrNotOwner) {
				t.Errorf("notify without the lock = %v, want ErrNotOwner", err)
			}
			if err := c.NotifyAll(1); !errors.Is(err, ErrNotOwner) {
				t.Errorf("notify_all without the lock = %v, want ErrNotOwner", err)
			}
			c.Acquire(ctx, 2, -1)
			if err := c.Notify(1, 1); !errors.Is(err, ErrNotOwner) {
				t.Errorf("notify by a non-holder = %v, want ErrNotOwner", err)
			}
		})
	}
}

func TestConditionWaitNotify(t *testing.T) {
	ctx := t.Context()
	r := NewRLock()
	c := NewCondition(r)
	for range 2 { // the waiter holds two levels of the RLock
		c.Acquire(ctx, 1, -1)
	}
	res := async(func() res2[bool, error] { ok, err := c.Wait(ctx, 1, -1); return res2[bool, error]{ok, err} })
	eventually(t, "waiting", func() bool { return c.NWaiting() == 1 })
	// Wait released every level, so another process can take the lock.
	if ok, err := c.Acquire(ctx, 2, 0); !ok || err != nil {
		t.Fatalf("acquire while the waiter waits = %v, %v", ok, err)
	}
	if err := c.Notify(2, 1); err != nil {
		t.Fatal(err)
	}
	pending(t, "wait before the notifier releases the lock", res)
	if err := c.Release(2); err != nil {
		t.Fatal(err)
	}
	if got := await(t, "wait", res); !got.a || got.b != nil {
		t.Fatalf("wait = %v, %v; want true", got.a, got.b)
	}
	if who, n, _ := r.Owner(); who != 1 || n != 2 {
		t.Errorf("after wait the owner is %d at level %d; want 1 at level 2", who, n)
	}
}

func TestConditionWaitTimeoutReacquires(t *testing.T) {
	ctx := t.Context()
	for _, d := range []time.Duration{0, short} {
		l := NewLock()
		c := NewCondition(l)
		c.Acquire(ctx, 1, -1)
		if ok, err := c.Wait(ctx, 1, d); ok || err != nil {
			t.Errorf("wait(%v) = %v, %v; want false", d, ok, err)
		}
		if !l.HeldBy(1) {
			t.Errorf("wait(%v) returned without the lock", d)
		}
	}
}

func TestConditionNotifyCounts(t *testing.T) {
	ctx := t.Context()
	c := NewCondition(nil) // an RLock, as Python's Condition()
	if c.Lock().Kind() != "rlock" {
		t.Fatalf("default lock is %q", c.Lock().Kind())
	}
	var waits []<-chan res2[bool, error]
	for who := int32(1); who <= 4; who++ {
		c.Acquire(ctx, who, -1)
		waits = append(waits, async(func() res2[bool, error] {
			ok, err := c.Wait(ctx, who, -1)
			if err == nil {
				err = c.Release(who)
			}
			return res2[bool, error]{ok, err}
		}))
		eventually(t, "waiting", func() bool { return c.NWaiting() == int(who) })
	}
	c.Acquire(ctx, 9, -1)
	if err := c.Notify(9, 2); err != nil {
		t.Fatal(err)
	}
	c.Release(9)
	for _, w := range waits[:2] { // the oldest two
		if r := await(t, "notified wait", w); !r.a || r.b != nil {
			t.Errorf("wait = %v, %v", r.a, r.b)
		}
	}
	for _, w := range waits[2:] {
		pending(t, "not notified", w)
	}
	c.Acquire(ctx, 9, -1)
	c.NotifyAll(9)
	c.Release(9)
	for _, w := range waits[2:] {
		if r := await(t, "notified wait", w); !r.a || r.b != nil {
			t.Errorf("wait = %v, %v", r.a, r.b)
		}
	}
}

// A cancelled waiter returns without the lock, and a notification it got
// goes to the next waiter.
func TestConditionCancelledWait(t *testing.T) {
	ctx := t.Context()
	l := NewLock()
	c := NewCondition(l)
	dying, cancel := context.WithCancel(ctx)
	c.Acquire(ctx, 1, -1)
	w1 := async(func() error { _, err := c.Wait(dying, 1, -1); return err })
	eventually(t, "waiting", func() bool { return c.NWaiting() == 1 })
	c.Acquire(ctx, 2, -1)
	w2 := async(func() res2[bool, error] { ok, err := c.Wait(ctx, 2, -1); return res2[bool, error]{ok, err} })
	eventually(t, "both waiting", func() bool { return c.NWaiting() == 2 })

	c.Acquire(ctx, 3, -1) // hold the lock so the first waiter cannot re-acquire
	c.Notify(3, 1)        // wakes process 1 ...
	cancel()              // ... which dies before it re-acquires
	if err := await(t, "cancelled wait", w1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait = %v", err)
	}
	c.ProcessExited(1)
	c.Release(3)
	if r := await(t, "wait of process 2", w2); !r.a || r.b != nil {
		t.Errorf("process 2's wait = %v, %v; want the passed-on notification", r.a, r.b)
	}
	if !l.HeldBy(2) {
		t.Error("process 2 does not hold the lock after its wait")
	}
}

func TestConditionWaiterExits(t *testing.T) {
	ctx := t.Context()
	c := NewCondition(NewLock())
	dying, cancel := context.WithCancel(ctx)
	c.Acquire(ctx, 1, -1)
	w := async(func() error { _, err := c.Wait(dying, 1, -1); return err })
	eventually(t, "waiting", func() bool { return c.NWaiting() == 1 })
	c.ProcessExited(1)
	if c.NWaiting() != 0 {
		t.Errorf("dead waiter still counted")
	}
	cancel()
	if err := await(t, "wait", w); !errors.Is(err, context.Canceled) {
		t.Errorf("wait = %v", err)
	}
	if ok, _ := c.Acquire(ctx, 2, 0); !ok {
		t.Error("lock not free after the waiter died")
	}
}
