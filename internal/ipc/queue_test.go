package ipc

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

func TestQueueFIFOAndSize(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(2, false, 1)
	if !q.Empty() || q.Full() || q.Qsize() != 0 || q.Maxsize() != 2 || q.Kind() != "queue" {
		t.Fatalf("new queue: empty=%v full=%v qsize=%d", q.Empty(), q.Full(), q.Qsize())
	}
	msg := []byte("a")
	for _, m := range []string{"a", "b"} {
		copy(msg, m)
		if err := q.Put(ctx, 1, msg, 0); err != nil {
			t.Fatalf("put %s: %v", m, err)
		}
	}
	msg[0] = 'z' // the queue keeps its own copy
	if !q.Full() || q.Qsize() != 2 {
		t.Errorf("after two puts: full=%v qsize=%d; want true, 2", q.Full(), q.Qsize())
	}
	for _, want := range []string{"a", "b"} {
		got, err := q.Get(ctx, 2, 0)
		if err != nil || string(got) != want {
			t.Errorf("get = %q, %v; want %q", got, err, want)
		}
	}
}

func TestQueueErrors(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		q    *Queue
		do   func(q *Queue) error
		want error
	}{
		{"put when full", NewQueue(1, false, 1), func(q *Queue) error {
			_ = q.Put(ctx, 1, nil, 0)
			return q.Put(ctx, 1, nil, 0)
		}, ErrFull},
		{"put when full after timeout", NewQueue(1, false, 1), func(q *Queue) error {
			_ = q.Put(ctx, 1, nil, 0)
			return q.Put(ctx, 1, nil, short)
		}, ErrFull},
		{"get when empty", NewQueue(0, false, 1), func(q *Queue) error { _, err := q.Get(ctx, 1, 0); return err }, ErrEmpty},
		{"get when empty after timeout", NewQueue(0, false, 1), func(q *Queue) error { _, err := q.Get(ctx, 1, short); return err }, ErrEmpty},
		{"put after close", NewQueue(0, false, 1), func(q *Queue) error { q.Close(1); return q.Put(ctx, 1, nil, 0) }, ErrClosed},
		{"get after close", NewQueue(0, false, 1), func(q *Queue) error { q.Close(1); _, err := q.Get(ctx, 1, 0); return err }, ErrClosed},
		{"close twice is fine", NewQueue(0, false, 1), func(q *Queue) error { q.Close(1); q.Close(1); return nil }, nil},
		{"close is per process", NewQueue(0, false, 1), func(q *Queue) error { q.Close(1); return q.Put(ctx, 2, nil, 0) }, nil},
		{"forked child starts open", NewQueue(0, false, 1), func(q *Queue) error { q.Close(1); q.Inherit(1, 2); return q.Put(ctx, 2, nil, 0) }, nil},
		{"exited process", NewQueue(0, false, 1), func(q *Queue) error {
			pt := newProcTable()
			pt.end(1)
			q.ProcessExited(1)
			return q.Put(pt.ctx(ctx, 1), 1, nil, 0)
		}, ErrExited},
		{"task_done on plain queue", NewQueue(0, false, 1), func(q *Queue) error { return q.TaskDone(1) }, ErrValue},
		{"task_done too many times", NewQueue(0, true, 1), func(q *Queue) error {
			_ = q.Put(ctx, 1, nil, 0)
			_ = q.TaskDone(1)
			return q.TaskDone(1)
		}, ErrValue},
		{"join times out", NewQueue(0, true, 1), func(q *Queue) error {
			_ = q.Put(ctx, 1, nil, 0)
			return q.Join(ctx, 1, short)
		}, ErrTimeout},
		{"join with nothing unfinished", NewQueue(0, true, 1), func(q *Queue) error { return q.Join(ctx, 1, 0) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(tt.q); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestQueuePutBlocksUntilGet(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(1, false, 1)
	if err := q.Put(ctx, 1, []byte("first"), -1); err != nil {
		t.Fatal(err)
	}
	put := async(func() error { return q.Put(ctx, 2, []byte("second"), -1) })
	eventually(t, "blocked in put", func() bool { return q.m.sleepers() == 1 })
	pending(t, "put on a full queue", put)
	if got, err := q.Get(ctx, 3, -1); err != nil || string(got) != "first" {
		t.Fatalf("get = %q, %v; want first", got, err)
	}
	if err := await(t, "put", put); err != nil {
		t.Fatalf("put after get: %v", err)
	}
	if got, err := q.Get(ctx, 3, -1); err != nil || string(got) != "second" {
		t.Errorf("get = %q, %v; want second", got, err)
	}
}

// Cancelled calls leave no trace: no message taken, none added.
func TestQueueCancel(t *testing.T) {
	q := NewQueue(1, false, 1)
	ctx, cancel := context.WithCancel(t.Context())
	get := async(func() error { _, err := q.Get(ctx, 2, -1); return err })
	eventually(t, "blocked in get", func() bool { return q.m.sleepers() == 1 })
	cancel()
	if err := await(t, "get", get); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled get = %v, want context.Canceled", err)
	}
	if err := q.Put(t.Context(), 1, []byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(ctx, 1, []byte("lost"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("put with cancelled ctx = %v, want context.Canceled", err)
	}
	if got, err := q.Get(t.Context(), 1, 0); err != nil || string(got) != "kept" || q.Qsize() != 0 {
		t.Errorf("get = %q, %v, qsize %d; want kept, 0", got, err, q.Qsize())
	}
}

func TestQueueGetLimit(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(0, false, 1)
	for _, m := range []string{"long message", "x"} {
		if err := q.Put(ctx, 1, []byte(m), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, size, err := q.GetLimit(ctx, 1, 0, 4); !errors.Is(err, ErrTooSmall) || size != 12 {
		t.Fatalf("get with limit 4 = size %d, %v; want 12, ErrTooSmall", size, err)
	}
	if got, size, err := q.GetLimit(ctx, 1, 0, 12); err != nil || string(got) != "long message" || size != 12 {
		t.Errorf("retry = %q, %d, %v; want the long message first", got, size, err)
	}
}

func TestQueueJoin(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(0, true, 1)
	if q.Kind() != "joinable_queue" {
		t.Errorf("kind = %q", q.Kind())
	}
	for range 2 {
		if err := q.Put(ctx, 1, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	join := async(func() error { return q.Join(ctx, 1, -1) })
	eventually(t, "blocked in join", func() bool { return q.m.sleepers() == 1 })
	for i := range 2 {
		if _, err := q.Get(ctx, 2, 0); err != nil {
			t.Fatal(err)
		}
		pending(t, "join with unfinished tasks", join)
		if err := q.TaskDone(2); err != nil {
			t.Fatalf("task_done %d: %v", i, err)
		}
	}
	if err := await(t, "join", join); err != nil || q.Unfinished() != 0 {
		t.Errorf("join = %v, unfinished %d; want nil, 0", err, q.Unfinished())
	}
}

// TestSharedQueue: a shared queue's counts are its words, which the
// runners change as they put and get (here, by hand, as lockword does):
// qsize, full and unfinished read them; task_done takes from the
// unfinished word and wakes a join when it reaches zero; Put and Get are
// refused (the runners serve them), close still is the host's; a process's
// end wakes the runners sleeping for room; Unshare keeps the counts.
func TestSharedQueue(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(3, true, 1)
	var free, unfin atomic.Uint32
	wakes := 0
	q.Share(&free, &unfin, func() { wakes++ })
	if lockword.Value(free.Load()) != 3 || q.Qsize() != 0 || q.Full() || !q.Shared() || !q.HasRoom() {
		t.Fatalf("shared: free=%d qsize=%d full=%v", lockword.Value(free.Load()), q.Qsize(), q.Full())
	}
	// Three puts, as a runner makes them: room taken, a task counted.
	for range 3 {
		if ok, _ := lockword.TryAcquire(&free, lockword.Count, 0, 0); !ok {
			t.Fatal("no room for a put")
		}
		lockword.Release(&unfin, lockword.Count, lockword.MaxValue)
	}
	if q.Qsize() != 3 || !q.Full() || q.HasRoom() || q.Unfinished() != 3 {
		t.Errorf("after 3 puts: qsize=%d full=%v room=%v unfinished=%d", q.Qsize(), q.Full(), q.HasRoom(), q.Unfinished())
	}
	if err := q.Put(ctx, 1, []byte("x"), 0); !errors.Is(err, ErrValue) {
		t.Errorf("Put on a shared queue = %v, want ErrValue", err)
	}
	if _, err := q.Get(ctx, 1, 0); !errors.Is(err, ErrValue) {
		t.Errorf("Get on a shared queue = %v, want ErrValue", err)
	}
	q.Close(2)
	if err := q.Check(ctx, 2); !errors.Is(err, ErrClosed) {
		t.Errorf("Check after close = %v, want ErrClosed", err)
	}
	done := make(chan error, 1)
	go func() { done <- q.Join(ctx, 1, -1) }()
	for i := range 3 {
		// While a task is unfinished, a join waits: one bounded by 20 ms
		// times out (and the unbounded one has not returned).
		if err := q.Join(ctx, 1, 20*time.Millisecond); !errors.Is(err, ErrTimeout) {
			t.Fatalf("join with %d tasks unfinished = %v, want ErrTimeout", 3-i, err)
		}
		select {
		case err := <-done:
			t.Fatalf("join returned %v with tasks unfinished", err)
		default:
		}
		if err := q.TaskDone(1); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("join after the last task_done: %v", err)
	}
	if err := q.TaskDone(1); !errors.Is(err, ErrValue) {
		t.Errorf("task_done too often = %v, want ErrValue", err)
	}
	q.ProcessExited(2)
	if wakes != 1 {
		t.Errorf("a process's end woke the runners %d times, want 1", wakes)
	}
	q.Unshare()
	free.Store(lockword.Make(3)) // the memory is no longer the queue's
	if q.Qsize() != 3 {
		t.Errorf("after Unshare: qsize=%d, want the 3 it had", q.Qsize())
	}
}
