package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sandbox-dev/sandbox/hostfuncs"
)

// LoadConfig says how to compile a module.
type LoadConfig struct {
	// Path of the .wasm file.
	Path string
	// CacheDir is the compilation cache directory; empty compiles without one.
	CacheDir string
	// MemoryLimitPages bounds each guest's linear memory (64 KiB pages); 0
	// keeps wazero's default (4 GiB).
	MemoryLimitPages uint32
	// Shared says other processes may be loading the module from the
	// same cache at this moment (a runner's load): a cache entry it
	// cannot use is then not deleted, the module is compiled for this
	// load alone (loadBytes). It also says the module will be
	// instantiated: a module with a memory image (mergedata.go) keeps
	// its file open for that; without Shared, it cannot be.
	Shared bool
	// ShareCode maps the module's machine code, once loaded, from a file
	// in ModulesDir(CacheDir) that every runner of the module maps too,
	// instead of keeping a copy of its own (sharecode_linux.go): 14 MiB
	// less per runner of a Go guest. It finds the code among the
	// executable mappings the compile made, so it is for a process that
	// loads this one module and makes no other wazero runtime meanwhile
	// (a runner): other Loads of the process wait for it, nothing else
	// does.
	ShareCode bool
	// Checked says the module's imports and exports were already checked
	// (the host does it once, before any runner starts), so Load skips
	// that work on every process start.
	Checked bool
	// ModulesDir, when set, is where Load keeps the module rewritten to
	// load faster (mergeData), named by the original's SHA-256; Load then
	// compiles that file, and Module.Path names it for the runners.
	ModulesDir string
	// CompileWorkers is how many goroutines compile the module's functions
	// on a cache miss (0 or 1: one). The host compiles a new module while
	// nothing else runs, so it uses every core; a runner uses one.
	CompileWorkers int
	// Interpret compiles the module for wazero's interpreter instead of
	// to machine code, and uses no cache. Compiling a Go guest so takes
	// about a tenth of the time (3.6 MB: 0.14 s against 1.7 s on one
	// core); the guest then runs several times slower. A runner started
	// while the host still compiles a new module's machine code is told
	// to (--interpret), so that the first run of a module starts at once.
	Interpret bool
	// InterpretNew makes Load interpret (as Interpret) a module it has
	// never loaded with this CacheDir, and compile as usual one it has:
	// from the cache if its machine code is there, else now (a module
	// whose first run ended before its machine code was ready is compiled
	// first from its second run on, so that a module run again and again
	// pays for one abandoned compile at most). Module.Interpreted says
	// which. It needs CacheDir and ModulesDir, where Load marks what it
	// did with each module.
	InterpretNew bool
	// Lean is the lean form of Path (lean.go), which a runner loads
	// instead when it can: LoadLean.
	Lean Lean
	// lean, set on the load of a lean module, names the machine code the
	// load takes, or fails.
	lean   *Lean
	Logger hclog.Logger
}

// Module is a compiled module and the runtime it was compiled in.
type Module struct {
	Runtime  wazero.Runtime
	Compiled wazero.CompiledModule
	// Path is the file compiled: LoadConfig.Path, or its rewrite in
	// LoadConfig.ModulesDir.
	Path string
	// Interpreted says the module was compiled for wazero's interpreter.
	Interpreted bool
	cache       wazero.CompilationCache
	// image is the module's memory image, nil if it has none.
	image *memImage
}

// memImage is a module's memory image (mergedata.go): its runs, and the
// module file that holds them, kept open (by a runner's load, Shared) so
// that every instance maps them from it.
type memImage struct {
	runs []imageRun
	file *os.File
}

// readModule reads the module at path. When trusted (a rewrite of the
// host's: trustedImage) and its bytes hold a memory image, it returns the
// image, and, when keep is set, the file stays open in it: the very bytes
// read, whatever later replaces the file at path. Trusted and kept (a
// runner's load, or the host's check of a lean form it made), the bytes
// are mapped from that file (mapModule).
func readModule(path string, keep, trusted bool) ([]byte, *memImage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	read := readAll
	if keep && trusted {
		read = mapModule
	}
	bin, err := read(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var runs []imageRun
	if trusted {
		runs = memoryImage(bin)
	}
	if runs == nil {
		f.Close()
		return bin, nil, nil
	}
	im := &memImage{runs: runs}
	if keep {
		im.file = f
	} else {
		f.Close()
	}
	return bin, im, nil
}

// close closes the image's file, if it is open.
func (im *memImage) close() {
	if im != nil && im.file != nil {
		im.file.Close()
	}
}

// Close frees the runtime and the cache handle.
func (m *Module) Close(ctx context.Context) error {
	m.image.close()
	err := m.Runtime.Close(ctx)
	if m.cache != nil {
		m.cache.Close(ctx)
	}
	return err
}

// Load reads, compiles and checks a module: it must be valid WebAssembly,
// export _start and import nothing but WASI preview 1 and the sandbox
// module. A corrupt compilation-cache entry is deleted and the module
// compiled again (under LoadConfig.Shared: compiled without the cache).
func Load(ctx context.Context, cfg LoadConfig) (*Module, error) {
	p, err := Prepare(cfg)
	if err != nil {
		return nil, err
	}
	return p.Load(ctx)
}

// Prepared is a module read, its declared sizes checked (prescan) and
// rewritten to load faster (LoadConfig.ModulesDir), not yet compiled:
// enough for a runner to load it while Load compiles and checks it.
type Prepared struct {
	cfg    LoadConfig
	bin    []byte
	merged []byte // the rewrite, when there is one
	// their memory images, when they have one
	image, mergedImage *memImage
	// Path is the file runners load: the rewrite, or LoadConfig.Path.
	Path string
	// Interpret says Load compiles it for the interpreter (InterpretNew:
	// never loaded with this cache before).
	Interpret bool
	// Cached says a Load put its machine code in the cache (with this
	// wazero, for this architecture), so that a runner will most likely
	// load it from there even while Load runs. (A cache entry deleted
	// since then only costs time: the runner compiles it.)
	Cached bool
	// CheckedBefore says, of a Cached module, that a Load compiled and
	// checked it with this cache, wazero, memory limit and set of host
	// functions, and that its rewrite (Path) is what loaded: checking it
	// again could only say the same (see checkTag).
	CheckedBefore bool
	// markers, named by the original's SHA-256, of what a Load did with
	// this module in this cache: compiled its machine code into it,
	// interpreted it, or checked it (checkTag).
	compiled, interpreted, checked string
	// mergedSum is the SHA-256 of merged, once computed (zero before).
	mergedSum [sha256.Size]byte
}

// Prepare reads the module and does what Load does before compiling.
func Prepare(cfg LoadConfig) (*Prepared, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	bin, image, err := readModule(cfg.Path, cfg.Shared, trustedImage(cfg))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		image.close()
		return nil, &ModuleError{Path: cfg.Path, Reason: "not a WebAssembly module (no \\0asm header)"}
	}
	if !cfg.Checked {
		// Before wazero decodes it: a few bytes that declare huge counts
		// must not make the host allocate them (prescan).
		if err := prescan(bin); err != nil {
			image.close()
			return nil, &ModuleError{Path: cfg.Path, Reason: "invalid module: " + err.Error()}
		}
	}
	p := &Prepared{bin: bin, image: image, Path: cfg.Path}
	if cfg.ModulesDir != "" && !cfg.Shared {
		removeStaleTemps(cfg.ModulesDir) // once a run, by its host
	}
	var sum [sha256.Size]byte
	var base string // the marks' name but for their suffix
	if cfg.ModulesDir != "" {
		sum = sha256Of(bin)
		base = filepath.Join(cfg.ModulesDir, hex.EncodeToString(sum[:]))
	}
	if cfg.ModulesDir != "" && cfg.CacheDir != "" {
		p.compiled, p.interpreted = base+"."+compiledTag()+".compiled", base+".interpreted"
		p.Cached = exists(p.compiled)
		if cfg.InterpretNew && !p.Cached && !exists(p.interpreted) {
			cfg.Interpret = true
		}
	}
	p.Interpret = cfg.Interpret
	p.Cached = p.Cached && !cfg.Interpret
	if cfg.ModulesDir != "" {
		if merged, path, image, err := rewrite(cfg, bin, sum); err != nil {
			cfg.Logger.Debug("module not rewritten; loading the original", "error", err)
		} else {
			p.merged, p.mergedImage, p.Path = merged, image, path
		}
	}
	if cfg.ModulesDir != "" && cfg.CacheDir != "" && !cfg.Checked {
		// Only a checking load marks a module checked. Named by the bytes
		// the runners will load (the rewrite as it is now in the folder,
		// or the original): a rewrite made again, or damaged, since the
		// check is not covered by it.
		loads := sum
		if p.merged != nil {
			loads = sha256Of(p.merged)
			p.mergedSum = loads
		}
		p.checked = base + "." + compiledTag() + "." + checkTag(cfg) + "-loads" + hex.EncodeToString(loads[:8]) + ".checked"
		p.CheckedBefore = p.Cached && exists(p.checked)
	}
	p.cfg = cfg
	return p, nil
}

// Load compiles and checks the prepared module (as Load). Module.Path is
// Prepared.Path, unless the rewrite did not load and the original did.
func (p *Prepared) Load(ctx context.Context) (*Module, error) {
	cfg, log := p.cfg, p.cfg.Logger
	var m *Module
	var err error
	if p.merged != nil {
		if m, err = loadBytes(ctx, cfg, p.merged, p.Path); err != nil {
			// The original decides: its error, or it runs as it is.
			log.Debug("the rewritten module does not load; loading the original", "error", err)
		} else {
			m.image = p.mergedImage
			p.image.close()
		}
	}
	if m == nil {
		p.mergedImage.close()
		m, err = loadBytes(ctx, cfg, p.bin, cfg.Path)
		if err == nil {
			m.image = p.image
		} else {
			p.image.close()
		}
		if err == nil && p.merged != nil {
			// From now on the file holds what loads: the original.
			if werr := writeFileAtomic(p.Path, p.bin); werr != nil {
				log.Debug("cannot replace the rewrite that does not load", "error", werr)
			}
		}
	}
	if err == nil && p.compiled != "" {
		marks := []string{p.compiled}
		if m.Interpreted {
			marks = []string{p.interpreted}
		} else if p.checked != "" && m.Path == p.Path {
			marks = append(marks, p.checked)
		}
		for _, mark := range marks {
			if !exists(mark) {
				if werr := writeFileAtomic(mark, nil); werr != nil {
					log.Debug("cannot mark the module loaded", "marker", mark, "error", werr)
				}
			}
		}
	}
	return m, err
}

// checkTag names what a check's verdict depends on besides the module
// and wazero (compiledTag): the memory limit it was compiled under (a
// module whose minimum memory is over it does not compile), the host
// functions a module may import, and the sandbox build that checked it
// (its rules: check, compile, prescan), as the size and modification
// time of its executable, so that any other build checks again.
func checkTag(cfg LoadConfig) string {
	h := sha256.New()
	for _, n := range hostfuncs.Names() {
		h.Write([]byte(hostfuncs.ModuleName + "." + n + "\n"))
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "build %d %d\n", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return fmt.Sprintf("pages%d-abi%x", cfg.MemoryLimitPages, h.Sum(nil)[:6])
}

// compiledTag names the machine code a ".compiled" marker vouches for:
// wazero's version (its cache keeps each version's code apart), the
// architecture, and the form of the rewrite compiled.
var compiledTag = sync.OnceValue(func() string {
	v := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				v = d.Version
				if d.Replace != nil {
					v = d.Replace.Version
				}
			}
		}
	}
	tag := strings.Map(func(r rune) rune {
		if r == '/' || r == filepath.Separator || r == '.' {
			return '_'
		}
		return r
	}, v) + "-" + runtime.GOARCH
	if linearImages {
		tag += "-image" // the rewrite's form (rewriteName)
	}
	return tag
})

// exists says whether path names a file.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadBytes compiles bin (read from path) and checks it, deleting a
// corrupt compilation cache and compiling again (or, when cfg.Shared,
// compiling without the cache and taking back the ".checked" marks);
// errors name cfg.Path, the module the user gave.
func loadBytes(ctx context.Context, cfg LoadConfig, bin []byte, path string) (*Module, error) {
	m, err := compile(ctx, cfg, bin)
	if err != nil && ctx.Err() != nil {
		return nil, err // abandoned
	}
	if err != nil && cfg.lean != nil {
		return nil, err // never without the cache: its bodies are traps
	}
	if err != nil && cfg.CacheDir != "" && !cfg.Interpret {
		// Either the module is bad, or a cache entry is corrupt. A compile
		// without the cache tells which.
		plain := cfg
		plain.CacheDir = ""
		pm, perr := compile(ctx, plain, bin)
		if perr != nil {
			return nil, &ModuleError{Path: cfg.Path, Reason: "invalid module: " + perr.Error()}
		}
		if cfg.Shared {
			// A runner: others may be loading from the cache now, so it
			// is not cleared here. The marks that let the host skip its
			// check go: the next run's check repairs the cache.
			unmark(ModulesDir(cfg.CacheDir), "*.checked")
			cfg.Logger.Warn("compilation cache unusable; compiled without it (the next run's check repairs it)", "dir", cfg.CacheDir, "error", err)
			m, err = pm, nil
		} else {
			pm.Close(ctx)
			if rerr := clearCache(cfg.CacheDir); rerr != nil {
				return nil, fmt.Errorf("compilation cache %s is unusable (%v) and cannot be cleared: %w", cfg.CacheDir, err, rerr)
			}
			if cfg.ModulesDir != "" {
				// What they vouched for is gone; so is the code of
				// another wazero (a runner maps a code file only once
				// it holds the very bytes, so one in use can go).
				unmark(cfg.ModulesDir, append([]string{"*.compiled", "*.checked", "*.code", "*" + leanStateName}, oldLeanStates...)...)
			}
			cfg.Logger.Warn("compilation cache is corrupt; deleted its entries", "dir", cfg.CacheDir, "error", err)
			m, err = compile(ctx, cfg, bin)
		}
	}
	if err != nil {
		return nil, &ModuleError{Path: cfg.Path, Reason: "invalid module: " + err.Error()}
	}
	m.Path = path
	if cfg.Checked {
		return m, nil
	}
	if err := m.check(ctx, cfg.Path); err != nil {
		m.Close(ctx)
		return nil, err
	}
	return m, nil
}

// ModulesDir is where, in a compilation cache directory, modules are
// rewritten and marked (LoadConfig.ModulesDir).
func ModulesDir(cacheDir string) string { return filepath.Join(cacheDir, "modules") }

// staleTemp is the age past which a temporary file in the modules
// folder is one a writer left when it was killed (a spare runner is
// killed whenever a run ends, maybe while it writes a code file).
const staleTemp = 10 * time.Minute

// removeStaleTemps deletes the temporary files writers left in dir.
func removeStaleTemps(dir string) {
	for _, prefix := range []string{moduleTemp, codeTemp} {
		temps, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, t := range temps {
			if fi, err := os.Stat(t); err == nil && time.Since(fi.ModTime()) > staleTemp {
				os.RemoveAll(t) // (makeLean's folder too)
			}
		}
	}
}

// unmark deletes the marks in dir that match the patterns.
func unmark(dir string, patterns ...string) {
	for _, pattern := range patterns {
		marks, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range marks {
			os.Remove(m)
		}
	}
}

// rewrite returns the module rewritten to load faster (mergeData) and the
// file in cfg.ModulesDir that holds it, named by the original's SHA-256.
// A rewrite made before is taken as it is (it is written atomically, and
// loadBytes compiles and checks it like any module, unless a run checked
// these very bytes before: Prepared.CheckedBefore); only a module seen
// for the first time is rewritten. An error when there is nothing to
// rewrite or the file cannot be written.
func rewrite(cfg LoadConfig, bin []byte, sum [sha256.Size]byte) ([]byte, string, *memImage, error) {
	path := filepath.Join(cfg.ModulesDir, hex.EncodeToString(sum[:])+rewriteName)
	if merged, image, err := readModule(path, cfg.Shared, true); err == nil {
		return merged, path, image, nil
	}
	merged, ok := mergeData(bin)
	if !ok {
		return nil, "", nil, errors.New("nothing to rewrite")
	}
	if err := writeFileAtomic(path, merged); err != nil {
		return nil, "", nil, err
	}
	runs := memoryImage(merged)
	switch {
	case runs == nil:
		return merged, path, nil, nil
	case !cfg.Shared:
		return merged, path, &memImage{runs: runs}, nil
	}
	// The image is mapped from the file: the bytes just written.
	merged, image, err := readModule(path, true, true)
	return merged, path, image, err
}

// trustedImage says the module a Load reads is a rewrite the host made
// (a runner is given its path), the only modules whose memory image is
// applied: in any other, a "sandbox.memory" section is a custom section
// like any other, which changes nothing.
func trustedImage(cfg LoadConfig) bool {
	return cfg.CacheDir != "" && filepath.Dir(cfg.Path) == ModulesDir(cfg.CacheDir) &&
		strings.HasSuffix(cfg.Path, rewriteName)
}

// rewriteName ends a rewrite's file name: the form of the rewrite, so
// that a build that makes another form (or reads only this one) never
// takes one for the other.
var rewriteName = map[bool]string{true: ".image.wasm", false: ".wasm"}[linearImages]

// writeFileAtomic writes b to path through a temporary file renamed into
// place: a runner never reads half a module, whoever writes at once.
func writeFileAtomic(path string, b []byte) error {
	return writeFileMode(path, b, 0o644, moduleTemp)
}

// moduleTemp starts the names of rewrites and marks being written.
const moduleTemp = ".module-"

// writeFileMode is writeFileAtomic with the file's mode (0 leaves it as
// the temporary file was made, 0600: a confined runner cannot chmod) and
// the temporary file's prefix.
func writeFileMode(path string, b []byte, mode os.FileMode, temp string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), temp+"*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && mode != 0 {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// kept holds the modules a load gave up on after their machine code was
// mapped (a sharing that unmapped it: errCodeUnmapped; a lean load
// refused once compiled, maybe with the module's code given to wazero),
// never let go: wazero unmaps a module's code when it lets it
// go, maybe after the next load's code was mapped in that very place.
var kept []*Module

// loading keeps other compiles of this process from making executable
// mappings while a ShareCode load looks for its own among the new ones.
var loading sync.RWMutex

// compile compiles bin as cfg says. A ShareCode load whose sharing left
// the machine code unmapped (errCodeUnmapped) compiles again, unshared.
func compile(ctx context.Context, cfg LoadConfig, bin []byte) (*Module, error) {
	m, err := compileOnce(ctx, cfg, bin)
	if errors.Is(err, errCodeUnmapped) {
		cfg.Logger.Warn("machine code not shared; loaded again", "error", err)
		cfg.ShareCode = false
		return compileOnce(ctx, cfg, bin)
	}
	return m, err
}

func compileOnce(ctx context.Context, cfg LoadConfig, bin []byte) (*Module, error) {
	share := cfg.ShareCode && !cfg.Interpret && cfg.CacheDir != "" && cfg.lean == nil
	var before map[codeMapping]bool
	if share {
		loading.Lock()
		defer loading.Unlock()
		var err error
		if before, err = codeMappings(); err != nil {
			cfg.Logger.Debug("machine code not shared", "error", err)
			share = false
		}
	} else {
		loading.RLock()
		defer loading.RUnlock()
	}
	var lean *leanCode // the module's code, for a lean load
	if cfg.lean != nil {
		var err error
		if lean, err = mapLeanCode(cfg.lean, cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotLean, err)
		}
		defer lean.unmap() // (unless taken)
	}
	rc := wazero.NewRuntimeConfigCompiler()
	if cfg.Interpret {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	if !hasDebugInfo(bin) {
		// With DWARF enabled, wazero keeps every custom section of a
		// module in the heap, to look for .debug_* ones: a memory image
		// (1.9 MB of a Go guest) in every runner. Without DWARF in the
		// module, nothing changes but that: traps name functions from
		// the name section either way, and the machine code is the same.
		rc = rc.WithDebugInfoEnabled(false)
	}
	m := &Module{Interpreted: cfg.Interpret}
	if cfg.CacheDir != "" && !cfg.Interpret {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open compilation cache: %w", err)
		}
		m.cache = c
		rc = rc.WithCompilationCache(c)
	}
	m.Runtime = wazero.NewRuntimeWithConfig(ctx, rc)
	if cfg.CompileWorkers > 1 {
		ctx = experimental.WithCompilationWorkers(ctx, cfg.CompileWorkers)
	}
	if lean != nil {
		bin = leanCompiled(bin)
	}
	cm, err := m.Runtime.CompileModule(ctx, bin)
	if err != nil {
		m.Close(ctx)
		return nil, err
	}
	m.Compiled = cm
	if lean != nil {
		id, err := hex.DecodeString(cfg.lean.ID)
		if err == nil {
			err = lean.takeCode(cm, id)
		}
		if err != nil {
			kept = append(kept, m) // (not closed: see kept)
			return nil, fmt.Errorf("%w: %w", errNotLean, err)
		}
	}
	if n := dropBodies(cm); n < 0 {
		cfg.Logger.Debug("function bodies kept: wazero's compiled module is not laid out as expected")
	}
	if share {
		t := time.Now()
		if name, err := shareCode(ModulesDir(cfg.CacheDir), newCode(before)); errors.Is(err, errCodeUnmapped) {
			kept = append(kept, m) // (not closed: see kept)
			return nil, err
		} else if err != nil {
			cfg.Logger.Debug("machine code not shared", "error", err)
		} else if name != "" {
			cfg.Logger.Debug("machine code shared", "file", name, "took", time.Since(t).String())
		}
	}
	return m, nil
}

// check verifies the module's imports and exports against what a runner
// offers, naming every import that is missing.
func (m *Module) check(ctx context.Context, path string) error {
	offered := map[string]map[string]bool{hostfuncs.ModuleName: {}}
	for _, n := range hostfuncs.Names() {
		offered[hostfuncs.ModuleName][n] = true
	}
	wasi, err := wasi_snapshot_preview1.NewBuilder(m.Runtime).Compile(ctx)
	if err != nil {
		return fmt.Errorf("compile WASI module: %w", err)
	}
	offered[wasi_snapshot_preview1.ModuleName] = map[string]bool{}
	for n := range wasi.ExportedFunctions() {
		offered[wasi_snapshot_preview1.ModuleName][n] = true
	}
	wasi.Close(ctx)

	var missing []string
	for _, f := range m.Compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if !offered[mod][name] {
			missing = append(missing, mod+"."+name)
		}
	}
	for _, mem := range m.Compiled.ImportedMemories() {
		mod, name, _ := mem.Import()
		missing = append(missing, mod+"."+name+" (memory)")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return &ModuleError{Path: path, Reason: "imports functions the sandbox does not provide", Missing: missing}
	}
	if _, ok := m.Compiled.ExportedFunctions()["_start"]; !ok {
		return &ModuleError{Path: path, Reason: "no exported _start function (build it as a WASI command, e.g. GOOS=wasip1 GOARCH=wasm go build)"}
	}
	if _, ok := m.Compiled.ExportedMemories()["memory"]; !ok {
		return &ModuleError{Path: path, Reason: "no exported memory"}
	}
	return nil
}

// clearCache deletes what wazero keeps in a cache directory (its
// "wazero-*" folders) and nothing else: the directory is the user's.
func clearCache(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	entries, err := filepath.Glob(filepath.Join(dir, "wazero-*"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(e); err != nil {
			return err
		}
	}
	return nil
}
