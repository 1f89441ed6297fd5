package runner

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"hash/crc32"
	"io"
	"os"
)

// Large buffers are summed and compared in pieces (and read into a
// buffer zeroed in pieces: readAll). The SHA-256 and CRC-32 of
// the standard library run as assembly, which the Go scheduler cannot
// preempt: a collection that starts while a goroutine hashes megabytes
// spins on a core until that goroutine reaches a safe point, to scan its
// stack (a host's first collection, which the read of a 4 MB module
// starts, spent 10 ms of a core so, waiting for the module's SHA-256,
// while MainProcess's runner needed the core to start). Between pieces
// it is a safe point.
const sumPiece = 256 << 10

// writePieces writes b to h a piece at a time.
func writePieces(h hash.Hash, b []byte) {
	for len(b) > 0 {
		n := min(len(b), sumPiece)
		h.Write(b[:n])
		b = b[n:]
	}
}

// sha256Of is sha256.Sum256(b), in pieces.
func sha256Of(b []byte) (sum [sha256.Size]byte) {
	h := sha256.New()
	writePieces(h, b)
	h.Sum(sum[:0])
	return sum
}

// crc32Of is crc32.Checksum(b, tab), in pieces.
func crc32Of(b []byte, tab *crc32.Table) uint32 {
	h := crc32.New(tab)
	writePieces(h, b)
	return h.Sum32()
}

// equalPieces is bytes.Equal(a, b), in pieces.
func equalPieces(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for len(a) > 0 {
		n := min(len(a), sumPiece)
		if !bytes.Equal(a[:n], b[:n]) {
			return false
		}
		a, b = a[n:], b[n:]
	}
	return true
}

// readAll reads f to its end into a buffer sized from the file, as
// os.ReadFile does: a buffer made at its size is zeroed in pieces, at
// safe points (a bytes.Buffer grown to it was zeroed at once, in
// assembly the collector cannot preempt, faulting in each page: a
// collection then spun for milliseconds waiting to scan the stack).
func readAll(f *os.File) ([]byte, error) {
	size := 512
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = int(fi.Size()) + 1 // (one more, to see the end at once)
	}
	b := make([]byte, 0, size)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
