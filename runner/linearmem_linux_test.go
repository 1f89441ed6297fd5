package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"

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

// TestInitialMemoryLazy: no page of a memory is resident before the
// guest touches it, whatever its initial size or growth; a page written
// is then resident, and every byte reads zero and is writable.
func TestInitialMemoryLazy(t *testing.T) {
	tests := []struct {
		name          string
		initial, grow uint64
	}{
		{"small", 3 << 20, 0},
		{"large", 256 << 20, 0},
		{"grown", 3 << 20, 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &mappedMemory{max: 1 << 30, set: &linearMemories{}}
			defer m.Free()
			b := m.Reallocate(tt.initial)
			if uint64(len(b)) != tt.initial {
				t.Fatalf("Reallocate(%d) gave %d bytes", tt.initial, len(b))
			}
			if tt.grow > 0 {
				b = m.Reallocate(tt.initial + tt.grow)
			}
			if n := resident(t, b); n != 0 {
				t.Errorf("%d KiB resident before any touch, want none", n*4)
			}
			// (Where transparent huge pages are on for all memory, a write
			// would fault in 2 MiB.)
			unix.Madvise(b, unix.MADV_NOHUGEPAGE)
			b[len(b)/2] = 1
			if n := resident(t, b); n != 1 {
				t.Errorf("%d pages resident after one write, want 1", n)
			}
			for i := range b { // zeroed (but the byte written), and writable
				if b[i] != 0 && i != len(b)/2 {
					t.Fatalf("byte %d is %d", i, b[i])
				}
			}
			b[len(b)-1] = 1
		})
	}
}

// memoryOf loads the module bin as a runner loads a rewrite of the
// host's (Shared, from the cache's modules folder) or, if not shared, as
// a check does, instantiates it as a runner does, twice (one instance
// after the other, as a reused runner), and returns the memory each
// started with. Of a shared load it also checks the image's pages: from
// the module file, copy-on-write, none copied until written.
func memoryOf(t *testing.T, bin []byte, shared bool) ([][]byte, error) {
	t.Helper()
	ctx := context.Background()
	cache := t.TempDir()
	path := filepath.Join(ModulesDir(cache), "m"+rewriteName)
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, bin, 0o644)
	m, err := Load(ctx, LoadConfig{Path: path, CacheDir: cache, Checked: true, Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	var mems [][]byte
	for range 2 {
		lm := linearMemories{image: m.image}
		inst, err := instantiate(withLinearMemory(ctx, &lm), m, wazero.NewModuleConfig().WithStartFunctions())
		if err != nil {
			return nil, err
		}
		b, _ := inst.Memory().Read(0, inst.Memory().Size())
		mems = append(mems, append([]byte(nil), b...))
		if shared {
			// (The load maps the module's bytes too: outside the memory.)
			if n := len(fileMappingsIn(t, b, path)); n != len(m.image.runs) {
				t.Errorf("%d mappings of %s in the memory, want one per run (%d)", n, path, len(m.image.runs))
			}
			smaps, _ := os.ReadFile("/proc/self/smaps")
			if anon := anonymousOf(t, string(smaps), b); anon != 0 {
				t.Errorf("%d KiB of the image's pages copied before any write", anon)
			}
			// A write changes the memory (its page only), not the file.
			inst.Memory().WriteByte(70000, 'A')
			if got, _ := inst.Memory().ReadByte(70000); got != 'A' {
				t.Errorf("a write to the image's page did not land: %q", got)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, bin) {
				t.Error("writing the instance's memory changed the module file")
			}
		}
		inst.Close(ctx)
		lm.free()
	}
	return mems, nil
}

// anonymousOf sums the Anonymous: lines of smaps for the mappings that
// start in mem.
func anonymousOf(t *testing.T, smaps string, mem []byte) int {
	t.Helper()
	lo := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	total, in := 0, false
	for _, line := range strings.Split(smaps, "\n") {
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") {
			start, _, _ := strings.Cut(f[0], "-")
			a, err := strconv.ParseUint(start, 16, 64)
			in = err == nil && a >= lo && a < lo+uint64(len(mem))
			continue
		}
		var kb int
		if in && strings.HasPrefix(line, "Anonymous:") {
			fmt.Sscanf(strings.TrimPrefix(line, "Anonymous:"), "%d", &kb)
			total += kb
		}
	}
	return total
}

// fileMappingsIn lists this process's mappings of the file name that
// start in mem.
func fileMappingsIn(t *testing.T, mem []byte, name string) []mapping {
	t.Helper()
	lo := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	ino := inodeOf(t, name)
	var in []mapping
	for _, m := range selfMappings(t) {
		if m.ino == ino && m.start >= lo && m.start < lo+uint64(len(mem)) {
			in = append(in, m)
		}
	}
	return in
}

// TestMemoryImage: the rewrite of a module with data segments inside its
// initial memory has no data section but a memory image, runs at file
// offsets congruent to their memory offsets; an instance made as a
// runner makes one (Shared, a rewrite of the host's) starts with the
// very bytes an instance of the original does, and so does the next
// instance after the first wrote to its memory; a module loaded without
// Shared refuses to be instantiated, rather than start without its data.
func TestMemoryImage(t *testing.T) {
	orig := imageModule(imageSegs...)
	out, ok := mergeData(orig)
	if !ok {
		t.Fatal("not rewritten")
	}
	runs := memoryImage(out)
	if len(runs) != 2 {
		t.Fatalf("runs %+v, want 2", runs)
	}
	for _, r := range runs {
		if r.fileOff%imageAlign != r.memOff%imageAlign {
			t.Errorf("run %+v: file offset not congruent to the memory offset", r)
		}
	}
	for id := range sections(out) {
		if id == 11 {
			t.Error("the rewrite kept a data section")
		}
	}
	want, err := memoryOf(t, orig, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := memoryOf(t, out, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[0]) {
			t.Errorf("instance %d of the image starts with other bytes than the original's", i+1)
		}
	}
	if string(want[0][70000:70013]) != "abc\x00\x00\x00\x00\x00\x00\x00def" || string(want[0][200000:200003]) != "xyz" {
		t.Errorf("the original's memory: %q %q", want[0][70000:70013], want[0][200000:200003])
	}
	if _, err := memoryOf(t, out, false); err == nil || !strings.Contains(err.Error(), "memory image was not kept open") {
		t.Errorf("instantiated without its image open: %v", err)
	}
}

// TestMapInto: the runs of an image land at their offsets, whatever the
// page size (4, 16 and 64 KiB: a run spanning several pages, one
// starting mid-page), mapped from the file; where the kernel will not
// map them, read into fresh memory instead.
func TestMapInto(t *testing.T) {
	long := strings.Repeat("0123456789", 5000) // 50,000 bytes: pages of 4 and 16 KiB
	orig := imageModule(struct {
		off  int64
		data string
	}{70001, long}, struct {
		off  int64
		data string
	}{200000, "xyz"})
	out, ok := mergeData(orig)
	if !ok || len(memoryImage(out)) != 2 {
		t.Fatalf("rewritten %v, runs %+v", ok, memoryImage(out))
	}
	want, _ := image(t, orig)
	path := filepath.Join(t.TempDir(), "m.wasm")
	os.WriteFile(path, out, 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im := &memImage{runs: memoryImage(out), file: f}
	for _, tt := range []struct {
		page    uint64
		refused bool
	}{{4 << 10, false}, {16 << 10, false}, {64 << 10, false}, {4 << 10, true}, {128 << 10, false}} {
		t.Run(fmt.Sprintf("page %d KiB, mmap refused %v", tt.page>>10, tt.refused), func(t *testing.T) {
			if tt.refused {
				mmapPtr = func(fd int, off int64, addr unsafe.Pointer, n uintptr, prot, flags int) (unsafe.Pointer, error) {
					if fd >= 0 {
						return nil, unix.ENODEV
					}
					return unix.MmapPtr(fd, off, addr, n, prot, flags)
				}
				defer func() { mmapPtr = unix.MmapPtr }()
			}
			mem, err := unix.Mmap(-1, 0, 4<<16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(mem)
			if err := im.mapInto(mem, tt.page); err != nil {
				t.Fatal(err)
			}
			mapped := fileMappingsIn(t, mem, path)
			if wantMapped := !tt.refused && tt.page <= imageAlign; (len(mapped) == 2) != wantMapped {
				t.Errorf("mapped %+v, want both runs mapped: %v", mapped, wantMapped)
			}
			if !bytes.Equal(bytes.TrimRight(mem, "\x00"), want) {
				t.Error("the memory differs from the original's image")
			}
		})
	}
}

// TestCustomSectionsNotKept: a module without DWARF is compiled with
// wazero's debug info off, so that wazero keeps none of its custom
// sections (a memory image would stay in every runner's heap); one with
// DWARF keeps it on, and its sections.
func TestCustomSectionsNotKept(t *testing.T) {
	ctx := context.Background()
	out, _ := mergeData(imageModule(imageSegs...))
	dwarf := append(append([]byte(nil), out...), 0, 13, 11)
	dwarf = append(dwarf, ".debug_info\x00"...)
	for _, tt := range []struct {
		name string
		bin  []byte
		kept int
	}{{"no DWARF", out, 0}, {"DWARF", dwarf, 2}} {
		path := filepath.Join(t.TempDir(), "m.wasm")
		os.WriteFile(path, tt.bin, 0o644)
		m, err := Load(ctx, LoadConfig{Path: path, Checked: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m.Compiled.CustomSections()); got != tt.kept {
			t.Errorf("%s: wazero keeps %d custom sections, want %d", tt.name, got, tt.kept)
		}
		m.Close(ctx)
	}
}
