//go:build linux

package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

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
// the kernel, and is unmapped when the instance is closed, or, with
// linearMemories.later (a runner's guests: runner.go), by mems.free once
// the guest's end is reported (and for an instantiation that failed
// before wazero could close it).
//
// A module whose data the rewrite turned into a memory image
// (mergedata.go) starts its memory, instead, with the image's pages
// mapped copy-on-write from the module file (the guest's first memory
// only, the one data segments fill).
func withLinearMemory(ctx context.Context, mems *linearMemories) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		m := &mappedMemory{max: max, set: mems}
		mems.mu.Lock()
		if len(mems.made) == 0 {
			m.image = mems.image
		}
		mems.made = append(mems.made, m)
		mems.mu.Unlock()
		return m
	}))
}

// linearImages says this platform applies memory images (so the rewrite
// may make them).
const linearImages = true

// parkGuests says a staying runner parks its next guest (runner.go): its
// memory's growth is bounded here (onGrow).
const parkGuests = true

// linearMemories are the linear memories of one guest instance.
type linearMemories struct {
	// limited is set when RLIMIT_DATA refused the guest memory.
	limited atomic.Bool
	// image, when not nil, is what the first memory starts with;
	// imageErr says why it could not be applied.
	image    *memImage
	imageErr atomic.Pointer[error]
	// onGrow, when not nil, is asked before a memory is made or grown
	// (a parked guest waits there: runner.go); false refuses it.
	onGrow func(size uint64) bool
	// later: a memory is unmapped by free, not when wazero closes its
	// instance (which a guest's exit does before the runner reports it).
	later bool
	mu    sync.Mutex
	made  []*mappedMemory
}

// free unmaps every memory not unmapped yet; the guest has ended.
func (ms *linearMemories) free() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.made {
		m.unmap()
	}
	ms.made = nil
}

// mappedMemory is one linear memory: a reservation of max bytes, of which
// the first committed are readable and writable.
type mappedMemory struct {
	buf       []byte
	committed uint64
	max       uint64
	image     *memImage       // the first memory's
	set       *linearMemories // the instance's memories, of which it is one
}

// Reallocate implements experimental.LinearMemory: the memory, grown in
// place to size bytes (a multiple of the 64 KiB page); nil when it cannot
// grow (past max, or the runner's RLIMIT_DATA).
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > m.committed && m.set.onGrow != nil && !m.set.onGrow(size) {
		return nil
	}
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
		// The initial memory: the image's pages mapped from the module
		// file (they fault in from the page cache as they are read, and
		// are copied only when written), the rest faulting in, zeroed, a
		// page at a time as the guest touches it. (Up to 8 MiB of it was
		// faulted in at once, by MADV_POPULATE_WRITE, before memory
		// images and reused runners: since, a Go guest's child touches
		// little of what that made resident, and without it spawn+join
		// took 1.41 ms against 1.67, 8 concurrent spawns 13.0 against
		// 14.4, each child 0.5 MiB less; medians of 7, interleaved.)
		if size > 0 && unix.Mprotect(m.buf[:size], unix.PROT_READ|unix.PROT_WRITE) == nil {
			m.committed = size
			if err := m.image.mapInto(m.buf[:size], uint64(os.Getpagesize())); err != nil {
				m.set.imageErr.Store(&err)
				m.unmap()
				return nil
			}
		}
	}
	if size > uint64(len(m.buf)) {
		return nil
	}
	if size > m.committed {
		if err := unix.Mprotect(m.buf[m.committed:size], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			if errors.Is(err, unix.ENOMEM) {
				m.set.limited.Store(true)
			}
			return nil
		}
		m.committed = size
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *mappedMemory) Free() {
	if !m.set.later {
		m.unmap()
	}
}

// unmap gives the memory back to the OS.
func (m *mappedMemory) unmap() {
	if m.buf != nil {
		unix.Munmap(m.buf)
		m.buf, m.committed = nil, 0
	}
}

// mmapPtr is unix.MmapPtr (a variable for the test of the fallback).
var mmapPtr = unix.MmapPtr

// mapInto maps the image's runs into mem, a memory's first bytes,
// copy-on-write from the module file, in whole pages of size page (the
// bytes of the file around a run, up to its pages' ends, are zeros:
// appendImage). A run
// the kernel will not map (a file system without mmap; a page larger
// than imageAlign) is read into mem instead, over a fresh anonymous
// mapping (a MAP_FIXED that failed may have unmapped the range first,
// on kernels before 6.12).
func (im *memImage) mapInto(mem []byte, page uint64) error {
	if im == nil {
		return nil
	}
	if im.file == nil {
		return errors.New("the module file is not open (LoadConfig.Shared)")
	}
	fd := int(im.file.Fd())
	for _, r := range im.runs {
		end := uint64(r.memOff) + uint64(r.length)
		if end > uint64(len(mem)) {
			return fmt.Errorf("a run ends at %d, past the initial memory (%d bytes)", end, len(mem))
		}
		start, stop := uint64(r.memOff)&^(page-1), (end+page-1)&^(page-1)
		err := errors.New("pages larger than the image's alignment")
		if page <= imageAlign {
			_, err = mmapPtr(fd, int64(uint64(r.fileOff)-(uint64(r.memOff)-start)), unsafe.Pointer(&mem[start]),
				uintptr(stop-start), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
		}
		if err == nil {
			continue
		}
		if _, aerr := mmapPtr(-1, 0, unsafe.Pointer(&mem[start]), uintptr(stop-start),
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED); aerr != nil {
			return fmt.Errorf("mapping a run: %w; and anonymous memory in its place: %w", err, aerr)
		}
		if n, rerr := unix.Pread(fd, mem[r.memOff:end], int64(r.fileOff)); rerr != nil || n != int(r.length) {
			return fmt.Errorf("mapping a run: %w; reading it: %d bytes of %d (%v)", err, n, r.length, rerr)
		}
	}
	return nil
}
