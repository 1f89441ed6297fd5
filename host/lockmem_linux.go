package host

import "golang.org/x/sys/unix"

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
