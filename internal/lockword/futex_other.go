//go:build !linux

package lockword

import (
	"sync/atomic"
	"time"
)

// Wait: words are shared on Linux only (elsewhere every lock is the
// host's, and nobody sleeps on a word).
func Wait(*atomic.Uint32, uint32, time.Duration) {}

// WakeAll: see Wait.
func WakeAll(*atomic.Uint32) {}
