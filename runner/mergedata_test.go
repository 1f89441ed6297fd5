package runner

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// image applies a module's active data segments to a zeroed memory, as an
// instantiation does, and counts them; ok false if the data section is
// not made of active segments of memory 0 at constant offsets.
func image(t *testing.T, bin []byte) (mem []byte, count int) {
	t.Helper()
	for id, content := range sections(bin) {
		if id != 11 {
			continue
		}
		s := &scanner{b: content}
		for n := s.count(); n > 0; n-- {
			if s.u32() != 0 || s.byte() != 0x41 {
				t.Fatal("not an active segment of memory 0")
			}
			off := int(uint32(s.s32()))
			s.byte()
			k := s.count()
			if need := off + k; need > len(mem) {
				mem = append(mem, make([]byte, need-len(mem))...)
			}
			copy(mem[off:], s.b[s.off:s.off+k])
			s.skip(k)
			count++
		}
		if s.err != nil {
			t.Fatal(s.err)
		}
	}
	// A memory image (the rewrite's) writes its runs as segments would.
	for _, run := range memoryImage(bin) {
		if need := int(run.memOff + run.length); need > len(mem) {
			mem = append(mem, make([]byte, need-len(mem))...)
		}
		copy(mem[run.memOff:], bin[run.fileOff:run.fileOff+run.length])
		count++
	}
	return bytes.TrimRight(mem, "\x00"), count
}

// TestMergeDataGuests: the guests, Go modules with tens of thousands of
// data segments, become modules with a few that leave the same memory,
// that wazero accepts, and that are otherwise the same bytes.
func TestMergeDataGuests(t *testing.T) {
	for _, dir := range []string{"internal/testguests/probe", "guests/hello_processes"} {
		bin, err := os.ReadFile("../" + dir + ".wasm")
		if err != nil {
			t.Fatalf("%v (build it with make testguests guests)", err)
		}
		out, ok := mergeData(bin)
		if !ok {
			t.Fatalf("%s: not merged", dir)
		}
		before, n := image(t, bin)
		after, m := image(t, out)
		t.Logf("%s: %d segments -> %d, %d -> %d bytes", dir, n, m, len(bin), len(out))
		if m >= n/100 {
			t.Errorf("%s: %d segments -> %d", dir, n, m)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("%s: the merged segments leave other bytes in memory", dir)
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		start := time.Now()
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Errorf("%s: the merged module does not compile: %v", dir, err)
		}
		t.Logf("compiled in %v", time.Since(start))
		rt.Close(ctx)
	}
}

// TestMergeDataLeavesAlone: modules where merging could change what a
// guest sees, or that are not valid, come back unchanged.
func TestMergeDataLeavesAlone(t *testing.T) {
	const hdr = "\x00asm\x01\x00\x00\x00"
	mem := "\x05\x03\x01\x00\x01" // one memory, 1 page
	seg := func(off byte, data string) string {
		return "\x00\x41" + string([]byte{off}) + "\x0b" + string([]byte{byte(len(data))}) + data
	}
	data := func(segs ...string) string {
		c := string([]byte{byte(len(segs))})
		for _, s := range segs {
			c += s
		}
		return "\x0b" + string([]byte{byte(len(c))}) + c
	}
	tests := []struct {
		name, bin string
		merged    bool
	}{
		{"in order", hdr + mem + data(seg(1, "ab"), seg(8, "cd")), true},
		{"out of order", hdr + mem + data(seg(8, "cd"), seg(1, "ab")), true},
		{"overlapping", hdr + mem + data(seg(1, "abcd"), seg(3, "xy")), false},
		{"overlapping out of order", hdr + mem + data(seg(3, "xy"), seg(9, "z"), seg(1, "abcd")), false},
		{"one segment", hdr + mem + data(seg(1, "ab")), false},
		{"a data count section", hdr + mem + "\x0c\x01\x02" + data(seg(1, "ab"), seg(8, "cd")), false},
		{"a passive segment", hdr + mem + data(seg(1, "ab"), "\x01\x02cd"), false},
		{"truncated", (hdr + mem + data(seg(1, "ab"), seg(8, "cd")))[:20], false},
		{"not wasm", "hello", false},
	}
	for _, tt := range tests {
		out, ok := mergeData([]byte(tt.bin))
		if ok != tt.merged {
			t.Errorf("%s: merged %v, want %v", tt.name, ok, tt.merged)
		}
		if !ok && string(out) != tt.bin {
			t.Errorf("%s: not merged, but changed", tt.name)
		}
		if ok {
			before, _ := image(t, []byte(tt.bin))
			after, n := image(t, out)
			if n != 1 || !bytes.Equal(before, after) {
				t.Errorf("%s: %d segments, memory %q, want 1 and %q", tt.name, n, after, before)
			}
		}
	}
}

// TestLoadRewrites: Load with a ModulesDir compiles the rewrite, writes it
// once (a second Load takes the file as it is), and a rewrite that does not
// load (here, a truncated file) leaves the original to run, and is
// replaced by it.
func TestLoadRewrites(t *testing.T) {
	ctx := context.Background()
	orig := "../internal/testguests/probe.wasm"
	if _, err := os.Stat(orig); err != nil {
		t.Fatalf("%v (build it with make testguests)", err)
	}
	dir := t.TempDir()
	cfg := LoadConfig{Path: orig, CacheDir: t.TempDir(), ModulesDir: dir}
	m, err := Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := m.Path
	m.Close(ctx)
	if filepath.Dir(rewrite) != dir {
		t.Fatalf("Path %s, want a rewrite in %s", rewrite, dir)
	}
	st, err := os.Stat(rewrite)
	if err != nil {
		t.Fatal(err)
	}
	// Made long ago: a Load that rewrote it again would change the time.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(rewrite, old, old)
	if m, err = Load(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	if st2, _ := os.Stat(rewrite); m.Path != rewrite || !st2.ModTime().Equal(old) || st2.Size() != st.Size() {
		t.Errorf("second Load: Path %s, file rewritten (%v)", m.Path, st2.ModTime())
	}

	b, _ := os.ReadFile(rewrite)
	os.WriteFile(rewrite, b[:len(b)/2], 0o644)
	if m, err = Load(ctx, cfg); err != nil {
		t.Fatalf("a truncated rewrite made Load fail: %v", err)
	}
	m.Close(ctx)
	if m.Path != orig {
		t.Errorf("Path %s after a truncated rewrite, want the original %s", m.Path, orig)
	}
	// The rewrite that did not load was replaced by the original: what
	// runners load from there from now on loads.
	if m, err = Load(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	want, _ := os.ReadFile(orig)
	if got, _ := os.ReadFile(rewrite); m.Path != rewrite || !bytes.Equal(got, want) {
		t.Errorf("after the fallback: Path %s, rewrite holds the original: %v", m.Path, bytes.Equal(got, want))
	}
}

// TestStaleTempsRemoved: a host's Prepare removes the temporary files
// that writers killed in the middle left in the modules folder, and
// leaves those being written now (and a runner's Prepare, Shared, leaves
// all).
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	module := filepath.Join(dir, "m.wasm")
	os.WriteFile(module, imageModule(), 0o644)
	modules := filepath.Join(dir, "modules")
	os.MkdirAll(modules, 0o755)
	old := time.Now().Add(-time.Hour)
	temps := map[string]bool{ // name: removed by the host
		moduleTemp + "1": true, codeTemp + "2": true, moduleTemp + "3": false, codeTemp + "4": false,
	}
	for name, stale := range temps {
		os.WriteFile(filepath.Join(modules, name), []byte("half"), 0o600)
		if stale {
			os.Chtimes(filepath.Join(modules, name), old, old)
		}
	}
	if _, err := Prepare(LoadConfig{Path: module, ModulesDir: modules, Shared: true}); err != nil {
		t.Fatal(err)
	}
	for name := range temps {
		if !exists(filepath.Join(modules, name)) {
			t.Errorf("a runner's Prepare removed %s", name)
		}
	}
	if _, err := Prepare(LoadConfig{Path: module, ModulesDir: modules}); err != nil {
		t.Fatal(err)
	}
	for name, stale := range temps {
		if exists(filepath.Join(modules, name)) == stale {
			t.Errorf("%s (stale %v): there after the host's Prepare: %v", name, stale, !stale)
		}
	}
}

// imageSegs are the data segments of imageModule's test module: three,
// which the rewrite makes two runs of a memory image, one starting
// mid-page and one more than imageAlign past it.
var imageSegs = []struct {
	off  int64
	data string
}{{70000, "abc"}, {70010, "def"}, {200000, "xyz"}}

// imageModule is a module of 4 pages of memory, exported, with the
// active data segments segs.
func imageModule(segs ...struct {
	off  int64
	data string
}) []byte {
	bin := []byte("\x00asm\x01\x00\x00\x00")
	bin = append(bin, "\x05\x03\x01\x00\x04"...)           // memory: min 4 pages
	bin = append(bin, "\x07\x0a\x01\x06memory\x02\x00"...) // export "memory"
	var data []byte
	for _, seg := range segs {
		data = append(data, 0, 0x41)
		data = appendSleb(data, seg.off)
		data = append(data, 0x0b)
		data = binary.AppendUvarint(data, uint64(len(seg.data)))
		data = append(data, seg.data...)
	}
	data = append(binary.AppendUvarint(nil, uint64(len(segs))), data...)
	bin = append(bin, 11)
	bin = binary.AppendUvarint(bin, uint64(len(data)))
	return append(bin, data...)
}

// TestMemoryImageOnlyWhereItHolds: a module whose data reaches past its
// initial memory (its instantiation fails), or whose runs would be more
// than an image may name, gets the merged data section, which leaves the
// same memory; an empty segment far from the rest does not lose the
// others; a module with a "sandbox.memory" section of its own is left
// alone.
func TestMemoryImageOnlyWhereItHolds(t *testing.T) {
	small := imageModule(imageSegs...)
	copy(small[bytes.Index(small, []byte("\x05\x03\x01\x00\x04")):], "\x05\x03\x01\x00\x02") // 2 pages: 200000 is past them
	type seg = struct {
		off  int64
		data string
	}
	var many []seg
	for i := range maxImageRuns + 1 {
		many = append(many, seg{int64(i) * (imageAlign + 2), "x"})
	}
	manyMod := bytes.Replace(imageModule(many...), []byte("\x05\x03\x01\x00\x04"), []byte("\x05\x04\x01\x00\x80\x10"), 1) // 2048 pages
	tests := []struct {
		name  string
		bin   []byte
		image bool
	}{
		{"data past the initial memory", small, false},
		{"more runs than an image names", manyMod, false},
		{"an empty segment far from the rest", imageModule(seg{70000, "abc"}, seg{70010, "def"}, seg{200000, ""}), linearImages},
	}
	for _, tt := range tests {
		out, ok := mergeData(tt.bin)
		if !ok {
			t.Errorf("%s: not rewritten", tt.name)
			continue
		}
		if got := memoryImage(out) != nil; got != tt.image {
			t.Errorf("%s: image %v, want %v", tt.name, got, tt.image)
		}
		before, _ := image(t, tt.bin)
		after, _ := image(t, out)
		if !bytes.Equal(before, after) {
			t.Errorf("%s: the rewrite leaves other bytes in memory", tt.name)
		}
	}
	theirs := append(imageModule(imageSegs...), 0, 16, 14)
	theirs = append(theirs, imageSection...)
	theirs = append(theirs, 0)
	if out, ok := mergeData(theirs); ok || !bytes.Equal(out, theirs) {
		t.Errorf("a module with a %s section of its own was rewritten", imageSection)
	}
}

// TestMemoryImageTable: a "sandbox.memory" table that breaks a rule
// appendImage keeps is no image at all.
func TestMemoryImageTable(t *testing.T) {
	// A module whose image section holds the table runs (memory offset,
	// length, file offset), its bytes up to 3 x imageAlign past it.
	module := func(runs ...[3]uint32) []byte {
		bin := []byte("\x00asm\x01\x00\x00\x00")
		var c []byte
		c = append(c, byte(len(imageSection)))
		c = append(c, imageSection...)
		c = binary.LittleEndian.AppendUint32(c, uint32(len(runs)))
		for _, r := range runs {
			for _, v := range r {
				c = binary.LittleEndian.AppendUint32(c, v)
			}
		}
		c = append(c, make([]byte, 3*imageAlign)...)
		bin = append(bin, 0)
		bin = binary.AppendUvarint(bin, uint64(len(c)))
		return append(bin, c...)
	}
	const a = imageAlign
	tests := []struct {
		name string
		runs [][3]uint32
		ok   bool
	}{
		{"one run", [][3]uint32{{a + 5, 10, a + 5}}, true},
		{"two runs", [][3]uint32{{5, 10, a + 5}, {3*a + 7, 10, 2*a + 7}}, true},
		{"none", nil, false},
		{"empty run", [][3]uint32{{a + 5, 0, a + 5}}, false},
		{"past the file", [][3]uint32{{a + 5, 3 * a, a + 5}}, false},
		{"not congruent", [][3]uint32{{a + 5, 10, a + 6}}, false},
		{"past 4 GiB of memory", [][3]uint32{{1<<32 - 5, 10, a + (a - 5)}}, false},
		{"out of order", [][3]uint32{{3*a + 7, 10, 2*a + 7}, {5, 10, a + 5}}, false},
		{"closer than imageAlign", [][3]uint32{{5, 10, a + 5}, {a + 7, 10, 2*a + 7}}, false},
	}
	for _, tt := range tests {
		if got := memoryImage(module(tt.runs...)) != nil; got != tt.ok {
			t.Errorf("%s: image %v, want %v", tt.name, got, tt.ok)
		}
	}
	if memoryImage([]byte("not a module, but long enough")) != nil {
		t.Error("an image in a file that is not a module")
	}
}
