package runner

import (
	"reflect"
	"unsafe"

	"github.com/tetratelabs/wazero"
)

// dropBodies lets the Go collector free the function bodies wazero keeps
// in a compiled module's decoded form, and reports how many it dropped
// (-1: the module is not laid out as this expects, and nothing changed).
//
// wazero decodes a module into its own structures and copies every
// function's body there (2.4 MB of a 3.9 MB Go guest: 70% of a loaded
// runner's heap, measured after the load's collection). It reads the
// bodies only to validate and compile them, both done within
// CompileModule (the compiler's machine code, the interpreter's
// operations): instantiating and running the module never looks at them
// again, yet the compiled module keeps them for its life, in every runner.
// wazero has no option to let them go, so this reaches them through its
// unexported fields, laid out as in the version go.mod pins
// (compiledModule.module, a *wasm.Module, whose CodeSection is a slice of
// wasm.Code with a Body field). A later version that moves them makes
// this return -1 and keep them, which TestDropBodies notices.
func dropBodies(cm wazero.CompiledModule) int {
	v := reflect.ValueOf(cm)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return -1
	}
	mod := v.Elem().FieldByName("module")
	if mod.Kind() != reflect.Pointer || mod.IsNil() || mod.Elem().Kind() != reflect.Struct {
		return -1
	}
	code := mod.Elem().FieldByName("CodeSection")
	if code.Kind() != reflect.Slice || code.Type().Elem().Kind() != reflect.Struct {
		return -1
	}
	body, ok := code.Type().Elem().FieldByName("Body")
	if !ok || body.Type != reflect.TypeFor[[]byte]() {
		return -1
	}
	n := 0
	for i := range code.Len() {
		f := code.Index(i).FieldByIndex(body.Index)
		b := (*[]byte)(unsafe.Pointer(f.UnsafeAddr()))
		if *b != nil {
			*b = nil
			n++
		}
	}
	return n
}
