package lockword

import (
	"sync"
	"sync/atomic"
	"testing"
)

func word(v uint32, flags uint32) *atomic.Uint32 {
	w := new(atomic.Uint32)
	w.Store(Make(v) | flags)
	return w
}

func TestTryAcquire(t *testing.T) {
	tests := []struct {
		name     string
		kind     Kind
		value    uint32 // holder or count before
		flags    uint32
		who      uint32
		waiting  uint32
		ok       bool
		after    uint32 // the word after
		wantSeen uint32 // the word to sleep on, when not ok
	}{
		{"free lock", Holder, 0, 0, 7, RunnersWait, true, Make(7), 0},
		{"free lock keeps the flags", Holder, 0, HostWaits, 7, 0, true, Make(7) | HostWaits, 0},
		{"held lock, no wait", Holder, 3, 0, 7, 0, false, Make(3), Make(3)},
		{"held lock, a runner waits", Holder, 3, 0, 7, RunnersWait, false, Make(3) | RunnersWait, Make(3) | RunnersWait},
		{"held lock, the host waits too", Holder, 3, RunnersWait, 7, HostWaits, false, Make(3) | RunnersWait | HostWaits, Make(3) | RunnersWait | HostWaits},
		{"held by the caller: not recursive", Holder, 7, 0, 7, 0, false, Make(7), Make(7)},
		{"positive count", Count, 2, RunnersWait, 0, RunnersWait, true, Make(1) | RunnersWait, 0},
		{"zero count", Count, 0, 0, 0, RunnersWait, false, RunnersWait, RunnersWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := word(tt.value, tt.flags)
			ok, seen := TryAcquire(w, tt.kind, tt.who, tt.waiting)
			if ok != tt.ok || w.Load() != tt.after || (!ok && seen != tt.wantSeen) {
				t.Errorf("TryAcquire = %v, %#x; word %#x; want %v, %#x; word %#x", ok, seen, w.Load(), tt.ok, tt.wantSeen, tt.after)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name     string
		kind     Kind
		value    uint32
		flags    uint32
		max      uint32
		ok       bool
		sleepers uint32
		after    uint32
	}{
		{"held lock", Holder, 3, 0, 0, true, 0, 0},
		{"held lock, sleepers told and flags cleared", Holder, 3, RunnersWait | HostWaits, 0, true, RunnersWait | HostWaits, 0},
		{"free lock: released too many times", Holder, 0, HostWaits, 0, false, 0, HostWaits},
		{"count below the bound", Count, 1, RunnersWait, 2, true, RunnersWait, Make(2)},
		{"count at the bound", Count, 2, 0, 2, false, 0, Make(2)},
		{"count at MaxValue", Count, MaxValue, 0, MaxValue, false, 0, Make(MaxValue)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := word(tt.value, tt.flags)
			sleepers, ok := Release(w, tt.kind, tt.max)
			if ok != tt.ok || sleepers != tt.sleepers || w.Load() != tt.after {
				t.Errorf("Release = %#x, %v; word %#x; want %#x, %v; word %#x", sleepers, ok, w.Load(), tt.sleepers, tt.ok, tt.after)
			}
		})
	}
}

func TestReleaseHeld(t *testing.T) {
	w := word(3, RunnersWait)
	if _, ok := ReleaseHeld(w, 4); ok || w.Load() != Make(3)|RunnersWait {
		t.Fatalf("released by a process that does not hold it: word %#x", w.Load())
	}
	if s, ok := ReleaseHeld(w, 3); !ok || s != RunnersWait || w.Load() != 0 {
		t.Fatalf("ReleaseHeld by the holder = %#x, %v; word %#x", s, ok, w.Load())
	}
	if _, ok := ReleaseHeld(w, 0); ok {
		t.Fatal("a free lock released for handle 0")
	}
}

// TestExclusion: goroutines taking a Holder word by turns never hold it
// two at once, and a Count word never lends more than its value.
func TestExclusion(t *testing.T) {
	for _, tt := range []struct {
		kind  Kind
		start uint32
		limit int32
	}{{Holder, 0, 1}, {Count, 3, 3}} {
		w := word(tt.start, 0)
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for g := uint32(1); g <= 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				who := g
				if tt.kind == Count {
					who = 0
				}
				for range 2000 {
					for ok := false; !ok; ok, _ = TryAcquire(w, tt.kind, who, 0) {
					}
					storeMax(&most, inside.Add(1))
					inside.Add(-1)
					if _, ok := Release(w, tt.kind, tt.start); !ok {
						t.Error("release refused")
						return
					}
				}
			}()
		}
		wg.Wait()
		if most.Load() > tt.limit || w.Load() != Make(tt.start) {
			t.Errorf("kind %d: at most %d inside at once (limit %d), word %#x after", tt.kind, most.Load(), tt.limit, w.Load())
		}
	}
}

func TestTaken(t *testing.T) {
	for _, tt := range []struct {
		w, max, want uint32
	}{
		{Make(3), 3, 0},
		{Make(1) | RunnersWait, 3, 2},
		{Make(0), 3, 3},
		{Make(5), 3, 0}, // (a word above max gives out nothing)
	} {
		if got := Taken(tt.w, tt.max); got != tt.want {
			t.Errorf("Taken(%#x, %d) = %d, want %d", tt.w, tt.max, got, tt.want)
		}
	}
}

// storeMax raises a to v if v is larger, whoever else raises it meanwhile
// (a load and a store would let a smaller value overwrite a larger one).
func storeMax[T int32 | int64, A interface {
	Load() T
	CompareAndSwap(old, new T) bool
}](a A, v T) {
	for old := a.Load(); v > old && !a.CompareAndSwap(old, v); old = a.Load() {
	}
}
