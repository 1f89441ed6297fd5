package mp

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// TestErrnosFromABI: every errno of the ABI has its own sentinel error.
func TestErrnosFromABI(t *testing.T) {
	if len(errnoErrors) != len(abispec.Errnos()) {
		t.Errorf("the SDK knows %d errnos, the ABI has %d", len(errnoErrors), len(abispec.Errnos()))
	}
	seen := map[error]abispec.Errno{}
	for _, e := range abispec.Errnos() {
		err := errno(e).err()
		if e == abispec.OK {
			if err != nil {
				t.Errorf("OK gives %v", err)
			}
			continue
		}
		if err == nil || (e != abispec.EIO && errors.Is(err, ErrHost)) {
			t.Errorf("%s gives %v, want its own sentinel", e, err)
			continue
		}
		if prev, dup := seen[err]; dup {
			t.Errorf("%s and %s give the same error %v", prev, e, err)
		}
		seen[err] = e
	}
}

// TestImportsMatchABI: the //go:wasmimport declarations of the SDK import
// every function of the ABI once, by its name, with its WebAssembly
// parameter types.
func TestImportsMatchABI(t *testing.T) {
	imported := map[string][]string{}
	for _, file := range []string{"abi_wasip1.go", "abi_ipc_wasip1.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil {
				continue
			}
			for _, c := range fn.Doc.List {
				rest, ok := strings.CutPrefix(c.Text, "//go:wasmimport sandbox ")
				if !ok {
					continue
				}
				name := strings.TrimSpace(rest)
				if _, dup := imported[name]; dup {
					t.Errorf("%s imported twice", name)
				}
				imported[name] = wasmTypes(fn.Type.Params)
			}
		}
	}
	for _, s := range abispec.Ops() {
		got, ok := imported[s.Name]
		if !ok {
			t.Errorf("the SDK does not import %s", s.Name)
			continue
		}
		var want []string
		for _, f := range s.Params {
			want = append(want, f.Kind.Wasm()...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s is imported with parameters %v, the ABI has %v", s.Name, got, want)
		}
		delete(imported, s.Name)
	}
	for name := range imported {
		t.Errorf("the SDK imports %s, which the ABI does not have", name)
	}
}

// wasmTypes is how the Go toolchain passes parameters of a wasmimport: a
// string as (ptr, len), 64-bit integers as i64, the rest as i32.
func wasmTypes(params *ast.FieldList) []string {
	var out []string
	for _, field := range params.List {
		var types []string
		switch ty := field.Type.(type) {
		case *ast.Ident:
			switch ty.Name {
			case "string":
				types = []string{"i32", "i32"}
			case "int64", "uint64":
				types = []string{"i64"}
			default:
				types = []string{"i32"}
			}
		default: // pointers, unsafe.Pointer
			types = []string{"i32"}
		}
		n := max(len(field.Names), 1)
		for range n {
			out = append(out, types...)
		}
	}
	return out
}
