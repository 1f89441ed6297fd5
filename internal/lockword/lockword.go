// Package lockword is the state of a lock or a semaphore as one 32-bit
// word that several processes change at once: the host and the runners
// of a run map the same memory (host/directlock.go says why), and every
// acquire and release, wherever it is served, is an atomic change of the
// word made by the functions here. Both sides use this package, so the
// layout has one description.
//
// A word holds, above two flag bits, either a holder (the handle of the
// process that holds a Lock or owns an RLock; 0: free) or a count (a
// semaphore's value). The flags say who sleeps on the word, so that a
// release wakes them and only them:
//
//   - RunnersWait: a runner sleeps on the word (futex, Take). A runner's
//     release of a Holder wakes one sleeper (WakeTakers), which, as it may
//     not be the only one, takes the word with the flag set, or sets it
//     again before it sleeps, so that the next release wakes the next; a
//     Count's release wakes every sleeper, as the host's wake-ups and a
//     process's end do, and those that do not get the word set the flag
//     again;
//   - HostWaits: a call the host serves sleeps (on its object's monitor):
//     a runner's release tells the host, which wakes its sleepers.
//
// A release clears both flags; an acquire keeps them (and a runner that
// has slept on the word adds RunnersWait: see Take).
package lockword

import "sync/atomic"

// The flags.
const (
	RunnersWait uint32 = 1 << 0
	HostWaits   uint32 = 1 << 1
	flags              = RunnersWait | HostWaits
	shift              = 2
)

// MaxValue is the largest holder handle or semaphore value a word holds.
const MaxValue = 1<<(32-shift) - 1

// Kind says what the bits above the flags are.
type Kind uint8

const (
	// Holder: a process handle, 0 when free (Lock, RLock).
	Holder Kind = iota
	// Count: a semaphore's value; acquire takes one, release gives one.
	Count
)

// Value returns the holder or the count in w.
func Value(w uint32) uint32 { return w >> shift }

// Taken returns how much of a Count whose full value is max word w has
// given out: a queue's messages put and not yet got, when w is its room.
func Taken(w uint32, max uint32) uint32 { return max - min(Value(w), max) }

// Make returns a word holding v with no flags.
func Make(v uint32) uint32 { return v << shift }

// Available reports whether an acquire would succeed now: a free lock, a
// positive count.
func Available(k Kind, w uint32) bool {
	if k == Holder {
		return Value(w) == 0
	}
	return Value(w) > 0
}

// TryAcquire takes the word for who (a Holder) or one of its count. When
// it cannot, and waiting is a flag, it sets that flag and returns the
// word it left: the value to sleep on (a change wakes the sleeper).
func TryAcquire(w *atomic.Uint32, k Kind, who uint32, waiting uint32) (ok bool, sleepOn uint32) {
	return TryAcquireMarked(w, k, who, waiting, 0)
}

// TryAcquireMarked is TryAcquire that sets the flags mark as it takes the
// word: a runner woken alone (see RunnersWait) takes it with RunnersWait,
// so that its release wakes whoever still sleeps.
func TryAcquireMarked(w *atomic.Uint32, k Kind, who, waiting, mark uint32) (ok bool, sleepOn uint32) {
	for {
		v := w.Load()
		n := Value(v)
		if Available(k, v) {
			next := who
			if k == Count {
				next = n - 1
			}
			if w.CompareAndSwap(v, Make(next)|v&flags|mark) {
				return true, 0
			}
			continue
		}
		if waiting == 0 || v&waiting != 0 {
			return false, v
		}
		if w.CompareAndSwap(v, v|waiting) {
			return false, v | waiting
		}
	}
}

// Release frees a Holder word, or adds one to a Count below maxValue. It
// returns the flags that were set, whose sleepers the caller wakes; ok is
// false when there was nothing to release (a free lock) or the count is
// at maxValue.
func Release(w *atomic.Uint32, k Kind, maxValue uint32) (sleepers uint32, ok bool) {
	for {
		v := w.Load()
		var next uint32
		switch n := Value(v); {
		case k == Holder && n == 0, k == Count && n >= maxValue:
			return 0, false
		case k == Count:
			next = Make(n + 1)
		}
		if w.CompareAndSwap(v, next) {
			return v & flags, true
		}
	}
}

// ReleaseHeld frees a Holder word if who holds it, as Release.
func ReleaseHeld(w *atomic.Uint32, who uint32) (sleepers uint32, ok bool) {
	for {
		v := w.Load()
		if Value(v) != who || who == 0 {
			return 0, false
		}
		if w.CompareAndSwap(v, 0) {
			return v & flags, true
		}
	}
}
