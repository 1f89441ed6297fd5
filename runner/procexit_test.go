package runner

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// exitThree is the module
//
//	(module
//	  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
//	  (func (export "_start") (call $exit (i32.const 3))))
var exitThree = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x08, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00, // types: (i32) -> (), () -> ()
	0x02, 0x24, 0x01, // one import
	0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	0x09, 'p', 'r', 'o', 'c', '_', 'e', 'x', 'i', 't', 0x00, 0x00,
	0x03, 0x02, 0x01, 0x01, // one function of type 1
	0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x01, // export _start
	0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x03, 0x10, 0x00, 0x0b, // i32.const 3, call 0
}

// TestProcExit: the runner's WASI module is wazero's with proc_exit
// replaced, and that proc_exit reports the exit code (remote.exiting)
// before the module is closed and the guest unwound, once, then ends the
// guest as wazero's does: with a sys.ExitError of the code. Without a
// report to make, it ends the guest all the same.
func TestProcExit(t *testing.T) {
	ctx := context.Background()
	wantRT := wazero.NewRuntime(ctx)
	defer wantRT.Close(ctx)
	want, err := wasi_snapshot_preview1.NewBuilder(wantRT).Compile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, report := range []bool{true, false} {
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		r := &remote{}
		var codes []uint32
		var closedAtReport bool
		var guest api.Module
		if report {
			r.exiting = func(code uint32) {
				codes = append(codes, code)
				closedAtReport = guest == nil || guest.IsClosed()
			}
		}
		if err := instantiateWASI(ctx, rt, r); err != nil {
			t.Fatal(err)
		}
		wasi := rt.Module(wasi_snapshot_preview1.ModuleName)
		if got, wantNames := slices.Sorted(maps.Keys(wasi.ExportedFunctionDefinitions())), slices.Sorted(maps.Keys(want.ExportedFunctions())); !slices.Equal(got, wantNames) {
			t.Fatalf("the WASI module exports %v, wazero's %v", got, wantNames)
		}
		compiled, err := rt.CompileModule(ctx, exitThree)
		if err != nil {
			t.Fatal(err)
		}
		// Instantiated without running _start, so that the report can see
		// the instance; then _start, as a runner's instantiation calls it.
		guest, err = rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		_, err = guest.ExportedFunction("_start").Call(ctx)
		var exit *sys.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Errorf("report %v: _start ended with %v, want exit code 3", report, err)
		}
		if !guest.IsClosed() {
			t.Errorf("report %v: the guest is not closed after proc_exit", report)
		}
		switch {
		case report && !slices.Equal(codes, []uint32{3}):
			t.Errorf("reported %v, want [3] once", codes)
		case report && closedAtReport:
			t.Error("the guest was closed when its end was reported")
		case report && r.exiting != nil:
			t.Error("the report is still set after proc_exit")
		}
	}
}
