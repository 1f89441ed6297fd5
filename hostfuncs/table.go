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
	fn("proc_set_args", wire.OpProcSetArgs, "handle", kI32, "args", kBytes),

	fn("pipe_new", wire.OpPipeNew, "duplex", kI32, "end0", kOutI32, "end1", kOutI32),
	fn("conn_send", wire.OpConnSend, "handle", kI32, "data", kBytes),
	fn("conn_recv", wire.OpConnRecv, "handle", kI32, "timeout_ns", kI64, "data", kOutBuf),
	fn("conn_poll", wire.OpConnPoll, "handle", kI32, "timeout_ns", kI64, "ready", kOutI32),
	fn("conn_close", wire.OpConnClose, "handle", kI32),

	fn("queue_new", wire.OpQueueNew, "maxsize", kI32, "joinable", kI32, "handle", kOutI32),
	fn("queue_put", wire.OpQueuePut, "handle", kI32, "data", kBytes, "timeout_ns", kI64),
	fn("queue_get", wire.OpQueueGet, "handle", kI32, "timeout_ns", kI64, "data", kOutBuf),
	withRecord(fn("queue_info", wire.OpQueueInfo, "handle", kI32, "info", kOutRecord), wire.InfoRecordSize),
	fn("queue_close", wire.OpQueueClose, "handle", kI32),
	fn("queue_task_done", wire.OpQueueTaskDone, "handle", kI32),
	fn("queue_join", wire.OpQueueJoin, "handle", kI32, "timeout_ns", kI64),

	fn("barrier_new", wire.OpBarrierNew, "parties", kI32, "timeout_ns", kI64, "has_action", kI32, "handle", kOutI32),
	fn("barrier_wait", wire.OpBarrierWait, "handle", kI32, "timeout_ns", kI64, "index", kOutI32, "run_action", kOutI32),
	fn("barrier_action_done", wire.OpBarrierActionDone, "handle", kI32, "ok", kI32),
	fn("barrier_abort", wire.OpBarrierAbort, "handle", kI32),
	fn("barrier_reset", wire.OpBarrierReset, "handle", kI32),
	withRecord(fn("barrier_info", wire.OpBarrierInfo, "handle", kI32, "info", kOutRecord), wire.InfoRecordSize),

	fn("lock_new", wire.OpLockNew, "kind", kI32, "value", kI32, "handle", kOutI32),
	fn("lock_acquire", wire.OpLockAcquire, "handle", kI32, "timeout_ns", kI64, "acquired", kOutI32),
	fn("lock_release", wire.OpLockRelease, "handle", kI32),
	withRecord(fn("lock_info", wire.OpLockInfo, "handle", kI32, "info", kOutRecord), wire.InfoRecordSize),

	fn("event_new", wire.OpEventNew, "handle", kOutI32),
	fn("event_set", wire.OpEventSet, "handle", kI32),
	fn("event_clear", wire.OpEventClear, "handle", kI32),
	fn("event_is_set", wire.OpEventIsSet, "handle", kI32, "set", kOutI32),
	fn("event_wait", wire.OpEventWait, "handle", kI32, "timeout_ns", kI64, "set", kOutI32),

	fn("cond_new", wire.OpCondNew, "lock_handle", kI32, "handle", kOutI32),
	fn("cond_wait", wire.OpCondWait, "handle", kI32, "timeout_ns", kI64, "notified", kOutI32),
	fn("cond_notify", wire.OpCondNotify, "handle", kI32, "n", kI32),
	fn("cond_notify_all", wire.OpCondNotifyAll, "handle", kI32),

	fn("ns_new", wire.OpNsNew, "kind", kI32, "handle", kOutI32),
	fn("ns_set", wire.OpNsSet, "handle", kI32, "key", kBytes, "value", kBytes),
	fn("ns_get", wire.OpNsGet, "handle", kI32, "key", kBytes, "value", kOutBuf),
	fn("ns_delete", wire.OpNsDelete, "handle", kI32, "key", kBytes),
	fn("ns_items", wire.OpNsItems, "handle", kI32, "items", kOutBuf),
	fn("ns_len", wire.OpNsLen, "handle", kI32, "len", kOutI32),
	fn("list_append", wire.OpListAppend, "handle", kI32, "value", kBytes),
	fn("list_get", wire.OpListGet, "handle", kI32, "index", kI32, "value", kOutBuf),
	fn("list_set", wire.OpListSet, "handle", kI32, "index", kI32, "value", kBytes),
	fn("list_pop", wire.OpListPop, "handle", kI32, "index", kI32, "value", kOutBuf),
}
