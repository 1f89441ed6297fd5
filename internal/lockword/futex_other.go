//go:build !linux

// Words are shared on Linux only: elsewhere every lock is the host's, and
// nobody sleeps on a word, so these do not sleep or wake.

package lockword

import (
	"sync/atomic"
	"time"
)

// Take only tries.
func Take(w *atomic.Uint32, k Kind, who uint32, _ time.Duration) bool {
	ok, _ := TryAcquire(w, k, who, 0)
	return ok
}

// WakeTakers does nothing.
func WakeTakers(*atomic.Uint32, Kind) {}

// WakeAll does nothing.
func WakeAll(*atomic.Uint32) {}
