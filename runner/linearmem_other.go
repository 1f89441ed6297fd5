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
}

// linearImages says this platform applies memory images: not here, so
// the rewrite never makes them.
const linearImages = false

func (*linearMemories) free() {}
