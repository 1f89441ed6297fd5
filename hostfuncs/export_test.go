package hostfuncs

// Shortcuts and WasmParams are shortcuts and wasmParams, for the tests of
// package hostfuncs_test.
var (
	Shortcuts  = shortcuts
	WasmParams = wasmParams
)
