package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"golang.org/x/sys/cpu"
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
// Safety rests on checks in the runner, not on the cache: a lean load is
// taken only when the lean module's entry was the very file of the
// module's own entry before the load and still is after it (wazero
// replaces the entry under the lean name whenever it compiles the lean
// module itself: on a miss, or on an entry it finds stale, after mapping
// its code), and when the machine code the compiled module runs (its
// executable, the mapping the load made where it begins: codeOf) is the
// one the host found when it made the lean form (Lean.Code: its CRC-32
// and size, as the shared code files are named). Else the runner loads
// the module itself. A lean load is never retried without the cache
// (loadBytes).
//
// The lean form is made once per module and cache (makeLean, once the
// module's machine code is in the cache: by the background compile of a
// new module, or by the host of the first run that finds it there), and
// what was found is kept in a small file beside it (leanState), one for
// each set of CPU features (cpuTag: wazero's entry names depend on them,
// and machines may share a cache), so that the entry a runner is told to
// check is the one its wazero reads. LeanOf, at the start of each run,
// finds it again, and makes it again if its entry is no longer the
// module's (the module's entry rebuilt, or the lean name given wazero's
// own compile of the lean module).

// Lean names a module's lean form for the runners.
type Lean struct {
	// Path is the lean module.
	Path string
	// Code names the machine code a lean load must produce (codeName).
	Code string
	// Entry is the lean module's cache entry, which must be the same file
	// as Full, the module's own, before and after a lean load: wazero
	// replaces the entry when it compiles the lean module itself (a miss,
	// or an entry it finds stale).
	Entry, Full string
}

// Args are the runner flags that give it the lean form.
func (l *Lean) Args() []string {
	if l == nil {
		return nil
	}
	return []string{"--lean", l.Path, "--lean-code", l.Code, "--lean-entry", l.Entry, "--lean-full", l.Full}
}

// leanState is what a host found when it made a module's lean form,
// kept beside it: the rewrite it was made of (Of, its SHA-256), the file
// names of the lean module (in the modules folder) and of the two cache
// entries (in wazero's folder of the cache), and the machine code's
// name. No Code: the module has no lean form (errNoLeanForm), which is
// not looked for again for this rewrite.
type leanState struct {
	Of     string `json:"of"`
	Module string `json:"module,omitempty"`
	Dir    string `json:"dir,omitempty"`
	Lean   string `json:"lean,omitempty"`
	Full   string `json:"full,omitempty"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// errNoLeanForm says a module has no lean form, for good (for this
// rewrite, build and cache): not one the rules here can make, or machine
// code too small to be told from the lean module's own.
var errNoLeanForm = errors.New("no lean form")

// leanPaths returns where the lean forms of the prepared module and its
// state are kept: beside the rewrite, named after it (a lean module's
// name ends in its own entry's, leanName). Only a rewrite in the cache's
// modules folder gets a lean form (as the rewrite, its memory image is
// applied only there: trustedImage).
func (p *Prepared) leanPaths() (base, state string, ok bool) {
	if p.merged == nil || !trustedImage(LoadConfig{Path: p.Path, CacheDir: p.cfg.CacheDir}) {
		return "", "", false
	}
	base = strings.TrimSuffix(p.Path, rewriteName)
	return base, base + "." + compiledTag() + "-cpu" + cpuTag() + ".lean.json", true
}

// leanName is the lean module's file name: named after its content (its
// cache entry's name), so that the file a state names is the one that
// entry was made for, whatever other build or host writes lean forms.
func leanName(base, entry string) string {
	return filepath.Base(base) + ".lean-" + entry[:min(len(entry), 16)] + rewriteName
}

// cpuTag names this machine's CPU features (all golang.org/x/sys/cpu
// knows, more than wazero mixes into its keys): machines that share a
// cache keep a lean state each, for the entries their wazero names.
var cpuTag = sync.OnceValue(func() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%+v %+v", cpu.X86, cpu.ARM64))
	return hex.EncodeToString(sum[:4])
})

// of names the rewrite a lean form is made of.
func (p *Prepared) of() string {
	if p.mergedSum == ([sha256.Size]byte{}) {
		p.mergedSum = sha256.Sum256(p.merged)
	}
	return hex.EncodeToString(p.mergedSum[:])
}

// LeanOf returns the lean form of the prepared module, whose machine code
// is in the cache, for the runners of a run: the one a host made before,
// if its entry is still the module's; else it makes it (makeLean). Nil
// when there is none (the error says why; errNoLeanForm: there never
// will be, which is remembered).
func LeanOf(ctx context.Context, p *Prepared) (*Lean, error) {
	base, statePath, ok := p.leanPaths()
	if !ok || p.Interpret {
		return nil, errNoLeanForm
	}
	var st leanState
	if b, err := os.ReadFile(statePath); err == nil && json.Unmarshal(b, &st) == nil && st.Of == p.of() {
		if st.Code == "" {
			return nil, fmt.Errorf("%w: %s", errNoLeanForm, st.Reason)
		}
		if l := st.lean(p); l != nil && exists(l.Path) {
			if sameFile(l.Entry, l.Full) {
				return l, nil
			}
			if !exists(l.Full) {
				// Not worth a try before the module's machine code is
				// back in the cache (the next check puts it there).
				return nil, errors.New("the module's machine code is not in the cache")
			}
		}
	}
	l, err := makeLean(ctx, p, base, statePath)
	if errors.Is(err, errNoLeanForm) {
		b, _ := json.Marshal(leanState{Of: p.of(), Reason: err.Error()})
		writeFileAtomic(statePath, b)
	}
	return l, err
}

// lean is the Lean st names for p; nil if a name is not a file's.
func (st *leanState) lean(p *Prepared) *Lean {
	for _, n := range []string{st.Module, st.Dir, st.Lean, st.Full} {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) {
			return nil
		}
	}
	dir := filepath.Join(p.cfg.CacheDir, st.Dir)
	return &Lean{Path: filepath.Join(filepath.Dir(p.Path), st.Module), Code: st.Code,
		Entry: filepath.Join(dir, st.Lean), Full: filepath.Join(dir, st.Full)}
}

// sameFile says a and b name one file.
func sameFile(a, b string) bool {
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// linkEntry makes lean name the same file as full: a hard link made under
// a temporary name in the modules folder (whose leftovers a host removes:
// removeStaleTemps) and renamed over lean, so that lean always names an
// entry once it names one.
func linkEntry(modules, lean, full string) error {
	if _, err := os.Stat(full); err != nil {
		return fmt.Errorf("the module's machine code is not in the cache: %w", err)
	}
	var r [8]byte
	rand.Read(r[:])
	tmp := filepath.Join(modules, moduleTemp+"link-"+hex.EncodeToString(r[:]))
	if err := os.Link(full, tmp); err != nil {
		return fmt.Errorf("linking the cache entry: %w", err)
	}
	if err := os.Rename(tmp, lean); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking the cache entry: %w", err)
	}
	return nil
}

// makeLean makes the lean form of the prepared module, whose machine code
// must be in the cache, and keeps its state (at statePath) for LeanOf;
// base is where its files go (leanPaths). It costs about a compile of
// the lean module and a load of it (a host does it once per module and
// cache).
func makeLean(ctx context.Context, p *Prepared, base, statePath string) (*Lean, error) {
	if hasDebugInfo(p.merged) {
		return nil, fmt.Errorf("%w: the module carries DWARF", errNoLeanForm)
	}
	lean, ok := leanModule(p.merged)
	if !ok {
		return nil, fmt.Errorf("%w: the module cannot be read as leanModule reads", errNoLeanForm)
	}
	// The names wazero gives cache entries: learnt from a compile of the
	// lean module into a folder of its own (its bodies compile at once).
	modules := filepath.Dir(p.Path)
	tmp, err := os.MkdirTemp(modules, moduleTemp+"lean-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := compileInto(ctx, tmp, lean); err != nil {
		return nil, fmt.Errorf("compiling the lean module: %w", err)
	}
	entries, _ := filepath.Glob(filepath.Join(tmp, "*", "*"))
	if len(entries) != 1 {
		return nil, fmt.Errorf("%w: wazero's cache holds %d entries for one module", errNoLeanForm, len(entries))
	}
	st := leanState{Of: p.of(), Dir: filepath.Base(filepath.Dir(entries[0])), Lean: filepath.Base(entries[0])}
	cpu, ok := learnCPU(lean, st.Lean)
	if !ok {
		return nil, fmt.Errorf("%w: wazero's cache names entries in a way this build does not know", errNoLeanForm)
	}
	st.Full = wazeroKey(p.merged, cpu)
	st.Module = leanName(base, st.Lean)
	l := st.lean(p)
	if old, err := os.ReadFile(l.Path); err != nil || !bytes.Equal(old, lean) {
		if err := writeFileAtomic(l.Path, lean); err != nil {
			return nil, err
		}
	}
	if err := linkEntry(modules, l.Entry, l.Full); err != nil {
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EMLINK) ||
			errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) {
			err = fmt.Errorf("%w: %w", errNoLeanForm, err) // a cache where entries cannot be linked
		}
		return nil, err
	}
	// The check each runner makes, made here first: the lean load runs
	// the module's machine code, read from the module's entry.
	settleMappings()
	if l.Code, err = leanCode(ctx, p.cfg, lean, l); err != nil {
		return nil, err
	}
	st.Code = l.Code
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(statePath, b); err != nil {
		return nil, err
	}
	return l, nil
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
	r, done, err := cachedCompiler(ctx, dir)
	if err != nil {
		return err
	}
	defer done()
	_, err = r.CompileModule(ctx, bin)
	return err
}

// cachedCompiler is a runtime that compiles to machine code with dir as
// the compilation cache, as the lean form's loads do (no debug info: a
// lean form is made only of a module without DWARF); done closes it.
func cachedCompiler(ctx context.Context, dir string) (r wazero.Runtime, done func(), err error) {
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, nil, err
	}
	r = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(c).WithDebugInfoEnabled(false))
	return r, func() { r.Close(ctx); c.Close(ctx) }, nil
}

// leanCode loads the lean module bin with the cache of cfg and names the
// machine code the compiled module runs (codeOf), which must be the
// module's (read from l.Full, its entry linked as l.Entry before and
// after) and not too small to be told from the lean module's own.
func leanCode(ctx context.Context, cfg LoadConfig, bin []byte, l *Lean) (string, error) {
	r, done, err := cachedCompiler(ctx, cfg.CacheDir)
	if err != nil {
		return "", err
	}
	defer done()
	loading.Lock()
	defer loading.Unlock()
	maps, err := codeMappings()
	if err != nil {
		return "", err
	}
	var cm wazero.CompiledModule
	if err := l.fromEntry(func() (err error) {
		cm, err = r.CompileModule(ctx, bin)
		return err
	}); err != nil {
		return "", err
	}
	if exe := executableOf(cm); exe != nil && len(exe) < minShared {
		return "", fmt.Errorf("%w: %d bytes of machine code, too few to be told from the lean module's", errNoLeanForm, len(exe))
	}
	_, name, err := codeOf(cm, maps)
	return name, err
}

// codeOf returns and names the machine code cm runs: the mapping, made since before,
// that begins where cm's executable does (codeName names the whole
// mapping, page-rounded, as the shared code files are named). An error when the
// mappings do not show it (another load's code unmapped meanwhile may
// have left its place to it, or the module's layout is not the one
// executableOf reads).
func codeOf(cm wazero.CompiledModule, before map[codeMapping]bool) (seg []byte, name string, err error) {
	exe := executableOf(cm)
	if exe == nil {
		return nil, "", errors.New("cannot tell which machine code the module runs")
	}
	seg = newCodeAt(before, uintptr(unsafe.Pointer(unsafe.SliceData(exe))))
	if len(seg) < len(exe) {
		return nil, "", errors.New("the machine code the module runs is not among the mappings its load made")
	}
	return seg, codeName(seg), nil
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
			sec := binary.AppendUvarint(nil, uint64(n))
			for range n {
				sec = append(sec, 3, 0x00, 0x00, 0x0b) // size 3: no locals, unreachable, end
			}
			out = appendSection(out, 10, sec)
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
		out = appendSection(out, id, content)
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

// wazeroMagic is what wazero's compiler mixes into its cache keys.
var wazeroMagic = []byte("WAZEVO")

// wazeroKey is the name wazero's compiler gives the cache entry of bin
// (with no function listeners and no termination checks, as every load
// here) on a CPU whose features wazero sums up as cpu: the SHA-256 of
// the module's own SHA-256 (with a zero byte: no termination checks),
// the magic and the features. makeLean checks it against the name wazero
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
// runner; nil when there is none, or when the load could have produced
// anything but the module's machine code (the reason logged at debug
// level): the caller then loads cfg.Path. It is taken only when the lean
// module's entry is the module's before and after the load (wazero did
// not compile the lean module itself) and the machine code it mapped is
// the one the host named.
func LoadLean(ctx context.Context, cfg LoadConfig) *Module {
	l := cfg.Lean
	if l.Path == "" || l.Code == "" || l.Entry == "" || l.Full == "" || cfg.Interpret || cfg.CacheDir == "" {
		return nil
	}
	m, err := loadLean(ctx, cfg)
	if err != nil {
		if cfg.Logger != nil {
			cfg.Logger.Debug("lean module not loaded; loading the module itself", "error", err)
		}
		return nil
	}
	return m
}

func loadLean(ctx context.Context, cfg LoadConfig) (*Module, error) {
	l := cfg.Lean
	c := cfg
	c.Path, c.leanCode, c.Lean = l.Path, l.Code, Lean{}
	var m *Module
	err := l.fromEntry(func() (err error) {
		m, err = Load(ctx, c)
		return err
	})
	if err != nil && m != nil {
		kept = append(kept, m) // (not closed: see kept)
	}
	if err != nil && !errors.Is(err, errNotLean) {
		err = fmt.Errorf("%w: %w", errNotLean, err)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// fromEntry runs load, a load of the lean module, and says whether it
// could have read the module's machine code: the lean name was a link to
// the module's entry before it and is still that very file after it
// (wazero replaces the entry under the lean name whenever it compiles the
// lean module itself: no entry found, or one found stale after mapping
// its code). An error of load's own comes back as it is.
func (l *Lean) fromEntry(load func() error) error {
	before, err := os.Stat(l.Entry)
	if full, ferr := os.Stat(l.Full); err != nil || ferr != nil || !os.SameFile(before, full) {
		return errors.New("the lean module's entry is not the module's")
	}
	if err := load(); err != nil {
		return err
	}
	if after, err := os.Stat(l.Entry); err != nil || !os.SameFile(before, after) {
		return errors.New("wazero replaced the lean module's entry (it compiled the lean module itself)")
	}
	return nil
}

// executableOf returns the machine code a compiled module runs (the
// executable of wazero's compiled module), reached through wazero's
// unexported fields as laid out in the version go.mod pins:
// wazero.compiledModule's compiledEngine (the compiler's engine) keeps,
// in its compiledModules map under the module's ID, the compiled module
// and its executables. Nil when they are not laid out so: a lean load is
// then refused (TestLean fails on a wazero that moves them).
func executableOf(cm wazero.CompiledModule) (code []byte) {
	defer func() {
		if recover() != nil {
			code = nil
		}
	}()
	v := reflect.ValueOf(cm).Elem()
	id := v.FieldByName("module").Elem().FieldByName("ID")
	mods := v.FieldByName("compiledEngine").Elem().Elem().FieldByName("compiledModules")
	exe := mods.MapIndex(id).Elem().FieldByName("compiledModule").Elem().FieldByName("executables").Elem().FieldByName("executable")
	if exe.Kind() != reflect.Slice || exe.Type().Elem().Kind() != reflect.Uint8 || exe.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(exe.UnsafePointer()), exe.Len())
}
