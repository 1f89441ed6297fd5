package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// probeModule is the probe guest, built by make testguests.
func probeModule(t *testing.T) string {
	t.Helper()
	p := "../internal/testguests/probe.wasm"
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%v (build it with make testguests)", err)
	}
	return p
}

// markers lists the marker files Load left in dir (".compiled",
// ".interpreted").
func markers(t *testing.T, dir string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, ext := range []string{".compiled", ".interpreted"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		got[ext] = len(m) > 0
	}
	return got
}

// compilerOf is the pid of the background compile of the cache dir.
func compilerOf(t *testing.T, cache string) int {
	t.Helper()
	for range 100 {
		dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, d := range dirs {
			b, err := os.ReadFile(d)
			if err != nil || !strings.Contains(string(b), CompileMode) || !strings.Contains(string(b), cache) {
				continue
			}
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no background compile process found")
	return 0
}

// TestInterpretNew: with InterpretNew, the first Load of a module
// interprets it; the next compiles its machine code into the cache (its
// first run may have ended before the background compile did); after
// that Prepare finds it cached.
func TestInterpretNew(t *testing.T) {
	ctx := context.Background()
	modules := t.TempDir()
	cfg := LoadConfig{Path: probeModule(t), CacheDir: t.TempDir(), ModulesDir: modules, InterpretNew: true, CompileWorkers: 2}
	steps := []struct {
		interpret, cached, interpreted bool
		markers                        map[string]bool
	}{
		{interpret: true, interpreted: true, markers: map[string]bool{".interpreted": true, ".compiled": false}},
		{markers: map[string]bool{".interpreted": true, ".compiled": true}},
		{cached: true, markers: map[string]bool{".interpreted": true, ".compiled": true}},
	}
	for i, st := range steps {
		p, err := Prepare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p.Interpret != st.interpret || p.Cached != st.cached {
			t.Errorf("load %d: Interpret %v Cached %v, want %v %v", i+1, p.Interpret, p.Cached, st.interpret, st.cached)
		}
		m, err := p.Load(ctx)
		if err != nil {
			t.Fatalf("load %d: %v", i+1, err)
		}
		m.Close(ctx)
		if m.Interpreted != st.interpreted || m.Path != p.Path {
			t.Errorf("load %d: Interpreted %v (want %v), Path %s (prepared %s)", i+1, m.Interpreted, st.interpreted, m.Path, p.Path)
		}
		if got := markers(t, modules); got[".compiled"] != st.markers[".compiled"] || got[".interpreted"] != st.markers[".interpreted"] {
			t.Errorf("load %d: markers %v, want %v", i+1, got, st.markers)
		}
	}
}

// TestMarkersOfAnotherWazero: a ".compiled" marker names the wazero
// version and architecture whose machine code it vouches for; one left by
// another build is not taken for this build's code, and what a first run
// was (".interpreted") holds across builds. Prepare only: nothing loads.
func TestMarkersOfAnotherWazero(t *testing.T) {
	path := probeModule(t)
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	base := hex.EncodeToString(sum[:])
	other := "v0_0_1-" + runtime.GOARCH // as compiledTag writes a version
	if other == compiledTag() {
		t.Fatalf("the other build's tag %q is this build's", other)
	}
	for _, tc := range []struct {
		name            string
		marks           []string
		interpret, warm bool
	}{
		{"none: a first run interprets", nil, true, false},
		{"another wazero compiled it: still a first run here", []string{other + ".compiled"}, true, false},
		{"another wazero compiled it, after an interpreted run: compile first", []string{other + ".compiled", "interpreted"}, false, false},
		{"this wazero compiled it: from the cache", []string{compiledTag() + ".compiled"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			modules := t.TempDir()
			for _, m := range tc.marks {
				if err := os.WriteFile(filepath.Join(modules, base+"."+m), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := Prepare(LoadConfig{Path: path, CacheDir: t.TempDir(), ModulesDir: modules, InterpretNew: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.Interpret != tc.interpret || p.Cached != tc.warm {
				t.Errorf("Interpret %v, Cached %v; want %v, %v", p.Interpret, p.Cached, tc.interpret, tc.warm)
			}
		})
	}
}

// TestCompileBehind: the background compile puts the machine code in the
// cache and says so; stopped early, it ends at once and marks nothing.
func TestCompileBehind(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// start makes a module's first Load (interpreted) in a new cache, and
	// starts its background compile.
	start := func(t *testing.T) (LoadConfig, chan struct{}, func()) {
		cfg := LoadConfig{Path: probeModule(t), CacheDir: t.TempDir(), ModulesDir: t.TempDir(), InterpretNew: true, CompileWorkers: 2}
		m, err := Load(context.Background(), cfg)
		if err != nil || !m.Interpreted {
			t.Fatalf("first Load: %v, interpreted %v", err, m != nil && m.Interpreted)
		}
		m.Close(context.Background())
		compiled := make(chan struct{})
		stop, err := CompileBehind(exe, cfg, hclog.NewNullLogger(), compiled)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		return cfg, compiled, stop
	}
	t.Run("completes", func(t *testing.T) {
		t.Parallel()
		cfg, compiled, _ := start(t)
		select {
		case <-compiled:
		case <-time.After(3 * time.Minute):
			t.Fatal("the background compile did not end in 3 minutes")
		}
		p, err := Prepare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Cached || p.Interpret {
			t.Errorf("after the background compile: Cached %v, Interpret %v; want the machine code cached", p.Cached, p.Interpret)
		}
	})
	t.Run("killed-from-outside", func(t *testing.T) {
		t.Parallel()
		// (the OOM killer, an operator): not a stop, so it says the
		// compile is over, and nobody waits for it.
		cfg, compiled, _ := start(t)
		pid := compilerOf(t, cfg.CacheDir)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-compiled:
		case <-time.After(30 * time.Second):
			t.Fatal("a compile killed from outside left Compiled open")
		}
		if markers(t, cfg.ModulesDir)[".compiled"] {
			t.Error("a killed compile marked the module compiled")
		}
	})
	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		cfg, compiled, stop := start(t)
		began := time.Now()
		stop()
		// It is killed: 10 s is the margin for a loaded machine.
		if d := time.Since(began); d > 10*time.Second {
			t.Errorf("stop took %v", d)
		}
		select {
		case <-compiled:
			t.Error("a stopped compile said the machine code is ready")
		default:
		}
		if markers(t, cfg.ModulesDir)[".compiled"] {
			t.Error("a stopped compile marked the module compiled")
		}
	})
}

// TestCheckedBefore: a module the host's Load compiled and checked in a
// cache is not to be checked again with the same settings (CheckedBefore),
// but is under another memory limit; a runner's Load (Checked: the host
// checks) vouches for nothing, nor does a Load whose check failed.
func TestCheckedBefore(t *testing.T) {
	ctx := context.Background()
	cfg := LoadConfig{Path: "../cmd/sandbox/testdata/badptr.wasm", CacheDir: t.TempDir(), ModulesDir: t.TempDir(), MemoryLimitPages: 16}
	prepare := func(c LoadConfig) *Prepared {
		t.Helper()
		p, err := Prepare(c)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	load := func(c LoadConfig) error {
		t.Helper()
		m, err := prepare(c).Load(ctx)
		if err == nil {
			m.Close(ctx)
		}
		return err
	}
	byRunner := cfg
	byRunner.Checked = true
	if err := load(byRunner); err != nil {
		t.Fatal(err)
	}
	if p := prepare(cfg); !p.Cached || p.CheckedBefore {
		t.Errorf("after a runner's load: Cached %v, CheckedBefore %v; want true, false", p.Cached, p.CheckedBefore)
	}
	if err := load(cfg); err != nil {
		t.Fatal(err)
	}
	if p := prepare(cfg); !p.CheckedBefore {
		t.Error("after the host's load: CheckedBefore false")
	}
	other := cfg
	other.MemoryLimitPages = 32
	if p := prepare(other); p.CheckedBefore {
		t.Error("under another memory limit: CheckedBefore true")
	}
	bad := cfg
	bad.Path = "../cmd/sandbox/testdata/badimport.wasm"
	if err := load(bad); err == nil {
		t.Fatal("badimport.wasm loaded")
	}
	// (Not Cached either: the marker itself must not be there.)
	if p := prepare(bad); p.CheckedBefore || exists(p.checked) {
		t.Error("after a failed check: marked checked")
	}
}

// TestCheckedBeforeNamesTheBytes: the ".checked" mark covers the bytes the
// runners load: a rewrite damaged (or made again) since the check is
// checked again.
func TestCheckedBeforeNamesTheBytes(t *testing.T) {
	cfg := LoadConfig{Path: probeModule(t), CacheDir: t.TempDir(), ModulesDir: t.TempDir()}
	p, err := Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.merged == nil {
		t.Fatal("probe.wasm was not rewritten; the test needs a module that is")
	}
	for _, mark := range []string{p.compiled, p.checked} { // as a checking Load leaves them
		if err := os.WriteFile(mark, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := Prepare(cfg); err != nil || !p.CheckedBefore {
		t.Fatalf("marked: CheckedBefore %v, %v; want true", p != nil && p.CheckedBefore, err)
	}
	if err := os.WriteFile(p.Path, p.merged[:len(p.merged)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Prepare(cfg); err != nil || p.CheckedBefore {
		t.Fatalf("rewrite damaged: CheckedBefore %v, %v; want false", p != nil && p.CheckedBefore, err)
	}
}

// TestSharedLoadKeepsTheCache: a runner's load (Shared) that cannot use
// a damaged cache entry compiles the module for itself, leaves the cache
// to the next check (others may be loading from it), and takes the
// ".checked" marks back so that there is a next check.
func TestSharedLoadKeepsTheCache(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	cfg := LoadConfig{Path: "../cmd/sandbox/testdata/badptr.wasm", CacheDir: cache, Checked: true}
	m, err := Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	entries, err := filepath.Glob(filepath.Join(cache, "wazero-*", "*"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no cache entry (%v)", err)
	}
	for _, e := range entries {
		if err := os.WriteFile(e, []byte("damaged"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mark := filepath.Join(ModulesDir(cache), "x.checked")
	if err := os.MkdirAll(filepath.Dir(mark), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Shared = true
	m, err = Load(ctx, cfg)
	if err != nil {
		t.Fatalf("shared load of a damaged cache: %v", err)
	}
	m.Close(ctx)
	if exists(mark) {
		t.Error("the .checked mark is still there")
	}
	for _, e := range entries {
		if b, err := os.ReadFile(e); err != nil || string(b) != "damaged" {
			t.Errorf("cache entry %s changed (%q, %v): a shared load must leave the cache alone", e, b, err)
		}
	}
}
