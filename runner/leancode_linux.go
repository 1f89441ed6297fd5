//go:build linux

package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"golang.org/x/sys/unix"
)

// leanLoads says this build can load lean forms (lean.go).
const leanLoads = true

// wazeroEntry is what a lean load reads of the module's own cache entry,
// in the format of wazero's compiler as go.mod pins it
// (internal/engine/wazevo/engine_cache.go): the magic "WAZEVO", the
// version, the number of functions and the offset of each in the machine
// code, the code's size, the code, its CRC-32C, a byte that says whether
// a source map follows, and the number of exception-handling tables.
// A lean form is made only of a module without DWARF (no source map)
// and whose code has no such tables (Go guests have none), so an entry
// ends right after them.
type wazeroEntry struct {
	offsets []int
	size    int    // bytes of machine code
	sum     uint32 // their CRC-32C, as wazero checks them
	codeAt  int64  // where they begin in the file
}

// wazeroVersion is the version wazero writes in its entries and folder
// names, found as wazero finds it (internal/version of the version
// go.mod pins): the build's dependency on it, else the main module's
// version, else "dev".
var wazeroVersion = sync.OnceValue(func() (v string) {
	missing := func(v string) bool { return v == "" || v == "(devel)" }
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if strings.Contains(dep.Path, "github.com/tetratelabs/wazero") {
				v = dep.Version
			}
		}
		if missing(v) {
			v = info.Main.Version
		}
	}
	if missing(v) {
		return "dev"
	}
	return v
})

// wazeroDir is the name of this wazero's folder in a compilation cache
// (wazero's cache.go).
func wazeroDir() string {
	return "wazero-" + wazeroVersion() + "-" + runtime.GOARCH + "-" + runtime.GOOS
}

// readEntry reads the cache entry f (in the cache folder dir) but for its
// machine code, checking every field a lean load relies on; an error for
// an entry that is not this wazero's (its version, or a folder of
// another's), is cut short or longer, or holds what a lean load cannot
// take.
func readEntry(f *os.File, dir string) (e wazeroEntry, err error) {
	fi, err := f.Stat()
	if err != nil {
		return e, err
	}
	r := io.NewSectionReader(f, 0, fi.Size())
	head := make([]byte, len(wazeroMagic)+1)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head[:len(wazeroMagic)], wazeroMagic) {
		return e, errors.New("not an entry of wazero's compiler")
	}
	version := make([]byte, int(head[len(wazeroMagic)])+4)
	if _, err := io.ReadFull(r, version); err != nil {
		return e, errors.New("entry cut short")
	}
	if v := string(version[:len(version)-4]); v != wazeroVersion() || dir != wazeroDir() {
		return e, fmt.Errorf("entry of wazero %s in %s, not of this wazero's %s", v, dir, wazeroDir())
	}
	n := binary.LittleEndian.Uint32(version[len(version)-4:])
	if int64(n)*8 > fi.Size() {
		return e, errors.New("entry cut short")
	}
	table := make([]byte, int(n)*8+8)
	if _, err := io.ReadFull(r, table); err != nil {
		return e, errors.New("entry cut short")
	}
	size := binary.LittleEndian.Uint64(table[len(table)-8:])
	e.codeAt = int64(len(head) + len(version) + len(table))
	// code, its sum, no source map, no exception tables
	if size == 0 || size > uint64(fi.Size()) || e.codeAt+int64(size)+4+1+4 != fi.Size() {
		return e, fmt.Errorf("entry of %d bytes for %d of machine code", fi.Size(), size)
	}
	e.size = int(size)
	e.offsets = make([]int, n)
	for i := range e.offsets {
		o := binary.LittleEndian.Uint64(table[8*i:])
		if o >= size || (i > 0 && int(o) <= e.offsets[i-1]) {
			return e, fmt.Errorf("function %d at offset %d of %d bytes", i, o, size)
		}
		e.offsets[i] = int(o)
	}
	var tail [9]byte
	if _, err := f.ReadAt(tail[:], e.codeAt+int64(size)); err != nil {
		return e, err
	}
	if tail[4] != 0 || binary.LittleEndian.Uint32(tail[5:]) != 0 {
		return e, errors.New("entry with a source map or exception tables")
	}
	e.sum = binary.LittleEndian.Uint32(tail[:4])
	return e, nil
}

// openEntry opens the cache entry at path and reads it but for its
// machine code (readEntry, its folder the one path names).
func openEntry(path string) (*os.File, wazeroEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, wazeroEntry{}, err
	}
	e, err := readEntry(f, filepath.Base(filepath.Dir(path)))
	if err != nil {
		f.Close()
		return nil, e, err
	}
	return f, e, nil
}

// entrySum reads the cache entry at path as a lean load does (readEntry)
// and returns its code's size and CRC-32C.
func entrySum(path string) (size int, sum uint32, err error) {
	f, e, err := openEntry(path)
	if err != nil {
		return 0, 0, err
	}
	f.Close()
	return e.size, e.sum, nil
}

// entryCode reads the machine code of the cache entry at path, checked
// against its CRC-32C, which it returns.
func entryCode(path string) ([]byte, uint32, error) {
	f, e, err := openEntry(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	code := make([]byte, e.size)
	if _, err := f.ReadAt(code, e.codeAt); err != nil {
		return nil, 0, err
	}
	if crc32Of(code, castagnoli) != e.sum {
		return nil, 0, errors.New("the entry's machine code does not match its checksum")
	}
	return code, e.sum, nil
}

// leanCode is the module's machine code a lean load runs: mapped from its
// code file and checked against the module's own cache entry.
type leanCode struct {
	code    []byte // a unix.Mmap of the code file, as long as the code
	offsets []int
}

// mapLeanCode maps the machine code l names (l.Code, in the modules folder
// of cacheDir) and checks it against the module's entry (l.Full): as many
// bytes as the entry's code, with the same CRC-32C, unless the file is
// the version the host found so (l.Verified): a 14 MB sum, about 1.4 ms
// of every runner's start, made once.
func mapLeanCode(l *Lean, cacheDir string) (*leanCode, error) {
	if l.Code == "" || strings.ContainsAny(l.Code, `/\`) {
		return nil, fmt.Errorf("no code file named %q", l.Code)
	}
	if filepath.Dir(l.Full) != filepath.Join(cacheDir, wazeroDir()) {
		return nil, fmt.Errorf("the module's entry %s is not in this wazero's folder of the cache", l.Full)
	}
	f, e, err := openEntry(l.Full)
	if err != nil {
		return nil, fmt.Errorf("the module's entry: %w", err)
	}
	f.Close()
	if err := execAllowed(ModulesDir(cacheDir)); err != nil {
		return nil, err
	}
	cf, fi, code, err := mapCode(filepath.Join(ModulesDir(cacheDir), l.Code+".code"), e.size,
		unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	cf.Close()
	// The version of the file the host summed is not summed again.
	if (l.Verified == "" || codeVersion(fi, e.size, e.sum) != l.Verified) && crc32Of(code, castagnoli) != e.sum {
		unix.Munmap(code)
		return nil, errors.New("the code file is not the module's entry's machine code")
	}
	return &leanCode{code: code, offsets: e.offsets}, nil
}

// codeVersion names the version of a code file fi describes, as found to
// hold size bytes of code with the CRC-32C sum: the file's device and
// inode, its size, and when its content and its inode last changed. A
// write to the file changes the last two, by the kernel's clock (only the
// first can be set back by hand), unless it comes within one tick of that
// clock (a file system's, for coarse ones: up to 2 s) of the change
// before: verifyCode vouches only for a file that changed longer ago. A
// file written again in its place is another inode. "" when the system
// does not say.
func codeVersion(fi os.FileInfo, size int, sum uint32) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%x.%x.%x.%d.%d.%d.%d:%d:%08x", st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec, size, sum)
}

// racyWindow: a code file changed less long ago than this is not
// vouched for (codeVersion), as a write in the same tick of a coarse
// clock would not change its times.
var racyWindow = 3 * time.Second

// settledVersion is the codeVersion of fi for size bytes of code with
// the CRC-32C sum, or "" when the file changed too recently to vouch for
// it (racyWindow).
func settledVersion(fi os.FileInfo, size int, sum uint32) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || time.Since(time.Unix(st.Ctim.Unix())) < racyWindow {
		return ""
	}
	return codeVersion(fi, size, sum)
}

// mapCode opens the code file at path and maps its first size bytes with
// prot and flags, once its size says it holds them; fi is the file as
// opened. The caller closes f (the mapping outlives it).
func mapCode(path string, size, prot, flags int) (f *os.File, fi os.FileInfo, code []byte, err error) {
	if f, err = os.Open(path); err != nil {
		return nil, nil, nil, err
	}
	if fi, err = f.Stat(); err == nil && (size <= 0 || fi.Size() < int64(size)) {
		err = fmt.Errorf("code file of %d bytes for %d of code", fi.Size(), size)
	}
	if err == nil {
		if code, err = unix.Mmap(int(f.Fd()), 0, size, prot, flags); err != nil {
			err = fmt.Errorf("mapping the code file: %w", err)
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, fi, code, nil
}

// verifyCode checks that the code file at path holds, for size bytes,
// code with the CRC-32C sum, and returns its settledVersion.
func verifyCode(path string, size int, sum uint32) (string, error) {
	f, fi, code, err := mapCode(path, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return "", err
	}
	defer f.Close()
	defer unix.Munmap(code)
	if crc32Of(code, castagnoli) != sum {
		return "", errors.New("the code file is not the module's entry's machine code")
	}
	after, err := f.Stat()
	if err != nil {
		return "", err
	}
	if codeVersion(after, size, sum) != codeVersion(fi, size, sum) {
		return "", errors.New("the code file changed while it was summed")
	}
	return settledVersion(after, size, sum), nil
}

// unmap lets the code go (a load that did not take it).
func (c *leanCode) unmap() {
	if c != nil && c.code != nil {
		unix.Munmap(c.code)
		c.code = nil
	}
}

// takeCode makes cm, the compiled lean module whose wazero ID is id, run
// c: the module's machine code and its function offsets in place of the
// traps wazero compiled or loaded for the lean module, whose own code is
// unmapped. wazero is not told: it reaches a compiled module's code only
// through these two fields (instantiation takes each function's address
// from them; traps and stack traces find a module by them, in the
// engine's list sorted by where code begins, sorted here again), and it
// unmaps the code when the module is closed, as it would its own (the
// mapping is a unix.Mmap as long as the code, as its own are). Reached
// through wazero's unexported fields as laid out in the version go.mod
// pins (wazero.compiledModule's compiledEngine keeps, in compiledModules
// under the module's ID, the compiled module: executables.executable and
// functionOffsets); an error and nothing changed when they are not laid
// out so, or cm is not the module id names, or has another number of
// functions, or carries a source map or exception tables.
func (c *leanCode) takeCode(cm wazero.CompiledModule, id []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errLayout, r)
		}
	}()
	v := reflect.ValueOf(cm).Elem()
	mid := v.FieldByName("module").Elem().FieldByName("ID")
	if mid.Kind() != reflect.Array || mid.Len() != len(id) {
		return errLayout
	}
	for i := range id {
		if byte(mid.Index(i).Uint()) != id[i] {
			return errors.New("the compiled module is not the lean module named")
		}
	}
	eng := v.FieldByName("compiledEngine").Elem().Elem()
	inner := eng.FieldByName("compiledModules").MapIndex(mid).Elem().FieldByName("compiledModule").Elem()
	exe := writable(inner.FieldByName("executables").Elem().FieldByName("executable"))
	offs := writable(inner.FieldByName("functionOffsets"))
	list := writable(eng.FieldByName("sortedCompiledModules"))
	if exe.Type() != reflect.TypeFor[[]byte]() || offs.Type() != reflect.TypeFor[[]int]() || list.Kind() != reflect.Slice {
		return errLayout
	}
	if exe.Len() == 0 {
		return errors.New("the lean module compiled to no machine code")
	}
	if offs.Len() != len(c.offsets) {
		return fmt.Errorf("the lean module has %d functions, the module's entry %d", offs.Len(), len(c.offsets))
	}
	if inner.FieldByName("catchClauseTable").Len() != 0 || inner.FieldByName("sourceMap").FieldByName("executableOffsets").Len() != 0 {
		return errors.New("the lean module's compile has a source map or exception tables")
	}
	start := func(i int) uintptr {
		return list.Index(i).Elem().FieldByName("executables").Elem().FieldByName("executable").Pointer()
	}
	for i := range list.Len() { // (every field read before one is written)
		start(i)
	}
	own := exe.Bytes()
	exe.Set(reflect.ValueOf(c.code))
	c.code = nil // wazero's now (a module refused after this is kept)
	offs.Set(reflect.ValueOf(c.offsets))
	sort.Slice(list.Interface(), func(i, j int) bool { return start(i) < start(j) })
	unix.Munmap(own)
	return nil
}

// errLayout says wazero's compiled module is not laid out as takeCode
// expects (another wazero than go.mod pins): no lean loads with it.
var errLayout = errors.New("wazero's compiled module is not laid out as expected")

// writable is f, an unexported field reached by reflection, as a value
// that can be set.
func writable(f reflect.Value) reflect.Value {
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}
