package ipc

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLockAcquireRelease(t *testing.T) {
	ctx := t.Context()
	l := NewLock()
	if ok, err := l.Acquire(ctx, 1, -1); !ok || err != nil {
		t.Fatalf("acquire = %v, %v", ok, err)
	}
	if who, ok := l.Owner(); !l.Locked() || who != 1 || !ok {
		t.Errorf("owner = %d, %v; locked %v", who, ok, l.Locked())
	}
	for _, tt := range []struct {
		name    string
		who     int32
		timeout time.Duration
	}{
		{"other process, non-blocking", 2, 0},
		{"other process, timeout", 2, short},
		{"holder again (not recursive)", 1, short},
	} {
		if ok, err := l.Acquire(ctx, tt.who, tt.timeout); ok || err != nil {
			t.Errorf("%s: acquire = %v, %v; want false", tt.name, ok, err)
		}
	}
	// Any process may release a multiprocessing.Lock.
	if err := l.Release(2); err != nil {
		t.Errorf("release by another process: %v", err)
	}
	if err := l.Release(1); !errors.Is(err, ErrValue) {
		t.Errorf("release when unheld = %v, want ErrValue", err)
	}
}

func TestLockBlockedAcquirerGetsIt(t *testing.T) {
	ctx := t.Context()
	l := NewLock()
	l.Acquire(ctx, 1, -1)
	res := async(func() res2[bool, error] { ok, err := l.Acquire(ctx, 2, -1); return res2[bool, error]{ok, err} })
	eventually(t, "blocked in acquire", func() bool { return l.m.sleepers() == 1 })
	pending(t, "acquire of a held lock", res)
	if err := l.Release(1); err != nil {
		t.Fatal(err)
	}
	if r := await(t, "acquire", res); !r.a || r.b != nil {
		t.Fatalf("acquire = %v, %v", r.a, r.b)
	}
	if who, _ := l.Owner(); who != 2 {
		t.Errorf("owner = %d, want 2", who)
	}
}

// The documented outcome: a lock whose holder dies is released, the death
// is recorded, and the next acquirer simply gets it.
func TestLockHolderExits(t *testing.T) {
	ctx := t.Context()
	for _, l := range []Locker{NewLock(), NewRLock()} {
		t.Run(l.Kind(), func(t *testing.T) {
			abandoned := func() (int32, bool) {
				switch l := l.(type) {
				case *Lock:
					return l.Abandoned()
				case *RLock:
					return l.Abandoned()
				}
				panic("unknown lock")
			}
			l.Acquire(ctx, 1, -1)
			l.Acquire(ctx, 1, 0) // a second level for the RLock; fails for the Lock
			if _, ok := abandoned(); ok {
				t.Fatal("abandoned before any death")
			}
			res := async(func() res2[bool, error] { ok, err := l.Acquire(ctx, 2, -1); return res2[bool, error]{ok, err} })
			l.ProcessExited(3) // not the holder: nothing happens
			pending(t, "acquire", res)
			l.ProcessExited(1)
			if r := await(t, "acquire", res); !r.a || r.b != nil {
				t.Fatalf("acquire after holder died = %v, %v", r.a, r.b)
			}
			if by, ok := abandoned(); by != 1 || !ok {
				t.Errorf("abandoned = %d, %v; want 1, true", by, ok)
			}
			pt := newProcTable()
			pt.end(1)
			if ok, err := l.Acquire(pt.ctx(ctx, 1), 1, 0); ok || !errors.Is(err, ErrExited) {
				t.Errorf("acquire by the dead process = %v, %v; want ErrExited", ok, err)
			}
			l.ProcessExited(1) // idempotent
			if !l.HeldBy(2) {
				t.Error("second ProcessExited changed the owner")
			}
		})
	}
}

// A cancelled acquire never ends up holding the lock.
func TestLockCancelledAcquire(t *testing.T) {
	for _, l := range []Locker{NewLock(), NewRLock()} {
		t.Run(l.Kind(), func(t *testing.T) {
			l.Acquire(t.Context(), 1, -1)
			ctx, cancel := context.WithCancel(t.Context())
			res := async(func() res2[bool, error] { ok, err := l.Acquire(ctx, 2, -1); return res2[bool, error]{ok, err} })
			eventually(t, "blocked", func() bool { return sleepers(l) == 1 })
			cancel()
			if r := await(t, "acquire", res); r.a || !errors.Is(r.b, context.Canceled) {
				t.Fatalf("cancelled acquire = %v, %v", r.a, r.b)
			}
			if err := l.Release(1); err != nil {
				t.Fatal(err)
			}
			if l.HeldBy(2) {
				t.Error("cancelled acquirer holds the lock")
			}
			// With the lock free, a cancelled ctx still takes nothing.
			if ok, err := l.Acquire(ctx, 2, -1); ok || !errors.Is(err, context.Canceled) {
				t.Errorf("acquire with cancelled ctx = %v, %v", ok, err)
			}
		})
	}
}

func sleepers(l Locker) int {
	switch l := l.(type) {
	case *Lock:
		return l.m.sleepers()
	case *RLock:
		return l.m.sleepers()
	}
	panic("unknown lock")
}

func TestRLock(t *testing.T) {
	ctx := t.Context()
	r := NewRLock()
	for i := range 3 {
		if ok, err := r.Acquire(ctx, 1, 0); !ok || err != nil {
			t.Fatalf("acquire level %d = %v, %v", i+1, ok, err)
		}
	}
	if who, n, ok := r.Owner(); who != 1 || n != 3 || !ok {
		t.Errorf("owner = %d, %d, %v; want 1, 3", who, n, ok)
	}
	if ok, _ := r.Acquire(ctx, 2, short); ok {
		t.Error("another process acquired an owned RLock")
	}
	if err := r.Release(2); !errors.Is(err, ErrNotOwner) {
		t.Errorf("release by non-owner = %v, want ErrNotOwner", err)
	}
	for i := range 3 {
		if err := r.Release(1); err != nil {
			t.Fatalf("release %d: %v", i, err)
		}
	}
	if r.Locked() {
		t.Error("still locked after three releases")
	}
	if err := r.Release(1); !errors.Is(err, ErrNotOwner) {
		t.Errorf("release when unheld = %v, want ErrNotOwner", err)
	}
}

func TestSemaphore(t *testing.T) {
	ctx := t.Context()
	s, err := NewSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Acquire(ctx, 1, 0); !ok {
		t.Fatal("acquire at value 1 failed")
	}
	if ok, err := s.Acquire(ctx, 1, short); ok || err != nil {
		t.Errorf("acquire at 0 = %v, %v; want false", ok, err)
	}
	for range 5 { // an unbounded semaphore grows past its initial value
		if err := s.Release(2); err != nil {
			t.Fatal(err)
		}
	}
	if s.Value() != 5 || s.Kind() != "semaphore" || s.MaxValue() != SemValueMax {
		t.Errorf("value = %d, kind %q, max %d", s.Value(), s.Kind(), s.MaxValue())
	}

	s, _ = NewSemaphore(0)
	res := async(func() res2[bool, error] { ok, err := s.Acquire(ctx, 1, -1); return res2[bool, error]{ok, err} })
	eventually(t, "blocked", func() bool { return s.m.sleepers() == 1 })
	pending(t, "acquire at 0", res)
	if err := s.Release(2); err != nil {
		t.Fatal(err)
	}
	if r := await(t, "blocked acquire", res); !r.a || r.b != nil {
		t.Errorf("blocked acquire = %v, %v", r.a, r.b)
	}
}

func TestBoundedSemaphore(t *testing.T) {
	ctx := t.Context()
	s, err := NewBoundedSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(1); !errors.Is(err, ErrValue) {
		t.Errorf("release at the bound = %v, want ErrValue", err)
	}
	s.Acquire(ctx, 1, 0)
	if err := s.Release(1); err != nil || s.Value() != 2 {
		t.Errorf("release = %v, value %d", err, s.Value())
	}
	if s.Kind() != "bounded_semaphore" {
		t.Errorf("kind %q", s.Kind())
	}
	for _, v := range []int{-1, SemValueMax + 1} {
		if _, err := NewSemaphore(v); !errors.Is(err, ErrValue) {
			t.Errorf("NewSemaphore(%d) = %v, want ErrValue", v, err)
		}
	}
}
