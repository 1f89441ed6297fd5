package hostfuncs_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// everyImport builds a module that imports every function of the ABI and
// exports, under the same name, a wrapper that calls it with its own
// parameters, and one page of memory.
func everyImport() []byte {
	specs := abi.Ops()
	u32 := func(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }
	name := func(b []byte, s string) []byte { return append(u32(b, uint32(len(s))), s...) }
	section := func(out []byte, id byte, body []byte) []byte {
		return append(u32(append(out, id), uint32(len(body))), body...)
	}
	params := func(s *abi.Spec) []byte {
		var ps []byte
		for _, f := range s.Params {
			for _, t := range f.Kind.Wasm() {
				if t == "i64" {
					ps = append(ps, 0x7e)
				} else {
					ps = append(ps, 0x7f)
				}
			}
		}
		return ps
	}
	n := uint32(len(specs))
	var types, imports, funcs, exports, code []byte
	types, imports, funcs, code = u32(nil, n), u32(nil, n), u32(nil, n), u32(nil, n)
	exports = u32(nil, n+1)
	for i, s := range specs {
		ps := params(s)
		types = append(u32(append(types, 0x60), uint32(len(ps))), ps...)
		types = append(u32(types, 1), 0x7f)
		imports = u32(append(name(name(imports, hostfuncs.ModuleName), s.Name), 0), uint32(i))
		funcs = u32(funcs, uint32(i))
		exports = u32(append(name(exports, s.Name), 0), n+uint32(i))
		var body []byte
		body = u32(body, 0) // no locals
		for j := range ps {
			body = u32(append(body, 0x20), uint32(j))
		}
		body = append(u32(append(body, 0x10), uint32(i)), 0x0b)
		code = append(u32(code, uint32(len(body))), body...)
	}
	exports = append(name(exports, "memory"), 0x02, 0)
	mod := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	mod = section(mod, 1, types)
	mod = section(mod, 2, imports)
	mod = section(mod, 3, funcs)
	mod = section(mod, 5, []byte{1, 0, 1}) // one memory of one page
	mod = section(mod, 7, exports)
	mod = section(mod, 10, code)
	return mod
}

// decoder is a Caller that decodes every call with abi.Decode, as the host
// does, and answers it with empty results.
type decoder struct{ errs []error }

func (d *decoder) Call(_ context.Context, req *wire.Msg) (*wire.Msg, error) {
	a, err := abi.Decode(req.Op, req.Ints, req.Bufs)
	if err != nil {
		d.errs = append(d.errs, err)
		return &wire.Msg{Errno: abi.EINVAL}, nil
	}
	ints, bufs := a.Results()
	return &wire.Msg{Ints: ints, Bufs: bufs}, nil
}

// TestEveryImportDecodes: what hostfuncs sends for every import, read from
// guest memory, is what the host's decoding of that import expects.
func TestEveryImportDecodes(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	d := &decoder{}
	if _, err := hostfuncs.Instantiate(ctx, r, d); err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, everyImport())
	if err != nil {
		t.Fatalf("instantiate the module of every import: %v", err)
	}
	for _, s := range abi.Ops() {
		// Every pointer at 1024, every length and capacity 8, every other
		// value 1: all within the page.
		var args []uint64
		for _, f := range s.Params {
			switch f.Kind {
			case abi.Bytes, abi.Text:
				args = append(args, 1024, 8)
			case abi.OutBuf, abi.OutText, abi.OutI32s:
				args = append(args, 1024, 8, 2048)
			case abi.OutHandle, abi.OutI32, abi.OutBool, abi.OutRecord:
				args = append(args, 1024)
			default:
				args = append(args, 1)
			}
		}
		fn := m.ExportedFunction(s.Name)
		if fn == nil {
			t.Fatalf("%s not exported", s.Name)
		}
		res, err := fn.Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if e := abi.Errno(uint32(res[0])); e != abi.OK {
			t.Errorf("%s = %s, want OK", s.Name, e)
		}
	}
	for _, err := range d.errs {
		t.Error(err)
	}
}
