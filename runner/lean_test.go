//go:build linux

package runner

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// TestLeanModule: the lean form of a rewritten Go guest has every body
// replaced, the same function count, and the same memory image (its runs
// laid out again, page-aligned in its own file); and it compiles.
func TestLeanModule(t *testing.T) {
	bin, err := os.ReadFile(probeModule(t))
	if err != nil {
		t.Fatal(err)
	}
	merged, ok := mergeData(bin)
	if !ok || memoryImage(merged) == nil {
		t.Fatal("the probe guest has no memory image once rewritten")
	}
	lean, ok := leanModule(merged)
	if !ok {
		t.Fatal("no lean form")
	}
	if len(lean) >= len(merged)-1<<20 {
		t.Errorf("lean form of %d bytes for a module of %d: its bodies were kept", len(lean), len(merged))
	}
	counts := func(b []byte) (funcs uint32, other [][]byte) {
		for id, content := range sections(b) {
			switch name, _ := customName(content); {
			case id == 10:
				funcs = (&scanner{b: content}).u32()
			case id == 0 && name == imageSection:
			default:
				other = append(other, content)
			}
		}
		return funcs, other
	}
	nf, of := counts(merged)
	nl, ol := counts(lean)
	if nf == 0 || nf != nl {
		t.Errorf("functions: %d in the lean form, %d in the module", nl, nf)
	}
	if len(of) != len(ol) {
		t.Fatalf("%d other sections in the lean form, %d in the module", len(ol), len(of))
	}
	for i := range of {
		if !bytes.Equal(of[i], ol[i]) {
			t.Errorf("section %d differs", i)
		}
	}
	rf, rl := memoryImage(merged), memoryImage(lean)
	if len(rf) != len(rl) {
		t.Fatalf("%d runs in the lean form's image, %d in the module's", len(rl), len(rf))
	}
	for i := range rf {
		a, b := rf[i], rl[i]
		if a.memOff != b.memOff || a.length != b.length ||
			!bytes.Equal(merged[a.fileOff:a.fileOff+a.length], lean[b.fileOff:b.fileOff+b.length]) {
			t.Errorf("run %d differs: %+v against %+v", i, b, a)
		}
	}
	if err := compileInto(context.Background(), t.TempDir(), lean); err != nil {
		t.Errorf("the lean form does not compile: %v", err)
	}
	// What wazero compiles of it: all but the image, its last section.
	compiled := leanCompiled(lean)
	if len(compiled) >= len(lean)-int(rl[len(rl)-1].length) || memoryImage(compiled) != nil {
		t.Errorf("leanCompiled kept the image: %d of %d bytes", len(compiled), len(lean))
	}
	if _, other := counts(compiled); len(other) != len(ol) {
		t.Errorf("leanCompiled kept %d other sections of %d", len(other), len(ol))
	}
	if err := compileInto(context.Background(), t.TempDir(), compiled); err != nil {
		t.Errorf("leanCompiled does not compile: %v", err)
	}
	if got := leanCompiled(merged[:len(merged)-1]); len(got) != len(merged)-1 {
		t.Error("leanCompiled cut a module whose image is not its last section whole")
	}
	if _, ok := leanModule([]byte("\x00asm\x01\x00\x00\x00")); ok {
		t.Error("a module without code has a lean form")
	}
}

// TestLean: a host makes the lean form of a module in the cache; a
// runner's load of it runs the module's machine code (the guest runs as
// the module loaded itself does, to the same stack trace); and every way
// it could run anything else is refused (the runner then loads the module
// itself), while the next run's LeanOf makes it again, or a load of the
// module itself mends it.
func TestLean(t *testing.T) {
	// Code files written a moment ago are vouched for at once.
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	ctx := context.Background()
	cache := t.TempDir()
	host := LoadConfig{Path: probeModule(t), CacheDir: cache, ModulesDir: ModulesDir(cache), CompileWorkers: 2}
	p, err := Prepare(host)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := p.Load(ctx); err != nil {
		t.Fatal(err)
	} else {
		m.Close(ctx)
	}
	lean, err := LeanOf(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := LeanOf(ctx, p); err != nil || *again != *lean {
		t.Fatalf("LeanOf again = %+v, %v; want %+v", again, err, lean)
	}
	runner := LoadConfig{Path: p.Path, CacheDir: cache, Checked: true, Shared: true, ShareCode: true, Lean: *lean,
		Logger: hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})}
	load := func(t *testing.T, cfg LoadConfig) *Module {
		t.Helper()
		m := LoadLean(ctx, cfg)
		if m != nil {
			t.Cleanup(func() { m.Close(ctx) })
		}
		return m
	}
	before := startMappings(t, lean.Path) // (LeanOf's own load mapped it too)
	m := load(t, runner)
	if m == nil {
		t.Fatal("the lean form did not load")
	}
	if after := startMappings(t, lean.Path); len(after) <= len(before) {
		t.Error("the lean module's bytes were read into the heap, not mapped from its file")
	}
	// A module closed during a load that shares its code could leave its
	// code's place to that load's, which would then not be found new: the
	// modules loaded here stay loaded to the end (as a runner loads one).
	loadFull := func(t *testing.T) *Module {
		t.Helper()
		full := runner
		full.Lean = Lean{}
		fm, err := Load(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fm.Close(ctx) })
		return fm
	}
	want := runUntilSandbox(t, loadFull(t))
	t.Run("runs the module", func(t *testing.T) {
		if got := runUntilSandbox(t, m); got != want {
			t.Errorf("the lean load ran to\n%s\nthe module itself to\n%s", got, want)
		}
		if !strings.Contains(want, "wasm stack trace:") || !strings.Contains(want, "main.main") {
			t.Errorf("no stack trace through main.main:\n%s", want)
		}
		if !codeFileMapped(t, m, lean.codeFile(cache)) {
			t.Errorf("the lean load does not run code mapped from %s", lean.codeFile(cache))
		}
		// Closed, its code is unmapped by wazero's finalizer (which
		// panics if the mapping is not one it can unmap).
		other := LoadLean(ctx, runner)
		if other == nil {
			t.Fatal("the lean form did not load again")
		}
		other.Close(ctx)
		other = nil
		runtime.GC()
		runtime.GC()
	})
	t.Run("lean module's entry missing", func(t *testing.T) {
		// The runner's wazero compiles the lean module (and writes its
		// entry), and the module's code is put in its place all the same.
		var st leanState
		_, statePath, _ := p.leanPaths()
		if b, err := os.ReadFile(statePath); err != nil || json.Unmarshal(b, &st) != nil || st.Lean == "" {
			t.Fatalf("state: %v %+v", err, st)
		}
		if err := os.Remove(filepath.Join(cache, st.Dir, st.Lean)); err != nil {
			t.Fatal(err)
		}
		lm := load(t, runner)
		if lm == nil {
			t.Fatal("the lean form did not load without its own entry")
		}
		if got := runUntilSandbox(t, lm); got != want {
			t.Errorf("the lean load ran to\n%s\nthe module itself to\n%s", got, want)
		}
		if !exists(filepath.Join(cache, st.Dir, st.Lean)) {
			t.Error("the lean module's entry was not written")
		}
	})
	refused := func(t *testing.T, cfg LoadConfig, why string) {
		t.Helper()
		if load(t, cfg) != nil {
			t.Errorf("a lean load was taken: %s", why)
		}
	}
	mended := func(t *testing.T) {
		t.Helper()
		l, err := LeanOf(ctx, p)
		if err != nil {
			t.Fatalf("LeanOf did not make the lean form again: %v", err)
		}
		if load(t, runner) == nil {
			t.Error("the lean form did not load once made again")
		}
		// (The code file's version differs when it was written again.)
		if got, want := *l, *lean; got.Verified == "" || got.Verified != codeVersionOf(t, l, cache) {
			t.Errorf("made again: code file version %q, not the file's", got.Verified)
		} else if got.Verified, want.Verified = "", ""; got != want {
			t.Errorf("made again: %+v, want %+v", l, lean)
		}
	}
	t.Run("state outdated", func(t *testing.T) {
		// LeanOf makes the lean form again when the module's entry holds
		// other code than the state's (a module compiled again), or the
		// lean module's entry is the module's (linked there by a build
		// of the form before).
		_, statePath, _ := p.leanPaths()
		var st leanState
		if b, err := os.ReadFile(statePath); err != nil || json.Unmarshal(b, &st) != nil {
			t.Fatal(err)
		}
		edited := st
		edited.Sum++
		b, _ := json.Marshal(edited)
		if err := writeFileAtomic(statePath, b); err != nil {
			t.Fatal(err)
		}
		mended(t)
		leanEntry := filepath.Join(cache, st.Dir, st.Lean)
		if err := os.Remove(leanEntry); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(lean.Full, leanEntry); err != nil {
			t.Fatal(err)
		}
		mended(t)
		if sameFile(leanEntry, lean.Full) {
			t.Error("the lean module's entry is still the module's")
		}
		if b, err := os.ReadFile(statePath); err != nil || json.Unmarshal(b, &edited) != nil || edited != st {
			t.Errorf("state made again: %+v, want %+v", edited, st)
		}
	})
	t.Run("another code file", func(t *testing.T) {
		c := runner
		c.Lean.Code = "00000000-4096"
		refused(t, c, "code file missing")
		c.Lean.Code = "../" + lean.Code
		refused(t, c, "code file outside the modules folder")
	})
	t.Run("another lean module", func(t *testing.T) {
		c := runner
		c.Lean.ID = strings.Repeat("00", 32)
		refused(t, c, "lean module of another ID")
	})
	t.Run("another module's entry", func(t *testing.T) {
		// The entry and code file of a module of one function: as they
		// should be, but not the lean module's.
		other := t.TempDir()
		if err := compileInto(ctx, other, smallModule()); err != nil {
			t.Fatal(err)
		}
		entries, _ := filepath.Glob(filepath.Join(other, "*", "*"))
		if len(entries) != 1 {
			t.Fatalf("entries: %q", entries)
		}
		code, _, err := entryCode(entries[0])
		if err != nil {
			t.Fatal(err)
		}
		c := runner
		c.Lean.Code = "small"
		c.Lean.Full = filepath.Join(cache, wazeroDir(), "small-entry")
		if err := os.Rename(entries[0], c.Lean.Full); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ModulesDir(cache), "small.code"), code, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := mapLeanCode(&c.Lean, cache); err != nil {
			t.Fatalf("the small module's entry and code do not map: %v", err)
		}
		refused(t, c, "another module's entry and code")
	})
	t.Run("code file changed in place", func(t *testing.T) {
		// The host sums the code file once per version of it, and a
		// runner that maps that version does not sum it again; a write
		// in place makes another version: the runner sums it (and
		// refuses it), and so does LeanOf, which writes it again.
		name := lean.codeFile(cache)
		before := codeVersionOf(t, lean, cache)
		if lean.Verified == "" || lean.Verified != before {
			t.Fatalf("LeanOf's code file version %q, not the file's %q", lean.Verified, before)
		}
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		at := fi.Size() / 2
		if _, err := f.ReadAt(b, at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 1
		// A write changes the file's times by the clock's tick: written
		// again until they change.
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := f.WriteAt(b, at); err != nil {
				t.Fatal(err)
			}
			if codeVersionOf(t, lean, cache) != before {
				break
			}
			if time.Now().After(deadline) {
				b[0] ^= 1
				f.WriteAt(b, at)
				t.Skip("the file system's times did not change within 3 s of a write")
			}
		}
		damaged := codeVersionOf(t, lean, cache)
		refused(t, runner, "code file changed in place, vouched for before")
		c := runner
		c.Lean.Verified = damaged
		if lc, err := mapLeanCode(&c.Lean, cache); err != nil {
			t.Errorf("the version vouched for was summed: %v", err)
		} else {
			lc.unmap()
		}
		size, sum, err := entrySum(lean.Full)
		if err != nil {
			t.Fatal(err)
		}
		fi, err = os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"", codeVersion(fi, size, sum+1), codeVersion(fi, size-1, sum)} {
			c.Lean.Verified = v
			if _, err := mapLeanCode(&c.Lean, cache); err == nil {
				t.Errorf("a damaged code file mapped, vouched for as %q (not for the entry's code)", v)
			}
		}
		mended(t)
		if again, err := LeanOf(ctx, p); err != nil || again.Verified == damaged {
			t.Errorf("LeanOf = %+v, %v: the damaged version vouched for", again, err)
		}
	})
	t.Run("changed just now", func(t *testing.T) {
		// Not vouched for (a write within the clock's tick would not
		// change its times), but found right.
		defer func(w time.Duration) { racyWindow = w }(racyWindow)
		racyWindow = time.Hour
		_, statePath, _ := p.leanPaths()
		var st leanState
		if b, err := os.ReadFile(statePath); err != nil || json.Unmarshal(b, &st) != nil {
			t.Fatal(err)
		}
		st.Verified = "" // (as if never vouched for)
		if !st.verified(p, st.lean(p).codeFile(cache), statePath) || st.Verified != "" {
			t.Errorf("a file changed within the racy window: verified %+v", st)
		}
	})
	t.Run("a version summed once", func(t *testing.T) {
		// The host sums each version of the code file once: a new
		// version with the same bytes (its times touched) is summed,
		// found right, and kept in the state and given to the runners;
		// a version the state holds is taken with no sum, even of a file
		// that no longer holds the code (a runner that maps another
		// version sums it).
		_, statePath, _ := p.leanPaths()
		stateVerified := func(t *testing.T) string {
			t.Helper()
			var st leanState
			if b, err := os.ReadFile(statePath); err != nil || json.Unmarshal(b, &st) != nil {
				t.Fatalf("the lean state: %v", err)
			}
			return st.Verified
		}
		name := lean.codeFile(cache)
		old := codeVersionOf(t, lean, cache)
		touched := time.Now().Add(-time.Hour)
		if err := os.Chtimes(name, touched, touched); err != nil {
			t.Fatal(err)
		}
		v := codeVersionOf(t, lean, cache)
		if v == old {
			t.Skip("touching the file did not change its version")
		}
		if l, err := LeanOf(ctx, p); err != nil || l.Verified != v || stateVerified(t) != v {
			t.Fatalf("a new version of the same code: LeanOf %+v, %v, the state's %q; want %q in both", l, err, stateVerified(t), v)
		}
		// The state's version taken as it is: one byte of the file
		// changed, its version written into the state.
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		at := int64(len(b) / 2)
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte{b[at] ^ 1}, at); err != nil {
			t.Fatal(err)
		}
		var st leanState
		if raw, err := os.ReadFile(statePath); err != nil || json.Unmarshal(raw, &st) != nil {
			t.Fatal(err)
		}
		st.Verified = codeVersionOf(t, lean, cache)
		raw, _ := json.Marshal(st)
		if err := writeFileAtomic(statePath, raw); err != nil {
			t.Fatal(err)
		}
		if l, err := LeanOf(ctx, p); err != nil || l.Verified != st.Verified {
			t.Errorf("the state's version was not taken as it is: LeanOf %+v, %v (summed, or made again)", l, err)
		}
		if _, err := f.WriteAt(b[at:at+1], at); err != nil {
			t.Fatal(err)
		}
		mended(t)
	})
	t.Run("code file damaged", func(t *testing.T) {
		// One byte changed: refused; the load of the module itself
		// (the runner's next step) writes the file again.
		name := lean.codeFile(cache)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 1
		if err := writeFileAtomic(name, b); err != nil {
			t.Fatal(err)
		}
		refused(t, runner, "code file damaged")
		loadFull(t)
		if load(t, runner) == nil {
			t.Error("the lean form did not load once the module's load wrote its code again")
		}
	})
	t.Run("code file gone", func(t *testing.T) {
		if err := os.Remove(lean.codeFile(cache)); err != nil {
			t.Fatal(err)
		}
		refused(t, runner, "code file gone")
		mended(t)
	})
	t.Run("entry stale", func(t *testing.T) {
		// Cut short by 4 bytes (wazero finds it stale when it reads it).
		fi, err := os.Stat(lean.Full)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(lean.Full, fi.Size()-4); err != nil {
			t.Fatal(err)
		}
		refused(t, runner, "module's entry stale")
		if l, err := LeanOf(ctx, p); err == nil {
			t.Errorf("LeanOf gave %+v for a module whose entry is stale", l)
		}
	})
	t.Run("module's entry gone", func(t *testing.T) {
		os.Remove(lean.Full)
		refused(t, runner, "module's entry gone")
		if l, err := LeanOf(ctx, p); err == nil || l != nil {
			t.Errorf("LeanOf = %+v, %v; want an error: the module is not in the cache", l, err)
		}
	})
	t.Run("no lean form", func(t *testing.T) {
		// A module whose machine code is too small to be worth a lean
		// form: said once, remembered, not tried again.
		dir := t.TempDir()
		path := filepath.Join(dir, "small.wasm")
		if err := os.WriteFile(path, smallModule(), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := host
		cfg.Path = path
		q, err := Prepare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if q.merged == nil {
			t.Fatal("the small module was not rewritten")
		}
		if m, err := q.Load(ctx); err != nil {
			t.Fatal(err)
		} else {
			m.Close(ctx)
		}
		if l, err := LeanOf(ctx, q); !errors.Is(err, errNoLeanForm) || l != nil {
			t.Fatalf("LeanOf = %+v, %v; want errNoLeanForm", l, err)
		}
		base, _, _ := q.leanPaths()
		leans, _ := filepath.Glob(base + ".lean-*")
		if len(leans) != 1 {
			t.Fatalf("lean modules written: %q, want one", leans)
		}
		if err := os.Remove(leans[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := LeanOf(ctx, q); !errors.Is(err, errNoLeanForm) {
			t.Errorf("LeanOf again: %v; want errNoLeanForm", err)
		}
		if exists(leans[0]) {
			t.Error("LeanOf tried again to make the lean form of a module that has none")
		}
	})
}

// runUntilSandbox runs the probe guest m (argument "hello") with every
// function of the sandbox module a trap, and returns how it ended: the
// first call into the sandbox module (mp.Main asks for its role), after
// the Go runtime's start and the package's init, with wazero's stack
// trace of the guest's functions.
func runUntilSandbox(t *testing.T, m *Module) string {
	t.Helper()
	ctx := context.Background()
	b := m.Runtime.NewHostModuleBuilder(hostfuncs.ModuleName)
	for _, f := range m.Compiled.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == hostfuncs.ModuleName {
			b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {
				panic("trap: " + name)
			}), f.ParamTypes(), f.ResultTypes()).Export(name)
		}
	}
	sb, err := b.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	wasi, err := wasi_snapshot_preview1.Instantiate(ctx, m.Runtime)
	if err != nil {
		t.Fatal(err)
	}
	defer wasi.Close(ctx)
	mems := linearMemories{image: m.image}
	defer mems.free()
	_, err = instantiate(withLinearMemory(ctx, &mems), m, wazero.NewModuleConfig().WithArgs("probe", "hello").WithName(""))
	if err == nil {
		t.Fatal("the guest ended without calling the sandbox module")
	}
	return err.Error()
}

// codeVersionOf is the codeVersion of l's code file, for the code of
// l's entry.
func codeVersionOf(t *testing.T, l *Lean, cache string) string {
	t.Helper()
	fi, err := os.Stat(l.codeFile(cache))
	if err != nil {
		t.Fatal(err)
	}
	size, sum, err := entrySum(l.Full)
	if err != nil {
		t.Fatal(err)
	}
	return codeVersion(fi, size, sum)
}

// startMappings lists where this process maps the file name from its
// first byte (mappings of its inode at offset 0).
func startMappings(t *testing.T, name string) []uint64 {
	t.Helper()
	ino := inodeOf(t, name)
	var starts []uint64
	for _, m := range selfMappings(t) {
		if m.offset == 0 && m.ino == ino {
			starts = append(starts, m.start)
		}
	}
	return starts
}

// selfMappings lists this process's mappings (readMappings).
func selfMappings(t *testing.T) []mapping {
	t.Helper()
	ms, err := readMappings()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// inodeOf is the inode of the file name.
func inodeOf(t *testing.T, name string) uint64 {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// sameFile says a and b name one file.
func sameFile(a, b string) bool {
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// codeFileMapped says whether the machine code m runs is mapped from
// the file name (/proc/self/maps: the mapping that starts where it does,
// and its inode).
func codeFileMapped(t *testing.T, m *Module, name string) bool {
	t.Helper()
	ino := inodeOf(t, name)
	v := reflect.ValueOf(m.Compiled).Elem()
	id := v.FieldByName("module").Elem().FieldByName("ID")
	exe := v.FieldByName("compiledEngine").Elem().Elem().FieldByName("compiledModules").MapIndex(id).Elem().
		FieldByName("compiledModule").Elem().FieldByName("executables").Elem().FieldByName("executable")
	for _, mp := range selfMappings(t) {
		if uintptr(mp.start) == exe.Pointer() {
			return mp.ino == ino
		}
	}
	return false
}

// TestReadEntry: a cache entry is read only when every field a lean load
// relies on is as wazero writes it, for this wazero.
func TestReadEntry(t *testing.T) {
	cache := t.TempDir()
	if err := compileInto(context.Background(), cache, smallModule()); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "*", "*"))
	if len(entries) != 1 {
		t.Fatalf("entries: %q", entries)
	}
	good, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Base(filepath.Dir(entries[0]))
	n := 6 + 1 + int(good[6])    // magic, version
	size := 8 + n + 4 + 8        // function count, one offset
	code := len(good) - 9 - size // the code, then its sum, no source map, no tables
	tests := []struct {
		name string
		dir  string
		edit func(b []byte) []byte
		ok   bool
	}{
		{"as written", dir, func(b []byte) []byte { return b }, true},
		{"another folder", "wazero-v0.0.1-" + runtime.GOARCH + "-" + runtime.GOOS, func(b []byte) []byte { return b }, false},
		{"another version", dir, func(b []byte) []byte { b[7] ^= 1; return b }, false},
		{"another magic", dir, func(b []byte) []byte { b[0] = 'X'; return b }, false},
		{"cut short", dir, func(b []byte) []byte { return b[:len(b)-4] }, false},
		{"longer", dir, func(b []byte) []byte { return append(b, 0) }, false},
		{"a source map", dir, func(b []byte) []byte { b[len(b)-5] = 1; return b }, false},
		{"exception tables", dir, func(b []byte) []byte { b[len(b)-4] = 1; return b }, false},
		{"an offset past the code", dir, func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[n+4:], uint64(code))
			return b
		}, false},
		{"a count past the file", dir, func(b []byte) []byte { binary.LittleEndian.PutUint32(b[n:], 1<<30); return b }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "entry")
			if err := os.WriteFile(path, tt.edit(append([]byte(nil), good...)), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			e, err := readEntry(f, tt.dir)
			if (err == nil) != tt.ok {
				t.Fatalf("readEntry: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (len(e.offsets) != 1 || e.size != code || e.codeAt != int64(size)) {
				t.Errorf("read %+v; want 1 function, %d bytes of code at %d", e, code, size)
			}
		})
	}
}

// TestCompileMakesLean: the background compile of a new module (compiler
// mode) makes its lean form, so that the next run finds it and need not
// make it at its start.
func TestCompileMakesLean(t *testing.T) {
	cache := t.TempDir()
	var out bytes.Buffer
	if code := compileMain([]string{"--cache-dir", cache, "--modules-dir", ModulesDir(cache), probeModule(t)}, &out); code != 0 {
		t.Fatalf("compiler mode: exit %d: %s", code, out.String())
	}
	p, err := Prepare(LoadConfig{Path: probeModule(t), CacheDir: cache, ModulesDir: ModulesDir(cache)})
	if err != nil {
		t.Fatal(err)
	}
	_, statePath, _ := p.leanPaths()
	if !exists(statePath) {
		t.Fatal("no lean form after the background compile")
	}
	if l, err := LeanOf(context.Background(), p); err != nil || l == nil {
		t.Fatalf("LeanOf after the background compile: %+v, %v", l, err)
	}
}

// smallModule is a valid module with one empty function and two data
// segments in its one page of memory: rewritten with a memory image, its
// machine code a few bytes.
func smallModule() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, content ...byte) {
		b = append(b, id, byte(len(content)))
		b = append(b, content...)
	}
	section(1, 1, 0x60, 0, 0)                                                                   // type () -> ()
	section(3, 1, 0)                                                                            // one function of type 0
	section(5, 1, 0, 1)                                                                         // memory: 1 page
	section(7, 2, 6, '_', 's', 't', 'a', 'r', 't', 0, 0, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0) // export "_start" and "memory"
	section(10, 1, 2, 0, 0x0b)                                                                  // its body: no locals, end
	section(11, 2,                                                                              // two data segments
		0, 0x41, 16, 0x0b, 3, 'a', 'b', 'c', // at 16
		0, 0x41, 0x80, 0x02, 0x0b, 2, 'd', 'e') // at 256
	return b
}

// testWriter writes a log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSuffix(b, []byte("\n"))))
	return len(b), nil
}
