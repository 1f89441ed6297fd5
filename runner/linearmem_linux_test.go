package runner

import (
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident counts the pages of b in memory.
func resident(t *testing.T, b []byte) int {
	t.Helper()
	vec := make([]byte, (len(b)+4095)/4096)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestInitialMemoryPopulated: a small initial memory is faulted in at
// once; of a large one, only populateMax, and growing faults nothing in.
func TestInitialMemoryPopulated(t *testing.T) {
	scratch, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Madvise(scratch, unix.MADV_POPULATE_WRITE)
	unix.Munmap(scratch)
	if err != nil {
		t.Skipf("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): %v", err)
	}
	tests := []struct {
		name          string
		initial, grow uint64
		atMost        uint64 // bytes resident, at most
	}{
		{"small", 3 << 20, 0, 3 << 20},
		{"large", 256 << 20, 0, populateMax},
		{"grown", 3 << 20, 64 << 20, 3 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mappedMemory{max: 1 << 30, limited: &atomic.Bool{}}
			defer m.Free()
			b := m.Reallocate(tt.initial)
			if uint64(len(b)) != tt.initial {
				t.Fatalf("Reallocate(%d) gave %d bytes", tt.initial, len(b))
			}
			if tt.grow > 0 {
				b = m.Reallocate(tt.initial + tt.grow)
			}
			got := uint64(resident(t, b)) * 4096
			if got > tt.atMost {
				t.Errorf("%d KiB resident, want at most %d KiB", got>>10, tt.atMost>>10)
			}
			if want := min(tt.initial, populateMax); got < want {
				t.Errorf("%d KiB resident, want the %d KiB of the initial memory", got>>10, want>>10)
			}
			for i := range b { // still zeroed, and writable
				if b[i] != 0 {
					t.Fatalf("byte %d is %d", i, b[i])
				}
			}
			b[len(b)-1] = 1
		})
	}
}
