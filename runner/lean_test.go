//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
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
	if _, ok := leanModule([]byte("\x00asm\x01\x00\x00\x00")); ok {
		t.Error("a module without code has a lean form")
	}
}

// TestLean: a host makes the lean form of a module in the cache; a
// runner's load of it produces the module's machine code; and every way
// it could produce anything else is refused (the runner then loads the
// module itself), while the next run's LeanOf makes it again.
func TestLean(t *testing.T) {
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
	runner := LoadConfig{Path: p.Path, CacheDir: cache, Checked: true, Shared: true, Lean: *lean,
		Logger: hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})}
	// Every module loaded stays loaded to the end, and those closed (a
	// refused load's) are unmapped first: one unmapped during a load could
	// leave its machine code's place to the load's, which would then not
	// be found new (a runner loads one module; a test several).
	load := func(t *testing.T, cfg LoadConfig) bool {
		t.Helper()
		settleMappings()
		m := LoadLean(ctx, cfg)
		if m != nil {
			t.Cleanup(func() { m.Close(ctx) })
		}
		return m != nil
	}
	if !load(t, runner) {
		t.Fatal("the lean form did not load")
	}
	mended := func(t *testing.T) {
		t.Helper()
		l, err := LeanOf(ctx, p)
		if err != nil {
			t.Fatalf("LeanOf did not make the lean form again: %v", err)
		}
		if !load(t, runner) {
			t.Error("the lean form did not load once made again")
		}
		if *l != *lean {
			t.Errorf("made again: %+v, want %+v", l, lean)
		}
	}

	t.Run("another code", func(t *testing.T) {
		c := runner
		c.Lean.Code = "00000000-4096"
		if load(t, c) {
			t.Error("a lean load that made other machine code than --lean-code was taken")
		}
	})
	t.Run("entry missing", func(t *testing.T) {
		// Refused before the load: the lean name is not the module's
		// entry (were it removed after that look, wazero would compile
		// the lean module and write it there: as in "entry stale").
		if err := os.Remove(lean.Entry); err != nil {
			t.Fatal(err)
		}
		if load(t, runner) {
			t.Fatal("a lean load without the module's entry was taken")
		}
		if sameFile(lean.Entry, lean.Full) {
			t.Fatal("the lean name holds the module's entry after a load that compiled it")
		}
		mended(t)
	})
	t.Run("entry stale", func(t *testing.T) {
		// Cut short by 4 bytes, wazero finds the entry stale after it
		// mapped its machine code: it deletes it, compiles the lean
		// module and writes that; the code it mapped first stays mapped.
		fi, err := os.Stat(lean.Full)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(lean.Full, fi.Size()-4); err != nil {
			t.Fatal(err)
		}
		if load(t, runner) {
			t.Fatal("a lean load of a stale entry was taken")
		}
		if _, err := LeanOf(ctx, p); err == nil {
			t.Error("LeanOf made a lean form of a module whose entry is stale")
		}
	})
	t.Run("module's entry gone", func(t *testing.T) {
		os.Remove(lean.Full)
		if l, err := LeanOf(ctx, p); err == nil || l != nil {
			t.Errorf("LeanOf = %+v, %v; want an error: the module is not in the cache", l, err)
		}
	})
	t.Run("no lean form", func(t *testing.T) {
		// A module whose machine code is too small to tell from its lean
		// form's: said once, remembered, not tried again.
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
