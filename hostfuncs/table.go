package hostfuncs

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// kind is how one logical parameter of an import is laid out.
type kind uint8

const (
	// kI32 is an i32 value, passed on in Ints.
	kI32 kind = iota
	// kI64 is an i64 value (timeouts), passed on in Ints.
	kI64
	// kBytes is (ptr, len) of guest memory, passed on in Bufs.
	kBytes
	// kOutI32 is a pointer to an i32 the reply fills from its next Int.
	kOutI32
	// kOutRecord is a pointer to a fixed-size record the reply fills from
	// its next Buf.
	kOutRecord
	// kOutBuf is (buf, buf_len, size_ptr): the buffer convention. buf_len
	// is passed on in Ints as the limit; the reply's next Buf is the data.
	kOutBuf
	// kOutI32s is (buf, cap, count_ptr): an array of i32 with the buffer
	// convention counted in elements; the reply's next Buf holds them.
	kOutI32s
)

// function describes one import of the module.
type function struct {
	name   string
	op     wire.Op
	params []kind
	names  []string // one name per logical parameter
	record uint32   // size of a kOutRecord
}

func (f *function) wasmParams() []api.ValueType {
	var vt []api.ValueType
	for _, k := range f.params {
		switch k {
		case kI64:
			vt = append(vt, api.ValueTypeI64)
		case kBytes:
			vt = append(vt, api.ValueTypeI32, api.ValueTypeI32)
		case kOutBuf, kOutI32s:
			vt = append(vt, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32)
		default:
			vt = append(vt, api.ValueTypeI32)
		}
	}
	return vt
}

func (f *function) paramNames() []string {
	var out []string
	for i, k := range f.params {
		n := f.names[i]
		switch k {
		case kBytes:
			out = append(out, n+"_ptr", n+"_len")
		case kOutBuf:
			out = append(out, n+"_buf", n+"_buf_len", n+"_size_ptr")
		case kOutI32s:
			out = append(out, n+"_buf", n+"_cap", n+"_count_ptr")
		case kOutI32, kOutRecord:
			out = append(out, n+"_ptr")
		default:
			out = append(out, n)
		}
	}
	return out
}

// fn builds a function from alternating names and kinds:
// fn("proc_join", op, "handle", kI32, "timeout_ns", kI64).
func fn(name string, op wire.Op, spec ...any) function {
	f := function{name: name, op: op}
	for i := 0; i < len(spec); i += 2 {
		f.names = append(f.names, spec[i].(string))
		f.params = append(f.params, spec[i+1].(kind))
	}
	return f
}

func withRecord(f function, size uint32) function {
	f.record = size
	return f
}

// functions is the whole module. docs/ABI.md documents each one.
var functions = []function{
	fn("proc_new", wire.OpProcNew, "target", kBytes, "args", kBytes, "name", kBytes, "class", kBytes, "daemon", kI32, "handle", kOutI32),
	fn("proc_start", wire.OpProcStart, "handle", kI32),
	fn("proc_join", wire.OpProcJoin, "handle", kI32, "timeout_ns", kI64),
	fn("proc_terminate", wire.OpProcTerminate, "handle", kI32),
	fn("proc_kill", wire.OpProcKill, "handle", kI32),
	withRecord(fn("proc_info", wire.OpProcInfo, "handle", kI32, "info", kOutRecord), wire.ProcInfoSize),
	fn("proc_name", wire.OpProcName, "handle", kI32, "name", kOutBuf),
	fn("proc_set_name", wire.OpProcSetName, "handle", kI32, "name", kBytes),
	fn("proc_set_daemon", wire.OpProcSetDaemon, "handle", kI32, "daemon", kI32),
	fn("proc_self", wire.OpProcSelf, "handle", kOutI32),
	fn("proc_parent", wire.OpProcParent, "handle", kOutI32),
	fn("proc_children", wire.OpProcChildren, "handles", kOutI32s),
	fn("proc_target", wire.OpProcTarget, "target", kOutBuf),
	fn("proc_args", wire.OpProcArgs, "args", kOutBuf),
}
