package runner

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"golang.org/x/sys/cpu"
)

// Lean modules: a runner loads a module's machine code from the cache
// without validating its function bodies again, nor reading the code.
//
// wazero decodes and validates every function body of a module at each
// CompileModule, even when the machine code then comes from its cache:
// about half of a runner's load (35 of 45 ms for a Go guest of the
// chapter), in every runner, for code the host validated when it
// compiled it. wazero has no option to skip it (bench/README.md measures
// a patch that would). A lean module is the module with every function
// body replaced by `unreachable`, which validates and compiles in no
// time; wazero's instantiation sees the very same types, imports,
// tables, globals, exports and memory image, which are all it reads of a
// module whose code is compiled. A runner compiles the lean module (from
// its own small cache entry), then puts the module's real machine code in
// place of the traps (takeCode): mapped from the code file every runner
// of the module shares (shareCode's, in the modules folder), with the
// function offsets of the module's own cache entry. wazero's cache entry
// of the module is thus read but for its 14 MB of code, which is mapped
// from the page cache, not copied (a runner's load of the bench guest:
// about 6 ms, against about 20 when wazero read the code, through a
// hard link of the module's entry under the lean module's name).
//
// Safety rests on checks in the runner, not on the files: a lean load is
// taken only when the lean module it compiled is the one the host named
// (its SHA-256, Lean.ID), the module's entry is of this wazero, holds as
// many functions and nothing a lean load cannot take (a source map,
// exception tables), and the code file holds, for the entry's code size,
// bytes with the entry's CRC-32C (readEntry, mapLeanCode: summed by the
// host once per version of the file, codeVersion, and by a runner that
// opens another version than the host summed, or one the entry it reads
// does not match). Otherwise the runner loads the module itself.
//
// The lean form is made once per module and cache (makeLean, once the
// module's machine code is in the cache: by the background compile of a
// new module, or by the host of the first run that finds it there), and
// what was found is kept in a small file beside it (leanState), one for
// each set of CPU features (cpuTag: wazero's entry names depend on them,
// and machines may share a cache), so that the entry a runner is told to
// read is the one its wazero wrote. LeanOf, at the start of each run,
// finds it again, and makes it again if a file it names is gone or does
// not hold what a runner's load needs.

// Lean names a module's lean form for the runners.
type Lean struct {
	// Path is the lean module.
	Path string
	// ID is the ID in wazero (moduleID), in hex, of what it compiles of
	// the lean module (leanCompiled): the module's code is put only in a
	// lean module with this ID.
	ID string
	// Code names the module's machine code (codeName): its file in the
	// modules folder.
	Code string
	// Full is the module's own cache entry: its function offsets, and
	// the size and CRC-32C of its machine code.
	Full string
	// Verified is the version of the code file (codeVersion) the host
	// found to hold that code; a runner sums the code it maps only when
	// it opens another, or reads another size or sum in Full.
	Verified string
}

// Args are the runner flags that give it the lean form.
func (l *Lean) Args() []string {
	if l == nil {
		return nil
	}
	args := []string{"--lean", l.Path, "--lean-id", l.ID, "--lean-code", l.Code, "--lean-full", l.Full}
	if l.Verified != "" {
		args = append(args, "--lean-verified", l.Verified)
	}
	return args
}

// leanState is what a host found when it made a module's lean form,
// kept beside it: the rewrite it was made of (Of, its SHA-256), the file
// name of the lean module (in the modules folder) and its ID, wazero's
// cache folder, the names of the lean module's entry and the module's
// entry there, the machine code's name, size and CRC-32C (as the
// module's entry records it), and the version of the code file
// (codeVersion) found to hold that code. No Code: the module has no lean
// form (errNoLeanForm), which is not looked for again for this rewrite.
type leanState struct {
	Of     string `json:"of"`
	Module string `json:"module,omitempty"`
	ID     string `json:"id,omitempty"`
	Dir    string `json:"dir,omitempty"`
	Lean   string `json:"lean,omitempty"`
	Full   string `json:"full,omitempty"`
	Code   string `json:"code,omitempty"`
	Size   int    `json:"size,omitempty"`
	Sum    uint32 `json:"sum,omitempty"`
	// Verified is the version of the code file (codeVersion) the host
	// found to hold the code: a runner that maps it does not sum it
	// again.
	Verified string `json:"verified,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// castagnoli is the CRC-32 wazero sums machine code with.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errNoLeanForm says a module has no lean form, for good (for this
// rewrite, build and cache): not one the rules here can make, or machine
// code too small to be worth it.
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
	return base, base + "." + compiledTag() + "-cpu" + cpuTag() + leanStateName, true
}

// leanStateName ends the names of lean states: one per form of the lean
// load, so that no build takes a state of another form for its own
// (forms before this one ended in ".lean.json": the lean module's entry a
// link to the module's; and ".lean-code.json": its ID the whole lean
// module's, image included).
const leanStateName = ".lean-map.json"

// oldLeanStates match the states of forms before, which makeLean removes
// (and a corrupt cache's clearing).
var oldLeanStates = []string{"*.lean.json", "*.lean-code.json"}

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
		p.mergedSum = sha256Of(p.merged)
	}
	return hex.EncodeToString(p.mergedSum[:])
}

// LeanOf returns the lean form of the prepared module, whose machine code
// is in the cache, for the runners of a run: the one a host made before,
// if the files it names are still there and hold what a runner's load
// needs; else it makes it (makeLean).
// Nil when there is none (the error says why; errNoLeanForm: there never
// will be, which is remembered).
func LeanOf(ctx context.Context, p *Prepared) (*Lean, error) {
	base, statePath, ok := p.leanPaths()
	if !ok || p.Interpret || !leanLoads {
		return nil, errNoLeanForm
	}
	var st leanState
	if b, err := os.ReadFile(statePath); err == nil && json.Unmarshal(b, &st) == nil && st.Of == p.of() {
		if st.Code == "" {
			return nil, fmt.Errorf("%w: %s", errNoLeanForm, st.Reason)
		}
		if l := st.lean(p); l != nil && exists(l.Path) {
			if !exists(l.Full) {
				// Not worth a try before the module's machine code is
				// back in the cache (the next check puts it there).
				return nil, errors.New("the module's machine code is not in the cache")
			}
			if st.current(p, l) && st.verified(p, l.codeFile(p.cfg.CacheDir), statePath) {
				l.Verified = st.Verified
				return l, nil
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

// current says the files st names still hold what runners' loads need,
// as far as a look that reads no machine code can tell (the code file's
// is verified's): the lean module's entry loads (wazero fails a compile
// whose entry it cannot read) and is its own (traps: not the module's
// entry, which a build of the form before linked there); and the
// module's entry reads as a runner reads it, its code the one the code
// file was made of (a module compiled again may have other code).
func (st *leanState) current(p *Prepared, l *Lean) bool {
	own, _, err := entryCode(filepath.Join(p.cfg.CacheDir, st.Dir, st.Lean))
	if err != nil || len(own) >= minShared {
		return false
	}
	size, sum, err := entrySum(l.Full)
	return err == nil && size == st.Size && sum == st.Sum
}

// verified says whether the code file (name) holds the code st records: a
// version of it found so before (st.Verified) is not read again; another
// is summed, and its version, if settled, kept in the state (at
// statePath). A file found to hold other code is left to makeLean.
func (st *leanState) verified(p *Prepared, name, statePath string) bool {
	fi, err := os.Stat(name)
	if err != nil {
		return false
	}
	if st.Verified != "" && codeVersion(fi, st.Size, st.Sum) == st.Verified {
		return true
	}
	v, err := verifyCode(name, st.Size, st.Sum)
	if err != nil {
		p.cfg.Logger.Debug("the machine code of the lean form does not check", "error", err)
		return false
	}
	if v != st.Verified {
		st.Verified = v
		if b, err := json.Marshal(st); err == nil {
			writeFileAtomic(statePath, b) // (else summed again next time)
		}
	}
	return true
}

// lean is the Lean st names for p; nil if a name is not a file's.
func (st *leanState) lean(p *Prepared) *Lean {
	for _, n := range []string{st.Module, st.Dir, st.Lean, st.Full, st.Code} {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) {
			return nil
		}
	}
	return &Lean{Path: filepath.Join(filepath.Dir(p.Path), st.Module), ID: st.ID, Code: st.Code,
		Full: filepath.Join(p.cfg.CacheDir, st.Dir, st.Full), Verified: st.Verified}
}

// codeFile is the file of the module's machine code a lean load maps.
func (l *Lean) codeFile(cacheDir string) string {
	return filepath.Join(ModulesDir(cacheDir), l.Code+".code")
}

// makeLean makes the lean form of the prepared module, whose machine code
// must be in the cache, and keeps its state (at statePath) for LeanOf;
// base is where its files go (leanPaths). It costs about a compile of
// the lean module, a read of the module's entry and a lean load (a host
// does it once per module and cache).
func makeLean(ctx context.Context, p *Prepared, base, statePath string) (*Lean, error) {
	if hasDebugInfo(p.merged) {
		return nil, fmt.Errorf("%w: the module carries DWARF", errNoLeanForm)
	}
	lean, ok := leanModule(p.merged)
	if !ok {
		return nil, fmt.Errorf("%w: the module cannot be read as leanModule reads", errNoLeanForm)
	}
	modules := filepath.Dir(p.Path)
	if err := execAllowed(modules); err != nil {
		return nil, err // (not remembered: for as long as it is mounted so)
	}
	for _, old := range oldLeanStates {
		unmark(modules, filepath.Base(base)+"."+old)
	}
	// The names wazero gives cache entries: learnt from a compile of the
	// lean module into a folder of its own (its bodies compile at once).
	tmp, err := os.MkdirTemp(modules, moduleTemp+"lean-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	compiled := leanCompiled(lean)
	if err := compileInto(ctx, tmp, compiled); err != nil {
		return nil, fmt.Errorf("compiling the lean module: %w", err)
	}
	entries, _ := filepath.Glob(filepath.Join(tmp, "*", "*"))
	if len(entries) != 1 {
		return nil, fmt.Errorf("%w: wazero's cache holds %d entries for one module", errNoLeanForm, len(entries))
	}
	dir, leanEntry := filepath.Base(filepath.Dir(entries[0])), filepath.Base(entries[0])
	id := moduleID(compiled)
	cpu, ok := learnCPU(id, leanEntry)
	if !ok {
		return nil, fmt.Errorf("%w: wazero's cache names entries in a way this build does not know", errNoLeanForm)
	}
	st := leanState{Of: p.of(), Module: leanName(base, leanEntry), ID: hex.EncodeToString(id),
		Dir: dir, Lean: leanEntry, Full: wazeroKey(p.merged, cpu)}
	// The lean module's own entry goes into the cache, so that runners
	// do not compile it (a runner's wazero would, and write it there).
	if os.Rename(entries[0], filepath.Join(p.cfg.CacheDir, dir, leanEntry)) != nil {
		if err := compileInto(ctx, p.cfg.CacheDir, compiled); err != nil {
			return nil, fmt.Errorf("compiling the lean module: %w", err)
		}
	}
	path := filepath.Join(modules, st.Module)
	if old, err := os.ReadFile(path); err != nil || !equalPieces(old, lean) {
		if err := writeFileAtomic(path, lean); err != nil {
			return nil, err
		}
	}
	// The code file, from the module's entry (a runner that loaded the
	// module itself may have written it already), as a mapping holds it:
	// to the end of its last page.
	code, sum, err := entryCode(filepath.Join(p.cfg.CacheDir, dir, st.Full))
	if err != nil {
		return nil, fmt.Errorf("the module's cache entry: %w", err)
	}
	st.Size, st.Sum = len(code), sum
	if len(code) < minShared {
		return nil, fmt.Errorf("%w: %d bytes of machine code, too few to be worth it", errNoLeanForm, len(code))
	}
	page := os.Getpagesize()
	code = append(code, make([]byte, (page-len(code)%page)%page)...)
	f, name, err := codeFile(modules, code)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil { // (codeFile has compared its bytes)
		st.Verified = settledVersion(fi, st.Size, st.Sum)
	}
	f.Close()
	st.Code = name
	l := st.lean(p)
	// The load each runner makes, made here first.
	m, err := loadLean(ctx, LoadConfig{CacheDir: p.cfg.CacheDir, Checked: true, Shared: true, Lean: *l, Logger: p.cfg.Logger})
	if errors.Is(err, errLayout) {
		return nil, fmt.Errorf("%w: %w", errNoLeanForm, err) // (for this build)
	}
	if err != nil {
		return nil, err
	}
	m.Close(ctx)
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(statePath, b); err != nil {
		return nil, err
	}
	return l, nil
}

// compileInto compiles bin with dir as the compilation cache.
func compileInto(ctx context.Context, dir string, bin []byte) error {
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	// As a lean load compiles (no debug info: a lean form is made only of
	// a module without DWARF).
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(c).WithDebugInfoEnabled(false))
	defer r.Close(ctx)
	_, err = r.CompileModule(ctx, bin)
	return err
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

// leanCompiled is what wazero compiles of a lean module: all of it but
// its memory image, its last section (leanModule, appendImage), which the
// runner maps from the file itself. wazero would hash it for the module's
// ID and scan it, 1.9 MB of a Go guest's 2 (about 1.7 ms of a runner's
// load), for a custom section it has no use for.
func leanCompiled(bin []byte) []byte {
	r := &scanner{b: bin, off: 8}
	for r.left() > 0 {
		at := r.off
		id := r.byte()
		size := r.u32()
		if r.err != nil || int64(size) > int64(r.left()) {
			return bin
		}
		r.off += int(size)
		if name, _ := customName(bin[r.off-int(size) : r.off]); id == 0 && name == imageSection && r.left() == 0 {
			return bin[:at:at] // (an append copies: bin may be a read-only mapping, mapModule)
		}
	}
	return bin
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
	writePieces(h, bin)
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
// the entry of the module whose ID is id (moduleID): a few flags (three
// on amd64, one on arm64), so the first 2^16 values are tried. False: key
// is not named as wazeroKey names.
func learnCPU(id []byte, key string) (uint64, bool) {
	for cpu := range uint64(1 << 16) {
		if keyOf(id, cpu) == key {
			return cpu, true
		}
	}
	return 0, false
}

// errNotLean says a lean load did not take the module's machine code.
var errNotLean = errors.New("the lean module did not load the module's machine code")

// LoadLean loads the lean form cfg.Lean names in place of cfg.Path, for a
// runner; nil when there is none, or when its checks refuse it (the
// reason logged at debug level): the caller then loads cfg.Path.
func LoadLean(ctx context.Context, cfg LoadConfig) *Module {
	l := cfg.Lean
	if l.Path == "" || l.ID == "" || l.Code == "" || l.Full == "" || cfg.Interpret || cfg.CacheDir == "" {
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
	c.Path, c.lean, c.Lean = l.Path, &l, Lean{}
	m, err := Load(ctx, c)
	if err != nil && !errors.Is(err, errNotLean) {
		err = fmt.Errorf("%w: %w", errNotLean, err)
	}
	return m, err
}
