package ipc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

type waitResult = res3[int, bool, error]

// startWait starts who's Wait and returns once it is counted as waiting.
func startWait(t *testing.T, ctx context.Context, b *Barrier, who int32, timeout time.Duration) <-chan waitResult {
	t.Helper()
	before := b.NWaiting()
	ch := async(func() waitResult {
		i, run, err := b.Wait(ctx, who, timeout)
		return waitResult{i, run, err}
	})
	eventually(t, fmt.Sprintf("%d waiting", before+1), func() bool { return b.NWaiting() == before+1 })
	return ch
}

func newBarrier(t *testing.T, parties int, timeout time.Duration, action bool) *Barrier {
	t.Helper()
	b, err := NewBarrier(parties, timeout, action)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Indexes follow arrival order, first 0 and last parties-1, as CPython's
// threading.Barrier, in every generation.
func TestBarrierIndexes(t *testing.T) {
	ctx := t.Context()
	b := newBarrier(t, 3, -1, false)
	for gen := range 3 {
		first := startWait(t, ctx, b, 1, -1)
		second := startWait(t, ctx, b, 2, -1)
		i, run, err := b.Wait(ctx, 3, -1)
		if i != 2 || run || err != nil {
			t.Fatalf("generation %d: last arriver got %d, %v, %v; want 2", gen, i, run, err)
		}
		for want, ch := range []<-chan waitResult{first, second} {
			if r := await(t, "wait", ch); r.a != want || r.b || r.c != nil {
				t.Errorf("generation %d: arriver %d got %v, want index %d", gen, want, r, want)
			}
		}
		if b.NWaiting() != 0 || b.Broken() {
			t.Errorf("after trip: n_waiting %d broken %v", b.NWaiting(), b.Broken())
		}
	}
	if b.Parties() != 3 {
		t.Errorf("parties = %d", b.Parties())
	}
}

func TestBarrierTimeoutBreaksEveryone(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		name           string
		defaultTimeout time.Duration
		callTimeout    time.Duration
	}{
		{"call timeout", -1, short},
		{"barrier default", short, -1},
		{"zero timeout", -1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBarrier(t, 3, tt.defaultTimeout, false)
			other := startWait(t, ctx, b, 1, long)
			if _, _, err := b.Wait(ctx, 2, tt.callTimeout); !errors.Is(err, ErrBroken) {
				t.Errorf("timed-out waiter got %v, want ErrBroken", err)
			}
			if r := await(t, "other waiter", other); !errors.Is(r.c, ErrBroken) {
				t.Errorf("other waiter got %v, want ErrBroken", r.c)
			}
			if !b.Broken() || b.NWaiting() != 0 {
				t.Errorf("broken=%v n_waiting=%d; want true, 0", b.Broken(), b.NWaiting())
			}
			if _, _, err := b.Wait(ctx, 3, -1); !errors.Is(err, ErrBroken) {
				t.Errorf("wait on broken barrier = %v, want ErrBroken", err)
			}
			b.Reset()
			if b.Broken() {
				t.Fatal("still broken after reset")
			}
			w1 := startWait(t, ctx, b, 1, -1)
			w2 := startWait(t, ctx, b, 2, -1)
			if i, _, err := b.Wait(ctx, 3, -1); i != 2 || err != nil {
				t.Errorf("after reset: %d, %v", i, err)
			}
			await(t, "w1", w1)
			await(t, "w2", w2)
		})
	}
}

func TestBarrierAction(t *testing.T) {
	ctx := t.Context()
	for _, ok := range []bool{true, false} {
		t.Run(fmt.Sprintf("ok=%v", ok), func(t *testing.T) {
			b := newBarrier(t, 2, -1, true)
			// Its timeout must not break a complete generation. (It is
			// long enough for this goroutine to arrive first on a loaded
			// machine: with 20 ms, a stall broke the barrier.)
			const timeout = 200 * time.Millisecond
			first := startWait(t, ctx, b, 1, timeout)
			i, run, err := b.Wait(ctx, 2, -1)
			if i != 1 || !run || err != nil {
				t.Fatalf("last arriver got %d, %v, %v; want 1, runAction", i, run, err)
			}
			// A new arrival waits for the action's generation to finish.
			next := async(func() waitResult { i, r, err := b.Wait(ctx, 3, -1); return waitResult{i, r, err} })
			eventually(t, "two asleep", func() bool { return b.m.sleepers() == 2 })
			// Not synchronisation: give the first waiter's timeout a chance to
			// expire during the action, which must have no effect. The
			// assertions hold whether or not it expired.
			time.Sleep(2 * timeout)
			pending(t, "waiter during the action", first)
			if err := b.ActionDone(1, true); !errors.Is(err, ErrNotOwner) {
				t.Errorf("ActionDone by a non-runner = %v, want ErrNotOwner", err)
			}
			if err := b.ActionDone(2, ok); err != nil {
				t.Fatalf("ActionDone: %v", err)
			}
			r := await(t, "first waiter", first)
			if ok && (r.a != 0 || r.b || r.c != nil) {
				t.Errorf("first waiter got %v, want index 0", r)
			}
			if !ok && !errors.Is(r.c, ErrBroken) {
				t.Errorf("first waiter got %v, want ErrBroken", r)
			}
			if ok {
				// The newcomer opened the next generation.
				eventually(t, "newcomer waiting", func() bool { return b.NWaiting() == 1 })
				b.Abort()
			}
			if r := await(t, "newcomer", next); !errors.Is(r.c, ErrBroken) {
				t.Errorf("newcomer got %v, want ErrBroken", r)
			}
		})
	}
}

func TestBarrierAbortAndResetWakeWaiters(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		name    string
		do      func(b *Barrier)
		usable  bool
		actions bool
	}{
		{"abort", (*Barrier).Abort, false, false},
		{"reset", (*Barrier).Reset, true, false},
		{"abort during action", (*Barrier).Abort, false, true},
		{"reset during action", (*Barrier).Reset, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBarrier(t, 3, -1, tt.actions)
			w1 := startWait(t, ctx, b, 1, -1)
			var w2 <-chan waitResult
			if tt.actions {
				w2 = startWait(t, ctx, b, 2, -1)
				if _, run, err := b.Wait(ctx, 3, -1); !run || err != nil {
					t.Fatalf("last arriver: %v, %v", run, err)
				}
			}
			tt.do(b)
			if r := await(t, "waiter", w1); !errors.Is(r.c, ErrBroken) {
				t.Errorf("waiter got %v, want ErrBroken", r)
			}
			if tt.actions {
				if r := await(t, "waiter 2", w2); !errors.Is(r.c, ErrBroken) {
					t.Errorf("waiter 2 got %v, want ErrBroken", r)
				}
				if err := b.ActionDone(3, true); !errors.Is(err, ErrBroken) {
					t.Errorf("ActionDone after %s = %v, want ErrBroken", tt.name, err)
				}
			}
			if b.Broken() == tt.usable {
				t.Errorf("broken = %v after %s", b.Broken(), tt.name)
			}
		})
	}
}

func TestBarrierProcessExited(t *testing.T) {
	ctx := t.Context()
	t.Run("waiter dies", func(t *testing.T) {
		b := newBarrier(t, 3, -1, false)
		w1 := startWait(t, ctx, b, 1, -1)
		dead, cancel := context.WithCancel(ctx)
		w2 := startWait(t, dead, b, 2, -1)
		b.ProcessExited(2)
		cancel()
		if r := await(t, "survivor", w1); !errors.Is(r.c, ErrBroken) {
			t.Errorf("survivor got %v, want ErrBroken", r)
		}
		if r := await(t, "dead", w2); r.c == nil {
			t.Errorf("dead waiter got %v, want an error", r)
		}
		pt := newProcTable()
		pt.end(2)
		if _, _, err := b.Wait(pt.ctx(ctx, 2), 2, -1); !errors.Is(err, ErrExited) {
			t.Errorf("wait by dead process = %v, want ErrExited", err)
		}
	})
	t.Run("cancel then exit", func(t *testing.T) {
		b := newBarrier(t, 3, -1, false)
		w1 := startWait(t, ctx, b, 1, -1)
		dead, cancel := context.WithCancel(ctx)
		w2 := startWait(t, dead, b, 2, -1)
		cancel()
		if r := await(t, "cancelled", w2); !errors.Is(r.c, context.Canceled) {
			t.Fatalf("cancelled waiter got %v", r)
		}
		if b.Broken() || b.NWaiting() != 1 {
			t.Fatalf("after cancel: broken %v, n_waiting %d; want false, 1", b.Broken(), b.NWaiting())
		}
		b.ProcessExited(2)
		if r := await(t, "survivor", w1); !errors.Is(r.c, ErrBroken) {
			t.Errorf("survivor got %v, want ErrBroken", r)
		}
	})
	t.Run("action runner dies", func(t *testing.T) {
		b := newBarrier(t, 2, -1, true)
		w1 := startWait(t, ctx, b, 1, -1)
		if _, run, _ := b.Wait(ctx, 2, -1); !run {
			t.Fatal("no action for the last arriver")
		}
		b.ProcessExited(2)
		if r := await(t, "waiter", w1); !errors.Is(r.c, ErrBroken) {
			t.Errorf("waiter got %v, want ErrBroken", r)
		}
	})
	t.Run("non-waiter dies", func(t *testing.T) {
		b := newBarrier(t, 2, -1, false)
		w1 := startWait(t, ctx, b, 1, -1)
		b.ProcessExited(7)
		if b.Broken() {
			t.Error("broken by the death of a process that was not waiting")
		}
		if _, _, err := b.Wait(ctx, 2, -1); err != nil {
			t.Fatal(err)
		}
		await(t, "waiter", w1)
	})
}

// A cancelled waiter gives its slot and index back; indexes stay distinct.
func TestBarrierCancelledWaiterFreesSlot(t *testing.T) {
	ctx := t.Context()
	b := newBarrier(t, 3, -1, false)
	gone, cancel := context.WithCancel(ctx)
	w0 := startWait(t, gone, b, 1, -1) // index 0, then cancelled
	w1 := startWait(t, ctx, b, 2, -1)  // index 1
	cancel()
	if r := await(t, "cancelled", w0); !errors.Is(r.c, context.Canceled) {
		t.Fatalf("cancelled waiter got %v", r)
	}
	eventually(t, "one left", func() bool { return b.NWaiting() == 1 })
	w2 := startWait(t, ctx, b, 3, -1) // takes the free index 0
	i, _, err := b.Wait(ctx, 4, -1)
	if err != nil {
		t.Fatal(err)
	}
	got := []int{await(t, "w1", w1).a, await(t, "w2", w2).a, i}
	if !slices.Equal(got, []int{1, 0, 2}) {
		t.Errorf("indexes = %v, want [1 0 2]", got)
	}
}

func TestNewBarrierRejectsNoParties(t *testing.T) {
	if _, err := NewBarrier(0, -1, false); !errors.Is(err, ErrValue) {
		t.Errorf("NewBarrier(0) = %v, want ErrValue", err)
	}
}

// TestBarrierHugePartiesCostsNothing: a guest may ask for 2^31-1 parties;
// the host's memory must not grow with that number (resets included).
func TestBarrierHugePartiesCostsNothing(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var keep []*Barrier
	for i := 0; i < 20; i++ {
		b, err := NewBarrier(math.MaxInt32, -1, false)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 5; j++ {
			b.Reset()
		}
		keep = append(keep, b)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("20 barriers of 2^31-1 parties allocated %d bytes", grew)
	}
	if keep[0].Parties() != math.MaxInt32 {
		t.Fatal("parties lost")
	}
}
