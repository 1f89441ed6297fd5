//go:build linux

package runner

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapModule returns the bytes of the module file f, mapped read-only
// rather than read: a runner's module is the cache's rewrite or lean form
// (trusted, never changed in place but replaced), of which wazero decodes
// all but the memory image, the bulk of it (1.9 of a lean Go module's
// 2 MB), which instances map from the file anyway. Read, the whole file
// was copied into the heap (about 1 ms of every runner's start). The
// mapping is not unmapped: the runner keeps its module for its life (and
// the host maps at most the lean form it checks, once). An empty file,
// or one that does not map, is read.
func mapModule(f *os.File) ([]byte, error) {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && int64(int(fi.Size())) == fi.Size() {
		if b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return b, nil
		}
	}
	return readAll(f)
}
