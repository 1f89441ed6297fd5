//go:build !linux

package runner

import (
	"context"
	"sync/atomic"
)

// withLinearMemory leaves linear memory in the Go heap (wazero's
// default) where the mapping of linearmem_linux.go is not implemented.
func withLinearMemory(ctx context.Context, _ *linearMemories) context.Context { return ctx }

type linearMemories struct {
	limited  atomic.Bool
	image    *memImage
	imageErr atomic.Pointer[error]
	onGrow   func(size uint64) bool // not called here: linear memory is wazero's
	later    bool
}

// linearImages says this platform applies memory images: not here, so
// the rewrite never makes them.
const linearImages = false

// parkGuests says a staying runner parks its next guest: not here, where
// a parked guest's memory could not be bounded (onGrow).
const parkGuests = false

func (*linearMemories) free() {}
