package runner

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestDropBodies: a loaded module keeps none of its function bodies, for
// the compiler and the interpreter alike; wazero's compiled module is laid
// out as dropBodies expects (were it not, a load would keep them all, and
// every runner 2.4 MB more of a Go guest's: this is the test that says a
// new wazero moved them).
func TestDropBodies(t *testing.T) {
	const module = "../cmd/sandbox/testdata/badptr.wasm"
	bin, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		interpret bool
	}{{"compiled", false}, {"interpreted", true}} {
		t.Run(tt.name, func(t *testing.T) {
			rc := wazero.NewRuntimeConfigCompiler()
			if tt.interpret {
				rc = wazero.NewRuntimeConfigInterpreter()
			}
			r := wazero.NewRuntimeWithConfig(ctx, rc)
			defer r.Close(ctx)
			cm, err := r.CompileModule(ctx, bin)
			if err != nil {
				t.Fatal(err)
			}
			if n := dropBodies(cm); n <= 0 {
				t.Fatalf("dropBodies of a module just compiled = %d, want its function count (> 0)", n)
			}
			if n := dropBodies(cm); n != 0 {
				t.Errorf("dropBodies again = %d, want 0: the first kept some", n)
			}

			m, err := Load(ctx, LoadConfig{Path: module, CacheDir: t.TempDir(), Interpret: tt.interpret})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(ctx)
			if n := dropBodies(m.Compiled); n != 0 {
				t.Errorf("a loaded module kept %d function bodies (dropBodies = %d), want 0", n, n)
			}
		})
	}
	if n := dropBodies(nil); n != -1 {
		t.Errorf("dropBodies(nil) = %d, want -1", n)
	}
}
