package runner

import (
	"bytes"
	"context"
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
	r := &scanner{b: bin, off: 8}
	for r.left() > 0 {
		id := r.byte()
		size := int(r.u32())
		if id != 11 {
			r.skip(size)
			continue
		}
		s := &scanner{b: bin[:r.off+size], off: r.off}
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
		r.off += size
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
