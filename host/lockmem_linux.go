package host

import (
	"errors"
	"math"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapLockMemory makes the memory file of the run's lock words and maps it.
func mapLockMemory(size int) (int, []byte, error) {
	fd, err := unix.MemfdCreate("sandbox-locks", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, nil, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, mem, nil
}

func unmapLockMemory(fd int, mem []byte) {
	unix.Munmap(mem)
	unix.Close(fd)
}

// futexWakeAll wakes every process sleeping on w (not a private futex:
// the runners map the word from the same file).
func futexWakeAll(w *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, math.MaxInt32, 0, 0, 0)
}

// futexWake is FUTEX_WAKE (linux/futex.h), which x/sys/unix does not name.
const futexWake = 1

var errRunOver = errors.New("the run is over")
