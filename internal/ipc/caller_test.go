package ipc

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCallerSleepWake: every blocking method tells its Caller once when it
// goes to sleep and once when it wakes; a call that need not wait tells
// nothing.
func TestCallerSleepWake(t *testing.T) {
	ctx := t.Context()
	mustBarrier := func() *Barrier {
		b, err := NewBarrier(2, -1, false)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		// wait blocks as process 2 until release (run as process 1) lets it go.
		setup func() (wait func(ctx context.Context) error, release func())
	}{
		{"pipe recv", func() (func(context.Context) error, func()) {
			p := NewPipe(true, 1)
			p.Inherit(1, 2)
			return func(ctx context.Context) error { _, _, err := p.Recv(ctx, 2, 0, -1, -1); return err },
				func() { p.Send(context.Background(), 1, 1, []byte("x")) }
		}},
		{"pipe poll", func() (func(context.Context) error, func()) {
			p := NewPipe(true, 1)
			p.Inherit(1, 2)
			return func(ctx context.Context) error { _, err := p.Poll(ctx, 2, 0, -1); return err },
				func() { p.Send(context.Background(), 1, 1, []byte("x")) }
		}},
		{"queue get", func() (func(context.Context) error, func()) {
			q := NewQueue(0, false, 1)
			return func(ctx context.Context) error { _, err := q.Get(ctx, 2, -1); return err },
				func() { q.Put(ctx, 1, []byte("x"), -1) }
		}},
		{"queue put when full", func() (func(context.Context) error, func()) {
			q := NewQueue(1, false, 1)
			q.Put(ctx, 1, []byte("x"), -1)
			return func(ctx context.Context) error { return q.Put(ctx, 2, []byte("y"), -1) },
				func() { q.Get(ctx, 1, -1) }
		}},
		{"queue join", func() (func(context.Context) error, func()) {
			q := NewQueue(0, true, 1)
			q.Put(ctx, 1, []byte("x"), -1)
			return func(ctx context.Context) error { return q.Join(ctx, 2, -1) },
				func() { q.Get(ctx, 1, -1); q.TaskDone(1) }
		}},
		{"lock acquire", func() (func(context.Context) error, func()) {
			l := NewLock()
			l.Acquire(ctx, 1, -1)
			return func(ctx context.Context) error { _, err := l.Acquire(ctx, 2, -1); return err },
				func() { l.Release(1) }
		}},
		{"rlock acquire", func() (func(context.Context) error, func()) {
			l := NewRLock()
			l.Acquire(ctx, 1, -1)
			return func(ctx context.Context) error { _, err := l.Acquire(ctx, 2, -1); return err },
				func() { l.Release(1) }
		}},
		{"semaphore acquire", func() (func(context.Context) error, func()) {
			s, _ := NewSemaphore(0)
			return func(ctx context.Context) error { _, err := s.Acquire(ctx, 2, -1); return err },
				func() { s.Release(1) }
		}},
		{"barrier wait", func() (func(context.Context) error, func()) {
			b := mustBarrier()
			return func(ctx context.Context) error { _, _, err := b.Wait(ctx, 2, -1); return err },
				func() { b.Wait(ctx, 1, -1) }
		}},
		{"event wait", func() (func(context.Context) error, func()) {
			e := NewEvent()
			return func(ctx context.Context) error { _, err := e.Wait(ctx, 2, -1); return err },
				func() { e.Set() }
		}},
		{"condition wait", func() (func(context.Context) error, func()) {
			l := NewLock()
			c := NewCondition(l)
			c.Acquire(ctx, 2, -1)
			return func(ctx context.Context) error { _, err := c.Wait(ctx, 2, -1); return err },
				func() { c.Acquire(ctx, 1, -1); c.Notify(1, 1); c.Release(1) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := newProcTable()
			wait, release := tt.setup()
			res := async(func() error { return wait(pt.ctx(ctx, 2)) })
			eventually(t, "asleep", func() bool { s, _ := pt.counts(2); return s == 1 })
			pending(t, tt.name, res)
			if _, w := pt.counts(2); w != 0 {
				t.Fatalf("woke %d times while still blocked", w)
			}
			release()
			if err := await(t, tt.name, res); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			s, w := pt.counts(2)
			if tt.name == "condition wait" {
				// Woken by the notify, it may sleep again on the lock
				// until the notifier releases it.
				if s < 1 || s > 2 || w != s {
					t.Errorf("slept %d and woke %d times, want 1 or 2 of each", s, w)
				}
			} else if s != 1 || w != 1 {
				t.Errorf("slept %d and woke %d times, want 1 and 1", s, w)
			}
		})
	}
}

// TestCallerNoSleep: a call that finds what it wants, or does not block,
// reports no sleep.
func TestCallerNoSleep(t *testing.T) {
	ctx := t.Context()
	pt := newProcTable()
	q := NewQueue(0, false, 1)
	q.Put(ctx, 1, []byte("x"), -1)
	if _, err := q.Get(pt.ctx(ctx, 2), 2, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(pt.ctx(ctx, 2), 2, 0); err == nil {
		t.Fatal("get from an empty queue with timeout 0 succeeded")
	}
	if s, w := pt.counts(2); s != 0 || w != 0 {
		t.Errorf("slept %d and woke %d times, want none", s, w)
	}
}

// TestCallerSleepsOnceWhileRechecking: a waiter woken by a change that
// does not satisfy it goes back to sleep without a second report.
func TestCallerSleepsOnceWhileRechecking(t *testing.T) {
	ctx := t.Context()
	pt := newProcTable()
	q := NewQueue(0, false, 1)
	a := async(func() error { _, err := q.Get(pt.ctx(ctx, 2), 2, -1); return err })
	b := async(func() error { _, err := q.Get(pt.ctx(ctx, 3), 3, -1); return err })
	eventually(t, "both asleep", func() bool { s2, _ := pt.counts(2); s3, _ := pt.counts(3); return s2 == 1 && s3 == 1 })
	q.Put(ctx, 1, []byte("one"), -1) // wakes both; one of them takes it
	eventually(t, "one served", func() bool { _, w2 := pt.counts(2); _, w3 := pt.counts(3); return w2+w3 == 1 })
	q.Put(ctx, 1, []byte("two"), -1)
	await(t, "a", a)
	await(t, "b", b)
	for _, who := range []int32{2, 3} {
		if s, w := pt.counts(who); s != 1 || w != 1 {
			t.Errorf("process %d slept %d and woke %d times, want 1 and 1", who, s, w)
		}
	}
}

// TestCallerSleepsOn: each sleep names what it is on and for how long: a
// condition's wait sleeps on the condition with the caller's timeout, then
// on the lock, without one, while the notifier still holds it; a barrier
// sleeps with its default timeout when the call gives none.
func TestCallerSleepsOn(t *testing.T) {
	ctx := t.Context()
	pt := newProcTable()
	l := NewLock()
	c := NewCondition(l)
	c.Acquire(ctx, 2, -1)
	res := async(func() error { _, err := c.Wait(pt.ctx(ctx, 2), 2, time.Minute); return err })
	eventually(t, "asleep on the condition", func() bool { s, _ := pt.counts(2); return s == 1 })
	c.Acquire(ctx, 1, -1)
	c.Notify(1, 1)
	eventually(t, "asleep on the lock", func() bool { s, _ := pt.counts(2); return s == 2 })
	c.Release(1)
	if err := await(t, "wait", res); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(pt.sleptOn(2), ", "), "condition 1m0s, lock -1ns"; got != want {
		t.Errorf("slept on %q, want %q", got, want)
	}

	b, _ := NewBarrier(2, 5*time.Second, false)
	res = async(func() error { _, _, err := b.Wait(pt.ctx(ctx, 3), 3, -1); return err })
	eventually(t, "asleep at the barrier", func() bool { s, _ := pt.counts(3); return s == 1 })
	b.Wait(ctx, 4, -1)
	await(t, "barrier", res)
	if got, want := strings.Join(pt.sleptOn(3), ", "), "barrier 5s"; got != want {
		t.Errorf("slept on %q, want %q", got, want)
	}
}

// TestSeq: a message has the same number at both ends, per pipe direction
// and per queue, counted on across messages dropped and buffers compacted;
// a barrier's waiters share their generation's number.
func TestSeq(t *testing.T) {
	pt := newProcTable()
	const a, b = 1, 2
	ctxA, ctxB := pt.ctx(context.Background(), a), pt.ctx(context.Background(), b)
	check := func(who int32, want ...uint64) {
		t.Helper()
		if got := pt.seqsOf(who); !slices.Equal(got, want) {
			t.Errorf("process %d given %v, want %v", who, got, want)
		}
	}

	p := NewPipe(true, a)
	p.Inherit(a, b)
	for range 3 {
		if err := p.Send(ctxA, a, 1, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	p.Send(ctxB, b, 0, []byte("y")) // the other direction counts apart
	check(a, 1, 2, 3)
	check(b, 1)
	for range 3 {
		if _, _, err := p.Recv(ctxB, b, 0, 0, -1); err != nil {
			t.Fatal(err)
		}
	}
	check(b, 1, 2, 3)
	p.Recv(ctxA, a, 1, 0, -1)
	check(a, 1)

	q := NewQueue(0, false, a)
	q.Inherit(a, b)
	for range 100 { // past a compaction of the buffer
		q.Put(ctxA, a, []byte("m"), 0)
		q.Get(ctxB, b, 0)
	}
	if got := pt.seqsOf(b); len(got) != 100 || got[99] != 100 {
		t.Errorf("gets numbered %v, want 1..100", got)
	}
	pt.seqsOf(a)

	bar, _ := NewBarrier(2, -1, false)
	for round := 1; round <= 2; round++ {
		done := make(chan error)
		go func() { _, _, err := bar.Wait(ctxB, b, time.Minute); done <- err }()
		if _, _, err := bar.Wait(ctxA, a, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		check(a, uint64(round))
		check(b, uint64(round))
	}
}
