//go:build linux

package runner

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sharing the machine code of a module among the runners that load it.
//
// wazero copies a module's machine code from its cache entry into an
// anonymous mapping of each runner (14 MiB for a Go guest: half of a
// compiled runner's memory, the same bytes in every runner: the code is
// position independent). After the load, a runner replaces that mapping,
// in place, with a read-only private mapping of a file that holds the very
// same bytes, so that every runner of the module, in every run, shares one
// copy in the page cache. wazero is not told: its slice still addresses
// the same bytes, and it unmaps them as before when the module is closed.
//
// The file is in the cache's modules folder, named by the code's CRC-32
// and length, written by the first runner that finds it missing (through
// a temporary file renamed into place, like the rewritten modules), or by
// the host that makes the module's lean form (lean.go). A runner that
// loaded the module maps it only after comparing it byte for byte with
// its own code; a lean load maps it only after checking that its bytes
// have the CRC-32C wazero's entry of the module records for its code: a
// file that is stale, damaged or not this module's is never executed (it
// is written again). A writer that modifies the file in place, after the
// check, could change the code of the runners that map it, as it could
// change wazero's own cache entries, which wazero takes with a checksum:
// the cache folder must be the user's alone, as it already must.

// minShared is the smallest machine code worth a file (a Go guest's is
// 14 MiB; the test fixtures' a few pages).
const minShared = 1 << 20

// selfMaps lists this process's mappings.
const selfMaps = "/proc/self/maps"

// keptMaps is selfMaps opened before the runner confined itself
// (KeepSelfMaps), read again from its start at each look: a confined
// runner cannot open it.
var keptMaps *os.File

// KeepSelfMaps opens this process's memory map for the machine-code
// sharing of a load to come (LoadConfig.ShareCode), before confinement
// takes the file system away. Without it, a load opens the map itself.
func KeepSelfMaps() {
	if f, err := os.Open(selfMaps); err == nil {
		keptMaps = f
	}
}

// errCodeUnmapped says a failed replacement left the machine code
// unmapped: the module cannot run, and is loaded again without sharing.
var errCodeUnmapped = errors.New("the machine code was unmapped by a failed mmap")

// codeMapping is an anonymous executable mapping of this process.
type codeMapping struct{ start, end uintptr }

// codeMappings lists this process's anonymous executable mappings: where
// wazero keeps machine code.
func codeMappings() (map[codeMapping]bool, error) {
	ms, err := readMappings()
	if err != nil {
		return nil, err
	}
	maps := map[codeMapping]bool{}
	for _, m := range ms {
		if m.perms == "r-xp" && m.ino == 0 && m.path == "" && m.end > m.start {
			maps[codeMapping{uintptr(m.start), uintptr(m.end)}] = true
		}
	}
	return maps, nil
}

// mapping is one of this process's mappings, as /proc/self/maps says.
type mapping struct {
	start, end, offset, ino uint64
	perms, path             string
}

// readMappings lists this process's mappings, from selfMaps (the copy
// kept open before the runner confined itself, if any: KeepSelfMaps).
func readMappings() ([]mapping, error) {
	var r io.Reader
	if keptMaps != nil {
		r = io.NewSectionReader(keptMaps, 0, math.MaxInt64)
	} else {
		f, err := os.Open(selfMaps)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var ms []mapping
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(fields[2], 16, 64)
		ino, err4 := strconv.ParseUint(fields[4], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		m := mapping{start: start, end: end, offset: off, ino: ino, perms: fields[1]}
		if len(fields) > 5 {
			m.path = strings.Join(fields[5:], " ")
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// shareCode maps seg, the module's machine code the caller just compiled
// or loaded (newCode; nil: the mappings could not be listed), from the
// file in dir that holds the same bytes (codeFile), writing that file
// first if it is missing or differs. It returns the file's path, "" when
// there was nothing worth sharing. On an error the mapping is left
// as wazero made it, except errCodeUnmapped: a kernel before 6.12 may
// unmap the range before a MAP_FIXED mmap fails (an allocation of its
// own, the file system's mmap).
func shareCode(dir string, seg []byte) (string, error) {
	if seg == nil {
		return "", errors.New("listing mappings failed")
	}
	size := uintptr(len(seg))
	if size < minShared {
		return "", nil
	}
	// A folder mounted noexec cannot give code: no file to write.
	if err := execAllowed(dir); err != nil {
		return "", err
	}
	f, _, err := codeFile(dir, seg)
	if err != nil {
		return "", err
	}
	defer f.Close()
	name := f.Name()
	_, err = unix.MmapPtr(int(f.Fd()), 0, unsafe.Pointer(&seg[0]), size,
		unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_FIXED|unix.MAP_POPULATE)
	if err != nil {
		// mincore fails with ENOMEM on a range with a hole.
		vec := make([]byte, (size+uintptr(os.Getpagesize())-1)/uintptr(os.Getpagesize()))
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&seg[0])), size, uintptr(unsafe.Pointer(&vec[0])))
		if errno == unix.ENOMEM {
			return "", fmt.Errorf("mapping %s: %w: %w", name, errCodeUnmapped, err)
		}
		return "", fmt.Errorf("mapping %s: %w", name, err)
	}
	return name, nil
}

// execAllowed says whether code can be mapped from files of dir (not on
// a file system mounted noexec).
func execAllowed(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Flags&unix.ST_NOEXEC != 0 {
		return fmt.Errorf("%s is on a file system mounted noexec", dir)
	}
	return nil
}

// codeFile opens the file in dir that holds the machine code seg, named
// by its codeName (returned), writing it first if it is missing or
// differs.
func codeFile(dir string, seg []byte) (*os.File, string, error) {
	code := codeName(seg)
	name := filepath.Join(dir, code+".code")
	f, err := openSame(name, seg)
	if err != nil {
		if werr := writeFileMode(name, seg, 0, codeTemp); werr != nil {
			return nil, "", fmt.Errorf("writing %s: %w (%v)", name, werr, err)
		}
		if f, err = openSame(name, seg); err != nil {
			return nil, "", fmt.Errorf("after writing it: %w", err)
		}
	}
	return f, code, nil
}

// newCode returns the largest executable mapping made since before: the
// machine code of the module the caller just compiled or loaded (an empty
// slice when there is none; nil when the mappings cannot be listed). The
// mapping is outside the Go heap; nothing else maps or unmaps executable
// memory during a load (loading).
func newCode(before map[codeMapping]bool) []byte {
	pieces, err := newPieces(before)
	if err != nil {
		return nil
	}
	var code codeMapping
	for _, p := range pieces {
		if p.end-p.start > code.end-code.start {
			code = p
		}
	}
	return code.bytes()
}

// newPieces lists the executable mappings, or parts of them, made since
// before.
func newPieces(before map[codeMapping]bool) ([]codeMapping, error) {
	after, err := codeMappings()
	if err != nil {
		return nil, err
	}
	var pieces []codeMapping
	for m := range after {
		pieces = append(pieces, subtract(m, before)...)
	}
	return pieces, nil
}

// bytes is the memory of m (empty for none).
func (m codeMapping) bytes() []byte {
	if m.end == m.start {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), m.start)), m.end-m.start)
}

// codeName names machine code by its CRC-32 and size: the name of its
// shared file (without ".code"), which a lean load maps (lean.go).
func codeName(seg []byte) string {
	return fmt.Sprintf("%08x-%d", crc32Of(seg, crc32.IEEETable), len(seg))
}

// codeTemp starts the names of code files being written (host.Run's
// start-up removes those a killed runner left: RemoveStaleTemps).
const codeTemp = ".code-"

// subtract returns the parts of m outside every mapping of maps: the
// kernel merges adjacent mappings of the same kind into one line, so a
// mapping made by a load can be part of a line that holds older code.
func subtract(m codeMapping, maps map[codeMapping]bool) []codeMapping {
	parts := []codeMapping{m}
	for o := range maps {
		var next []codeMapping
		for _, p := range parts {
			if o.end <= p.start || p.end <= o.start {
				next = append(next, p)
				continue
			}
			if p.start < o.start {
				next = append(next, codeMapping{p.start, o.start})
			}
			if o.end < p.end {
				next = append(next, codeMapping{o.end, p.end})
			}
		}
		parts = next
	}
	return parts
}

// openSame opens name if it holds exactly want.
func openSame(name string, want []byte) (*os.File, error) {
	f, fi, got, err := mapCode(name, len(want), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	defer unix.Munmap(got)
	if fi.Size() != int64(len(want)) {
		err = fmt.Errorf("%s: %d bytes, not %d", name, fi.Size(), len(want))
	} else if !equalPieces(got, want) {
		err = fmt.Errorf("%s: not the same code", name)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
