package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandbox-dev/sandbox/runner"
)

// maxFuzzModule bounds the modules FuzzLoad compiles, so that each input
// stays cheap.
const maxFuzzModule = 64 << 10

// FuzzLoad loads any bytes as a module: Load returns a module or a
// *runner.ModuleError, never another error or a panic; and a module that
// loads once loads again (from the compilation cache it was just written
// to). The seeds in testdata/fuzz/FuzzLoad are the smallest WASI command
// (_start and memory, nothing imported), ones that import from WASI and
// the sandbox, the fixtures of the repository, an empty file, a truncated
// header, and modules that import what the sandbox does not offer; the
// others there are crashes kept as regression files (oom_*, and the ones
// named by their hash that the fuzzer found): a few bytes that declare
// huge counts, which made wazero's decoder allocate gigabytes until Load's
// prescan refused them.
//
// Each fuzzing process uses one module path and one cache directory.
func FuzzLoad(f *testing.F) {
	ctx := context.Background()
	dir := f.TempDir()
	path, cache := filepath.Join(dir, "m.wasm"), filepath.Join(dir, "cache")
	f.Fuzz(func(t *testing.T, bin []byte) {
		if len(bin) > maxFuzzModule {
			t.Skipf("%d bytes, more than the %d this target compiles", len(bin), maxFuzzModule)
		}
		if err := os.WriteFile(path, bin, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := runner.LoadConfig{Path: path, CacheDir: cache}
		m, err := runner.Load(ctx, cfg)
		if err != nil {
			var me *runner.ModuleError
			if !errors.As(err, &me) {
				t.Fatalf("Load = %v (%T), want a *runner.ModuleError", err, err)
			}
			return
		}
		m.Close(ctx)
		m, err = runner.Load(ctx, cfg)
		if err != nil {
			t.Fatalf("the module loaded once, then not from the cache: %v", err)
		}
		m.Close(ctx)
	})
}
