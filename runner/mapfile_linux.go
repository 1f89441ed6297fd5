//go:build linux

package runner

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapModule returns the bytes of the module file f, mapped read-only
// rather than read: a runner's module is the cache's rewrite (trusted,
// never changed in place), of which wazero decodes all but the memory
// image, the bulk of it (1.9 of a lean Go module's 2 MB), which instances
// map from the file anyway. Read, the whole file was copied into the
// heap (about 1 ms of every runner's start) and kept there. The mapping
// is never unmapped: what wazero decoded may point into it for as long
// as the runner lives. An empty file, or one that does not map, is read.
func mapModule(f *os.File) ([]byte, error) {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && int64(int(fi.Size())) == fi.Size() {
		if b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return b, nil
		}
	}
	return readAll(f)
}
