//go:build linux

package runner

import (
	"bytes"
	"context"
	"encoding/json"
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
// module itself), while the next run's FindLean mends the link.
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
	if FindLean(p) != nil {
		t.Fatal("FindLean before MakeLean found a lean form")
	}
	lean, err := MakeLean(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if again := FindLean(p); again == nil || *again != *lean {
		t.Fatalf("FindLean = %+v, want %+v", again, lean)
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
	_, statePath, _ := p.leanPaths()
	var st leanState
	if b, err := os.ReadFile(statePath); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	leanEntry, full := filepath.Join(cache, st.Dir, st.Lean), filepath.Join(cache, st.Dir, st.Full)

	t.Run("another code", func(t *testing.T) {
		c := runner
		c.Lean.Code = "00000000-4096"
		if load(t, c) {
			t.Error("a lean load that made other machine code than --lean-code was taken")
		}
	})
	t.Run("entry missing", func(t *testing.T) {
		// wazero compiles the lean module itself (its traps) and
		// writes them under the lean name: refused, then mended.
		if err := os.Remove(leanEntry); err != nil {
			t.Fatal(err)
		}
		if load(t, runner) {
			t.Fatal("a lean load without the module's entry was taken")
		}
		if li, err := os.Stat(leanEntry); err != nil {
			t.Logf("no entry written under the lean name (%v)", err)
		} else if fi, _ := os.Stat(full); os.SameFile(li, fi) {
			t.Fatal("the lean name holds the module's entry after a load that compiled it")
		}
		if again := FindLean(p); again == nil {
			t.Fatal("FindLean did not mend the link")
		}
		if !load(t, runner) {
			t.Error("the lean form did not load once mended")
		}
	})
	t.Run("module's entry gone", func(t *testing.T) {
		if err := os.Remove(full); err != nil {
			t.Fatal(err)
		}
		if FindLean(p) != nil {
			t.Error("FindLean gave a lean form whose module is not in the cache")
		}
	})
}

// testWriter writes a log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSuffix(b, []byte("\n"))))
	return len(b), nil
}
