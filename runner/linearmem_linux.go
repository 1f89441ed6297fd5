//go:build linux

package runner

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// withLinearMemory makes every guest instance created with ctx keep its
// linear memory in a mapping of its own instead of the Go heap.
//
// Why: in the Go heap, linear memory grows by copying (append), the old
// copies stay until a collection (a runner needed about 3.6 times its
// linear memory at the peak, runner/confine_linux.go), and every
// instantiation's allocation drives the runner's collector, which then
// scans wazero's large compiled-module structures (a reused runner spent
// most of its CPU per process in the collector and in memmove). A mapping
// reserves the address space of the memory's maximum without using it
// (PROT_NONE, which RLIMIT_DATA does not count), grows in place by making
// more of it writable (counted by RLIMIT_DATA, so the runner's memory
// limit holds: past it the guest's memory.grow fails), starts zeroed by
// the kernel, and is unmapped when the instance is closed (or by
// mems.free, for an instantiation that failed before wazero could close
// it).
func withLinearMemory(ctx context.Context, mems *linearMemories) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		m := &mappedMemory{max: max, limited: &mems.limited}
		mems.mu.Lock()
		mems.made = append(mems.made, m)
		mems.mu.Unlock()
		return m
	}))
}

// linearMemories are the linear memories of one guest instance.
type linearMemories struct {
	// limited is set when RLIMIT_DATA refused the guest memory.
	limited atomic.Bool
	mu      sync.Mutex
	made    []*mappedMemory
}

// free unmaps every memory not unmapped yet; the guest has ended.
func (ms *linearMemories) free() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.made {
		m.Free()
	}
	ms.made = nil
}

// mappedMemory is one linear memory: a reservation of max bytes, of which
// the first committed are readable and writable.
type mappedMemory struct {
	buf       []byte
	committed uint64
	max       uint64
	limited   *atomic.Bool
}

// populateMax bounds the initial memory faulted in at once.
const populateMax = 8 << 20

// Reallocate implements experimental.LinearMemory: the memory, grown in
// place to size bytes (a multiple of the 64 KiB page); nil when it cannot
// grow (past max, or the runner's RLIMIT_DATA).
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil {
		n := max(m.max, size)
		if n == 0 {
			return []byte{}
		}
		b, err := unix.Mmap(-1, 0, int(n), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
		if err != nil {
			return nil
		}
		m.buf = b
		// The initial memory at once, faulted in one call rather than a
		// page at a time as the data segments are copied in and the
		// guest's runtime starts (a Go guest's 3 MiB: spawn+join 5.56 ->
		// 5.10 ms, medians of 7; 0.6 MiB more per process). Up to
		// populateMax only: a module that declares a large initial
		// memory and never touches it must not make it resident. A
		// kernel without MADV_POPULATE_WRITE (before 5.14) just faults
		// the pages as before.
		if size > 0 && unix.Mprotect(m.buf[:size], unix.PROT_READ|unix.PROT_WRITE) == nil {
			m.committed = size
			unix.Madvise(m.buf[:min(size, populateMax)], unix.MADV_POPULATE_WRITE)
		}
	}
	if size > uint64(len(m.buf)) {
		return nil
	}
	if size > m.committed {
		if err := unix.Mprotect(m.buf[m.committed:size], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			if errors.Is(err, unix.ENOMEM) {
				m.limited.Store(true)
			}
			return nil
		}
		m.committed = size
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mappedMemory) Free() {
	if m.buf != nil {
		unix.Munmap(m.buf)
		m.buf, m.committed = nil, 0
	}
}
