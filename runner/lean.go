package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
)

// Lean modules: a runner loads a module's machine code from the cache
// without validating its function bodies again.
//
// wazero decodes and validates every function body of a module at each
// CompileModule, even when the machine code then comes from its cache:
// about half of a runner's load (35 of 45 ms for a Go guest of the
// chapter), in every runner, for code the host validated when it
// compiled it. wazero has no option to skip it (bench/README.md measures
// a patch that would). A lean module is the module with every function
// body replaced by `unreachable`, which validates in no time; its cache
// entry is the module's own entry, hard-linked under the name wazero
// gives the lean module (both names are content hashes), so a runner that
// compiles the lean module gets the module's real machine code, and
// wazero's instantiation sees the very same types, imports, tables,
// globals, exports and memory image, which are all it reads of a module
// whose code is compiled. The lean module's own bodies never run.
//
// Safety rests on one check in the runner, not on the cache: a lean load
// is taken only when the machine code it produced is the one the host
// found when it made the lean form (Lean.Code: its CRC-32 and size, as
// the shared code files are named), else the runner loads the module
// itself. A lean module compiled on its own (its entry missing, or
// replaced) gives a few kilobytes of traps, never the real code, so it
// is always refused; a lean load is never retried without the cache
// (loadBytes).
//
// The host makes the lean form once per module and cache (MakeLean, when
// the module's machine code is in the cache), keeping what it found in a
// small file beside it (leanState), and at the start of each run finds it
// again (FindLean), linking the entry again if something replaced it.

// Lean names a module's lean form for the runners.
type Lean struct {
	// Path is the lean module.
	Path string
	// Code names the machine code a lean load must produce (codeName).
	Code string
}

// Args are the runner flags that give it the lean form.
func (l *Lean) Args() []string {
	if l == nil {
		return nil
	}
	return []string{"--lean", l.Path, "--lean-code", l.Code}
}

// leanState is what a host found when it made a module's lean form,
// kept beside it: the file names of the lean module (in the modules
// folder) and of the two cache entries (in wazero's folder of the cache),
// and the machine code's name.
type leanState struct {
	Module string `json:"module"`
	Dir    string `json:"dir"`
	Lean   string `json:"lean"`
	Full   string `json:"full"`
	Code   string `json:"code"`
}

// leanPaths returns where the lean form of the prepared module and its
// state are kept: beside the rewrite, named after it. Only a rewrite in
// the cache's modules folder gets a lean form (as the rewrite, its memory
// image is applied only there: trustedImage).
func (p *Prepared) leanPaths() (module, state string, ok bool) {
	if p.merged == nil || p.cfg.CacheDir == "" || filepath.Dir(p.Path) != ModulesDir(p.cfg.CacheDir) || !strings.HasSuffix(p.Path, rewriteName) {
		return "", "", false
	}
	base := strings.TrimSuffix(p.Path, rewriteName)
	return base + ".lean" + rewriteName, base + "." + compiledTag() + ".lean.json", true
}

// FindLean returns the lean form a host made of the prepared module
// (MakeLean), linking its cache entry to the module's again when
// something replaced it; nil when there is none to give the runners.
func FindLean(p *Prepared) *Lean {
	_, statePath, ok := p.leanPaths()
	if !ok || p.Interpret {
		return nil
	}
	b, err := os.ReadFile(statePath)
	if err != nil {
		return nil
	}
	var st leanState
	if json.Unmarshal(b, &st) != nil || st.Code == "" || !safeName(st.Module) || !safeName(st.Dir) || !safeName(st.Lean) || !safeName(st.Full) {
		return nil
	}
	module := filepath.Join(filepath.Dir(p.Path), st.Module)
	if !exists(module) {
		return nil
	}
	dir := filepath.Join(p.cfg.CacheDir, st.Dir)
	if err := linkEntry(filepath.Join(dir, st.Lean), filepath.Join(dir, st.Full)); err != nil {
		p.cfg.Logger.Debug("lean module not used", "error", err)
		return nil
	}
	return &Lean{Path: module, Code: st.Code}
}

// safeName says s names a file of a folder, not a path.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// linkEntry makes lean name the same file as full, if it does not yet:
// a hard link made under a temporary name and renamed over lean, so that
// lean always names an entry (no window in which wazero would find it
// missing and write one of its own there).
func linkEntry(lean, full string) error {
	fi, err := os.Stat(full)
	if err != nil {
		return fmt.Errorf("the module's machine code is not in the cache: %w", err)
	}
	if li, err := os.Stat(lean); err == nil && os.SameFile(li, fi) {
		return nil
	}
	tmp := filepath.Join(filepath.Dir(lean), moduleTemp+filepath.Base(lean)+fmt.Sprint(os.Getpid()))
	os.Remove(tmp)
	if err := os.Link(full, tmp); err != nil {
		return fmt.Errorf("linking the cache entry: %w", err)
	}
	if err := os.Rename(tmp, lean); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking the cache entry: %w", err)
	}
	return nil
}

// MakeLean makes the lean form of the prepared module, whose machine code
// must be in the cache, and keeps its state for FindLean. It costs about
// a load of the module and one of the lean module (a host does it once
// per module and cache).
func MakeLean(ctx context.Context, p *Prepared) (*Lean, error) {
	module, statePath, ok := p.leanPaths()
	if !ok || p.Interpret || hasDebugInfo(p.merged) {
		return nil, errors.New("no lean form for this module")
	}
	lean, ok := leanModule(p.merged)
	if !ok {
		return nil, errors.New("no lean form for this module")
	}
	if old, err := os.ReadFile(module); err != nil || !bytes.Equal(old, lean) {
		if err := writeFileAtomic(module, lean); err != nil {
			return nil, err
		}
	}
	// The names wazero gives cache entries: learnt from a compile of the
	// lean module into a folder of its own (its bodies compile at once).
	tmp, err := os.MkdirTemp(filepath.Dir(p.Path), moduleTemp+"lean-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := compileInto(ctx, tmp, lean); err != nil {
		return nil, fmt.Errorf("compiling the lean module: %w", err)
	}
	entries, _ := filepath.Glob(filepath.Join(tmp, "*", "*"))
	if len(entries) != 1 {
		return nil, fmt.Errorf("wazero's cache holds %d entries for one module", len(entries))
	}
	st := leanState{Module: filepath.Base(module), Dir: filepath.Base(filepath.Dir(entries[0])), Lean: filepath.Base(entries[0])}
	cpu, ok := learnCPU(lean, st.Lean)
	if !ok {
		return nil, errors.New("wazero's cache names entries in a way this build does not know")
	}
	st.Full = wazeroKey(p.merged, cpu)
	dir := filepath.Join(p.cfg.CacheDir, st.Dir)
	if err := linkEntry(filepath.Join(dir, st.Lean), filepath.Join(dir, st.Full)); err != nil {
		return nil, err
	}
	// The check each runner makes, made here first: both load the same
	// machine code, and it is the module's (not a few traps). Both stay
	// loaded until both are named, so that the second cannot be mapped
	// where the first was (and be taken for older code).
	settleMappings()
	full, done, err := loadedCode(ctx, p.cfg, p.merged)
	if err != nil {
		return nil, err
	}
	defer done()
	if st.Code, done, err = loadedCode(ctx, p.cfg, lean); err != nil {
		return nil, err
	}
	defer done()
	if st.Code != full {
		return nil, fmt.Errorf("the lean module loads other machine code (%s) than the module (%s)", st.Code, full)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(statePath, b); err != nil {
		return nil, err
	}
	return &Lean{Path: module, Code: st.Code}, nil
}

// settleMappings lets the machine code of modules this process closed be
// unmapped (wazero unmaps it in a finalizer) before a load looks for the
// code it maps: a load could otherwise be given the very place of code
// unmapped during it, and find nothing new there. It waits at most
// 100 ms.
func settleMappings() {
	last, _ := codeMappings()
	for range 10 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		now, err := codeMappings()
		if err != nil || maps.Equal(now, last) {
			return
		}
		last = now
	}
}

// compileInto compiles bin with dir as the compilation cache.
func compileInto(ctx context.Context, dir string, bin []byte) error {
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(c).WithDebugInfoEnabled(false))
	defer r.Close(ctx)
	_, err = r.CompileModule(ctx, bin)
	return err
}

// loadedCode loads bin with the cache of cfg and names the machine code
// the load mapped (codeName); done unloads it.
func loadedCode(ctx context.Context, cfg LoadConfig, bin []byte) (name string, done func(), err error) {
	c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
	if err != nil {
		return "", nil, err
	}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(c).WithDebugInfoEnabled(false))
	done = func() {
		r.Close(ctx)
		c.Close(ctx)
	}
	loading.Lock()
	defer loading.Unlock()
	before, err := codeMappings()
	if err == nil {
		_, err = r.CompileModule(ctx, bin)
	}
	if seg := newCode(before); err == nil && len(seg) < minShared {
		err = errors.New("no machine code found among the mappings")
	} else if err == nil {
		name = codeName(seg)
	}
	if err != nil {
		done()
		return "", nil, err
	}
	return name, done, nil
}

// leanModule returns bin with every function body replaced by
// `unreachable` (no locals), its other sections as they are, and its
// memory image, if it has one, laid out again after them; false for a
// module it cannot read.
func leanModule(bin []byte) ([]byte, bool) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, false
	}
	var (
		out    = append([]byte(nil), bin[:8]...)
		codes  int
		image  []segment
		hasImg bool
	)
	for id, content := range sections(bin) {
		switch {
		case id == 10:
			s := &scanner{b: content}
			n := s.u32()
			if s.err != nil || codes > 0 {
				return nil, false
			}
			codes++
			sec := appendUleb(nil, uint64(n))
			for range n {
				sec = append(sec, 3, 0x00, 0x00, 0x0b) // size 3: no locals, unreachable, end
			}
			out = append(out, 10)
			out = appendUleb(out, uint64(len(sec)))
			out = append(out, sec...)
			continue
		case id == 0:
			if name, _ := customName(content); name == imageSection {
				runs := memoryImage(bin)
				if runs == nil || hasImg {
					return nil, false
				}
				hasImg = true
				for _, r := range runs {
					image = append(image, segment{offset: r.memOff, data: bin[r.fileOff : r.fileOff+r.length]})
				}
				continue
			}
		}
		out = append(out, id)
		out = appendUleb(out, uint64(len(content)))
		out = append(out, content...)
	}
	if codes != 1 {
		return nil, false
	}
	if hasImg {
		out = appendImage(out, nil, image)
		if memoryImage(out) == nil {
			return nil, false
		}
	}
	return out, true
}

func appendUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		if v >>= 7; v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// wazeroMagic is what wazero's compiler mixes into its cache keys.
var wazeroMagic = []byte("WAZEVO")

// wazeroKey is the name wazero's compiler gives the cache entry of bin
// (with no function listeners and no termination checks, as every load
// here) on a CPU whose features wazero sums up as cpu: the SHA-256 of
// the module's own SHA-256 (with a zero byte: no termination checks),
// the magic and the features. MakeLean checks it against the name wazero
// gave the lean module (learnCPU) before it trusts it.
func wazeroKey(bin []byte, cpu uint64) string { return keyOf(moduleID(bin), cpu) }

// moduleID is wazero's ID of bin: its SHA-256, with a zero byte (no
// termination checks).
func moduleID(bin []byte) []byte {
	h := sha256.New()
	h.Write(bin)
	h.Write([]byte{0})
	return h.Sum(nil)
}

func keyOf(id []byte, cpu uint64) string {
	h := sha256.New()
	h.Write(id)
	h.Write(wazeroMagic)
	h.Write(binary.LittleEndian.AppendUint64(nil, cpu))
	return hex.EncodeToString(h.Sum(nil))
}

// learnCPU finds the CPU features wazero mixed into key, the name it gave
// bin's entry: a few flags (three on amd64, one on arm64), so the first
// 2^16 values are tried. False: key is not named as wazeroKey names.
func learnCPU(bin []byte, key string) (uint64, bool) {
	id := moduleID(bin)
	for cpu := range uint64(1 << 16) {
		if keyOf(id, cpu) == key {
			return cpu, true
		}
	}
	return 0, false
}

// errNotLean says a lean load did not produce the module's machine code.
var errNotLean = errors.New("the lean module did not load the module's machine code")

// LoadLean loads the lean form cfg.Lean names in place of cfg.Path, for a
// runner; nil when there is none or it did not load the module's machine
// code (the reason logged at debug level): the caller then loads cfg.Path.
func LoadLean(ctx context.Context, cfg LoadConfig) *Module {
	if cfg.Lean.Path == "" || cfg.Lean.Code == "" || cfg.Interpret || cfg.CacheDir == "" {
		return nil
	}
	c := cfg
	c.Path, c.leanCode, c.Lean = cfg.Lean.Path, cfg.Lean.Code, Lean{}
	m, err := Load(ctx, c)
	if err != nil && cfg.Logger != nil {
		cfg.Logger.Debug("lean module not loaded; loading the module itself", "error", err)
	}
	if err != nil {
		return nil
	}
	return m
}
