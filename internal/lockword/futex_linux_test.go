package lockword

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTryAcquireMarked(t *testing.T) {
	w := word(0, HostWaits)
	if ok, _ := TryAcquireMarked(w, Holder, 7, RunnersWait, RunnersWait); !ok || w.Load() != Make(7)|HostWaits|RunnersWait {
		t.Errorf("a free lock taken marked: %v, word %#x", ok, w.Load())
	}
	if ok, seen := TryAcquireMarked(w, Holder, 8, RunnersWait, RunnersWait); ok || seen != Make(7)|HostWaits|RunnersWait {
		t.Errorf("a held lock: %v, %#x", ok, seen)
	}
}

// TestTake: goroutines take a word with real futex sleeps, hold it long
// enough for the others to sleep on it, and release it as a runner does
// (WakeTakers when RunnersWait was set). No take may wait for a wake-up
// that never comes: with maxSleep raised to 30 s, a lost one shows as a
// take of 30 s, while every take here lasts at most the others' holds
// while it loses the race for the word (up to about 0.2 s measured, under
// -race). The bound: 10 s.
func TestTake(t *testing.T) {
	defer func(d time.Duration) { maxSleep = d }(maxSleep)
	maxSleep = 30 * time.Second
	for _, tt := range []struct {
		name  string
		kind  Kind
		start uint32 // the count (0: a free Holder)
		limit int32  // most inside at once
	}{{"lock", Holder, 0, 1}, {"semaphore", Count, 2, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			w := word(tt.start, 0)
			var inside, most atomic.Int32
			var longest atomic.Int64
			var wg sync.WaitGroup
			for g := uint32(1); g <= 5; g++ {
				wg.Go(func() {
					who := g
					if tt.kind == Count {
						who = 0
					}
					for range 100 {
						began := time.Now()
						if !Take(w, tt.kind, who, -1) {
							t.Error("Take without bound returned false")
							return
						}
						storeMax(&longest, int64(time.Since(began)))
						storeMax(&most, inside.Add(1))
						time.Sleep(50 * time.Microsecond) // the others come to sleep
						inside.Add(-1)
						sleepers, ok := Release(w, tt.kind, tt.start)
						if !ok {
							t.Error("release refused")
							return
						}
						if sleepers&RunnersWait != 0 {
							WakeTakers(w, tt.kind)
						}
					}
				})
			}
			wg.Wait()
			if most.Load() > tt.limit || w.Load() != Make(tt.start) {
				t.Errorf("at most %d inside at once (limit %d), word %#x after", most.Load(), tt.limit, w.Load())
			}
			if d := time.Duration(longest.Load()); d > 10*time.Second {
				t.Errorf("a take waited %v: a wake-up was lost", d)
			}
		})
	}
}

// TestTakeTimeout: a take of a held word gives up after its time, leaving
// RunnersWait set (it may have taken a wake-up meant for another); its
// deadline counts from its first sleep (after a spin of spinFor at most
// with more than one CPU).
func TestTakeTimeout(t *testing.T) {
	defer func(was bool) { multiCPU = was }(multiCPU)
	for _, multi := range []bool{true, false} {
		multiCPU = multi
		w := word(3, 0)
		began := time.Now()
		if Take(w, Holder, 7, 20*time.Millisecond) {
			t.Fatalf("multiCPU %v: took a held lock", multi)
		}
		if d := time.Since(began); d < 20*time.Millisecond || d > 20*time.Millisecond+maxSleep/2 {
			t.Errorf("multiCPU %v: gave up after %v, want 20ms (margin 500ms)", multi, d)
		}
		if w.Load() != Make(3)|RunnersWait {
			t.Errorf("multiCPU %v: word %#x, want held with RunnersWait", multi, w.Load())
		}
		if Take(w, Holder, 7, 0) || w.Load() != Make(3)|RunnersWait {
			t.Errorf("multiCPU %v: a try (d 0) changed the word: %#x", multi, w.Load())
		}
	}
}
