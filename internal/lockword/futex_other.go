//go:build !linux

package lockword

import (
	"sync/atomic"
	"time"
)

// Wait: words are shared on Linux only (elsewhere every lock is the
// host's, and nobody sleeps on a word).
func Wait(*atomic.Uint32, uint32, time.Duration) {}

// Take only tries (see Wait).
func Take(w *atomic.Uint32, k Kind, who uint32, _ time.Duration) bool {
	ok, _ := TryAcquire(w, k, who, 0)
	return ok
}

// WakeTakers: see Wait.
func WakeTakers(*atomic.Uint32, Kind) {}

// WakeAll: see Wait.
func WakeAll(*atomic.Uint32) {}
