package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// imageModule is a module of 4 pages of memory, exported, whose three
// data segments the rewrite turns into a memory image of two runs: one
// starting mid-page, and one more than imageAlign past it.
func imageModule() []byte {
	bin := []byte("\x00asm\x01\x00\x00\x00")
	bin = append(bin, "\x05\x03\x01\x00\x04"...)           // memory: min 4 pages
	bin = append(bin, "\x07\x0a\x01\x06memory\x02\x00"...) // export "memory"
	var data []byte
	for _, seg := range []struct {
		off  int64
		data string
	}{{70000, "abc"}, {70010, "def"}, {200000, "xyz"}} {
		data = append(data, 0, 0x41)
		data = appendSleb(data, seg.off)
		data = append(data, 0x0b, byte(len(seg.data)))
		data = append(data, seg.data...)
	}
	data = append([]byte{3}, data...)
	bin = append(bin, 11, byte(len(data)))
	return append(bin, data...)
}

// memoryOf instantiates the module at path as a runner does (Load,
// then instantiate with the runner's linear memory) and returns its
// memory's bytes; shared makes the Load a runner's (LoadConfig.Shared),
// and checks the image's pages are the file's, copy-on-write.
func memoryOf(t *testing.T, path string, shared bool) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	m, err := Load(ctx, LoadConfig{Path: path, Checked: true, Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	mems := linearMemories{image: m.image}
	inst, err := instantiate(withLinearMemory(ctx, &mems), m, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		return nil, err
	}
	defer inst.Close(ctx)
	b, _ := inst.Memory().Read(0, inst.Memory().Size())
	out := append([]byte(nil), b...)
	if shared {
		// The image's pages come from the module file, copy-on-write:
		// writing one changes the memory, not the file.
		maps, _ := os.ReadFile("/proc/self/maps")
		if n := strings.Count(string(maps), path); n < 2 {
			t.Errorf("%d mappings of %s, want one per run (2)", n, path)
		}
		inst.Memory().WriteByte(70000, 'A')
		if got, _ := inst.Memory().ReadByte(70000); got != 'A' {
			t.Errorf("a write to the image's page did not land: %q", got)
		}
	}
	return out, nil
}

// TestMemoryImage: the rewrite of a module with data segments inside its
// initial memory has no data section but a memory image, runs at file
// offsets congruent to their memory offsets; an instance of it made as a
// runner makes one (Shared) starts with the very bytes an instance of
// the original does, its image pages mapped copy-on-write from the file;
// a module loaded without Shared refuses to be instantiated, rather than
// starting without its data.
func TestMemoryImage(t *testing.T) {
	orig := imageModule()
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
	for s := (&scanner{b: out, off: 8}); s.left() > 0 && s.err == nil; {
		if id := s.byte(); id == 11 {
			t.Error("the rewrite kept a data section")
		}
		s.skip(int(s.u32()))
	}
	dir := t.TempDir()
	origPath, outPath := filepath.Join(dir, "orig.wasm"), filepath.Join(dir, "image.wasm")
	os.WriteFile(origPath, orig, 0o644)
	os.WriteFile(outPath, out, 0o644)

	want, err := memoryOf(t, origPath, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := memoryOf(t, outPath, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the image's instance starts with other bytes than the original's")
	}
	if string(want[70000:70013]) != "abc\x00\x00\x00\x00\x00\x00\x00def" || string(want[200000:200003]) != "xyz" {
		t.Errorf("the original's memory: %q %q", want[70000:70013], want[200000:200003])
	}
	if after, _ := os.ReadFile(outPath); !bytes.Equal(after, out) {
		t.Error("writing the instance's memory changed the module file")
	}
	if _, err := memoryOf(t, outPath, false); err == nil || !strings.Contains(err.Error(), "memory image was not kept open") {
		t.Errorf("instantiated without its image open: %v", err)
	}
}

// TestMemoryImageOnlyWhereItHolds: a module whose data reaches past its
// initial memory (its instantiation fails), or that carries a
// "sandbox.memory" section already, gets no image.
func TestMemoryImageOnlyWhereItHolds(t *testing.T) {
	small := imageModule()
	copy(small[bytes.Index(small, []byte("\x05\x03\x01\x00\x04")):], "\x05\x03\x01\x00\x02") // 2 pages: 200000 is past them
	out, ok := mergeData(small)
	if !ok || memoryImage(out) != nil {
		t.Errorf("data past the initial memory: rewritten %v, image %+v; want merged segments and no image", ok, memoryImage(out))
	}
	theirs := append(imageModule(), 0, 16, 14)
	theirs = append(theirs, imageSection...)
	theirs = append(theirs, 0)
	if out, ok := mergeData(theirs); ok || !bytes.Equal(out, theirs) {
		t.Errorf("a module with a %s section of its own was rewritten", imageSection)
	}
}
