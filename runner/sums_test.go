package runner

import (
	"bytes"
	"crypto/sha256"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// TestPieces: the sums and comparisons taken in pieces are the standard
// library's, whatever the length (at and around the pieces' bounds), and
// readAll reads a file whole.
func TestPieces(t *testing.T) {
	for _, n := range []int{0, 1, sumPiece - 1, sumPiece, sumPiece + 1, 3*sumPiece + 17} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i>>9)
		}
		if got, want := sha256Of(b), sha256.Sum256(b); got != want {
			t.Errorf("%d bytes: sha256Of %x, want %x", n, got, want)
		}
		if got, want := crc32Of(b, castagnoli), crc32.Checksum(b, castagnoli); got != want {
			t.Errorf("%d bytes: crc32Of %08x, want %08x", n, got, want)
		}
		c := bytes.Clone(b)
		if !equalPieces(b, c) {
			t.Errorf("%d bytes: equalPieces of equal bytes is false", n)
		}
		if n > 0 {
			c[n-1]++
			if equalPieces(b, c) {
				t.Errorf("%d bytes: equalPieces of bytes that differ in the last is true", n)
			}
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes: readAll read %d bytes, %v", n, len(got), err)
		}
	}
	if equalPieces([]byte("ab"), []byte("abc")) {
		t.Error("equalPieces of different lengths is true")
	}
	// A file whose size Stat does not give (a pipe): read to its end all
	// the same, the buffer grown as it fills.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("pipe"), 3000)
	go func() { w.Write(want); w.Close() }()
	got, err := readAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("readAll of a pipe read %d bytes, %v; want %d", len(got), err, len(want))
	}
}
