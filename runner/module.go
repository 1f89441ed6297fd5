package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

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
	Logger         hclog.Logger
}

// Module is a compiled module and the runtime it was compiled in.
type Module struct {
	Runtime  wazero.Runtime
	Compiled wazero.CompiledModule
	// Path is the file compiled: LoadConfig.Path, or its rewrite in
	// LoadConfig.ModulesDir.
	Path  string
	cache wazero.CompilationCache
}

// Close frees the runtime and the cache handle.
func (m *Module) Close(ctx context.Context) error {
	err := m.Runtime.Close(ctx)
	if m.cache != nil {
		m.cache.Close(ctx)
	}
	return err
}

// Load reads, compiles and checks a module: it must be valid WebAssembly,
// export _start and import nothing but WASI preview 1 and the sandbox
// module. A corrupt compilation-cache entry is deleted and the module
// compiled again.
func Load(ctx context.Context, cfg LoadConfig) (*Module, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	log := cfg.Logger
	bin, err := os.ReadFile(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, &ModuleError{Path: cfg.Path, Reason: "not a WebAssembly module (no \\0asm header)"}
	}
	if !cfg.Checked {
		// Before wazero decodes it: a few bytes that declare huge counts
		// must not make the host allocate them (prescan).
		if err := prescan(bin); err != nil {
			return nil, &ModuleError{Path: cfg.Path, Reason: "invalid module: " + err.Error()}
		}
	}
	if cfg.ModulesDir != "" {
		if merged, path, err := rewrite(cfg, bin); err != nil {
			log.Debug("module not rewritten; loading the original", "error", err)
		} else if m, err := loadBytes(ctx, cfg, merged, path); err != nil {
			// The original decides: its error, or it runs as it is.
			log.Debug("the rewritten module does not load; loading the original", "error", err)
		} else {
			return m, nil
		}
	}
	return loadBytes(ctx, cfg, bin, cfg.Path)
}

// loadBytes compiles bin (read from path) and checks it, deleting a
// corrupt compilation cache and compiling again; errors name cfg.Path,
// the module the user gave.
func loadBytes(ctx context.Context, cfg LoadConfig, bin []byte, path string) (*Module, error) {
	m, err := compile(ctx, cfg, bin)
	if err != nil && cfg.CacheDir != "" {
		// Either the module is bad, or a cache entry is corrupt. A compile
		// without the cache tells which.
		plain := cfg
		plain.CacheDir = ""
		if _, perr := compile(ctx, plain, bin); perr != nil {
			return nil, &ModuleError{Path: cfg.Path, Reason: "invalid module: " + perr.Error()}
		}
		if rerr := clearCache(cfg.CacheDir); rerr != nil {
			return nil, fmt.Errorf("compilation cache %s is unusable (%v) and cannot be cleared: %w", cfg.CacheDir, err, rerr)
		}
		cfg.Logger.Warn("compilation cache is corrupt; deleted its entries", "dir", cfg.CacheDir, "error", err)
		m, err = compile(ctx, cfg, bin)
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

// rewrite returns the module rewritten to load faster (mergeData) and the
// file in cfg.ModulesDir that holds it, named by the original's SHA-256.
// A rewrite made before is taken as it is (it is written atomically, and
// loadBytes compiles and checks it like any module); only a module seen
// for the first time is rewritten. An error when there is nothing to
// rewrite or the file cannot be written.
func rewrite(cfg LoadConfig, bin []byte) ([]byte, string, error) {
	sum := sha256.Sum256(bin)
	path := filepath.Join(cfg.ModulesDir, hex.EncodeToString(sum[:])+".wasm")
	if merged, err := os.ReadFile(path); err == nil {
		return merged, path, nil
	}
	merged, ok := mergeData(bin)
	if !ok {
		return nil, "", errors.New("nothing to rewrite")
	}
	if err := writeFileAtomic(path, merged); err != nil {
		return nil, "", err
	}
	return merged, path, nil
}

// writeFileAtomic writes b to path through a temporary file renamed into
// place: a runner never reads half a module, whoever writes at once.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".module-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func compile(ctx context.Context, cfg LoadConfig, bin []byte) (*Module, error) {
	rc := wazero.NewRuntimeConfigCompiler()
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	m := &Module{}
	if cfg.CacheDir != "" {
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
	cm, err := m.Runtime.CompileModule(ctx, bin)
	if err != nil {
		m.Close(ctx)
		return nil, err
	}
	m.Compiled = cm
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
