// Package abi is the one description of the sandbox ABI: every import of the
// "sandbox" host module with its parameters (name, kind, direction), the
// errnos with their names and meanings, the kinds of objects, the layouts of
// the records the host writes, and the limits of a call.
//
// Everything else follows from it: package hostfuncs builds the imports
// from Ops, the host decodes every call into named values with Decode and
// answers through Args, the Go guest SDK takes its errno values, kinds and
// record sizes from here, and a test holds docs/ABI.md to it. The package
// depends on nothing but the standard library, so a guest can import it.
package abi

import (
	"fmt"
	"strings"
	"sync"
)

// Op identifies one import. Its value is the import's place in Ops plus
// one; it is private to one build (host and runner are the same binary),
// so only names matter across builds.
type Op uint16

// The imports, in the order of Ops.
const (
	OpProcNew Op = 1 + iota
	OpProcStart
	OpProcJoin
	OpProcTerminate
	OpProcKill
	OpProcInfo
	OpProcName
	OpProcSetName
	OpProcSetDaemon
	OpProcSelf
	OpProcParent
	OpProcChildren
	OpProcTarget
	OpProcArgs
	OpProcSetArgs

	OpPipeNew
	OpConnSend
	OpConnRecv
	OpConnPoll
	OpConnClose

	OpQueueNew
	OpQueuePut
	OpQueuePost
	OpQueueGet
	OpQueueInfo
	OpQueueClose
	OpQueueTaskDone
	OpQueueJoin

	OpBarrierNew
	OpBarrierWait
	OpBarrierActionDone
	OpBarrierAbort
	OpBarrierReset
	OpBarrierInfo

	OpLockNew
	OpLockAcquire
	OpLockRelease
	OpLockInfo

	OpEventNew
	OpEventSet
	OpEventClear
	OpEventIsSet
	OpEventWait

	OpCondNew
	OpCondWait
	OpCondNotify
	OpCondNotifyAll

	OpNsNew
	OpNsSet
	OpNsGet
	OpNsDelete
	OpNsItems
	OpNsLen
	OpListAppend
	OpListGet
	OpListSet
	OpListPop

	opEnd // one past the last op
)

// NumOps is the number of imports; ops run from 1 to NumOps.
const NumOps = int(opEnd) - 1

// Kind is how one logical parameter is passed and which way it goes.
type Kind uint8

// Parameter kinds. The In kinds carry a value to the host; the Out kinds
// are pointers the host's answer is written to.
const (
	// Handle is an i32 handle of a process or object.
	Handle Kind = iota + 1
	// I32 is an i32 number.
	I32
	// Bool is an i32 that is 0 or not.
	Bool
	// Timeout is an i64 of nanoseconds: negative waits forever, 0 does not
	// block.
	Timeout
	// Bytes is (ptr, len) of guest memory: opaque bytes.
	Bytes
	// Text is (ptr, len) of guest memory holding UTF-8.
	Text

	// OutHandle is a pointer to an i32 handle the host writes.
	OutHandle
	// OutI32 is a pointer to an i32 the host writes.
	OutI32
	// OutBool is a pointer to an i32 the host writes 0 or 1 to.
	OutBool
	// OutRecord is a pointer to a fixed-size record (Spec.Record).
	OutRecord
	// OutBuf is (buf, buf_len, size_ptr): the buffer convention for bytes.
	OutBuf
	// OutText is OutBuf holding UTF-8.
	OutText
	// OutI32s is (buf, cap, count_ptr): the buffer convention for an array
	// of i32, counted in elements.
	OutI32s
)

// Out reports whether k is a result.
func (k Kind) Out() bool { return k >= OutHandle }

// inInt reports whether an input of kind k travels as an integer (and
// OutBuf, OutText and OutI32s carry their capacity as one).
func (k Kind) inInt() bool {
	switch k {
	case Handle, I32, Bool, Timeout, OutBuf, OutText, OutI32s:
		return true
	}
	return false
}

// outInt reports whether a result of kind k travels as an integer (the
// others travel as bytes).
func (k Kind) outInt() bool { return k == OutHandle || k == OutI32 || k == OutBool }

// inBytes reports whether an input of kind k travels as bytes.
func (k Kind) inBytes() bool { return k == Bytes || k == Text }

// outBytes reports whether a result of kind k travels as bytes.
func (k Kind) outBytes() bool { return k.Out() && !k.outInt() }

// Wasm returns the WebAssembly value types of a parameter of kind k:
// "i32" or "i64", one per value.
func (k Kind) Wasm() []string {
	switch k {
	case Timeout:
		return []string{"i64"}
	case Bytes, Text:
		return []string{"i32", "i32"}
	case OutBuf, OutText, OutI32s:
		return []string{"i32", "i32", "i32"}
	}
	return []string{"i32"}
}

// Param names a parameter. The same name means the same thing in every
// import that has it.
type Param uint8

// Parameter names.
const (
	PHandle Param = iota + 1
	PTarget
	PArgs
	PName
	PClass
	PDaemon
	PTimeout
	PInfo
	PHandles
	PDuplex
	PEnd0
	PEnd1
	PData
	PReady
	PMaxsize
	PJoinable
	PParties
	PHasAction
	PIndex
	PRunAction
	POK
	PKind
	PValue
	PAcquired
	PSet
	PLockHandle
	PNotified
	PN
	PKey
	PItems
	PLen
	paramEnd
)

var paramNames = [...]string{
	PHandle: "handle", PTarget: "target", PArgs: "args", PName: "name",
	PClass: "class", PDaemon: "daemon", PTimeout: "timeout_ns", PInfo: "info",
	PHandles: "handles", PDuplex: "duplex", PEnd0: "end0", PEnd1: "end1",
	PData: "data", PReady: "ready", PMaxsize: "maxsize", PJoinable: "joinable",
	PParties: "parties", PHasAction: "has_action", PIndex: "index",
	PRunAction: "run_action", POK: "ok", PKind: "kind", PValue: "value",
	PAcquired: "acquired", PSet: "set", PLockHandle: "lock_handle",
	PNotified: "notified", PN: "n", PKey: "key", PItems: "items", PLen: "len",
}

// String returns the parameter's name as docs/ABI.md writes it.
func (p Param) String() string {
	if p > 0 && p < paramEnd {
		return paramNames[p]
	}
	return fmt.Sprintf("param(%d)", uint8(p))
}

// Field is one logical parameter of an import.
type Field struct {
	Param Param
	Kind  Kind
}

// Spec describes one import.
type Spec struct {
	Op   Op
	Name string // the import's name, e.g. "conn_recv"
	// Params are the logical parameters in order; each is one or more
	// WebAssembly parameters (Kind.Wasm).
	Params []Field
	// Record is the layout an OutRecord parameter receives.
	Record *Record
	// Blocks says the call may wait for another process.
	Blocks bool
	// Posts, when not zero, is the import this one posts: the same call,
	// with the same parameters and no results, sent to the host without
	// waiting for its answer (wire.KindPost). The host carries it out as
	// Posts, after the process's earlier calls and before its later ones,
	// and records it under Posts's name.
	Posts Op

	index [paramEnd]int8 // index[p]: place of p in Params plus one; 0: none
}

// Has reports whether the import has parameter p.
func (s *Spec) Has(p Param) bool { return p < paramEnd && s.index[p] != 0 }

// place returns where p is in Params; it panics when the import has no
// such parameter (a bug in a handler that tests catch).
func (s *Spec) place(p Param) int {
	if p >= paramEnd || s.index[p] == 0 {
		panic(fmt.Sprintf("abi: %s has no parameter %s", s.Name, p))
	}
	return int(s.index[p]) - 1
}

// WasmNames returns the names of the import's WebAssembly parameters, as
// docs/ABI.md writes them: a Bytes "data" is data_ptr, data_len; a buffer
// is buf, buf_len, size_ptr; an array is buf, cap, count_ptr; a scalar or
// record result "x" is x_ptr.
func (s *Spec) WasmNames() []string {
	var out []string
	for _, f := range s.Params {
		n := f.Param.String()
		switch f.Kind {
		case Bytes, Text:
			out = append(out, n+"_ptr", n+"_len")
		case OutBuf, OutText:
			out = append(out, "buf", "buf_len", "size_ptr")
		case OutI32s:
			out = append(out, "buf", "cap", "count_ptr")
		case OutHandle, OutI32, OutBool, OutRecord:
			out = append(out, n+"_ptr")
		default:
			out = append(out, n)
		}
	}
	return out
}

// Signature is the import as docs/ABI.md heads it, without the result:
// "conn_recv(handle, timeout_ns: i64, buf, buf_len, size_ptr)". Numbers
// carry their type; handles and pointers do not.
func (s *Spec) Signature() string {
	var parts []string
	names := s.WasmNames()
	i := 0
	for _, f := range s.Params {
		for range f.Kind.Wasm() {
			n := names[i]
			switch f.Kind {
			case I32, Bool:
				n += ": i32"
			case Timeout:
				n += ": i64"
			}
			parts = append(parts, n)
			i++
		}
	}
	return s.Name + "(" + strings.Join(parts, ", ") + ")"
}

// Lookup returns the import of op, or nil.
func Lookup(op Op) *Spec {
	ops := table()
	if op == 0 || int(op) > len(ops) {
		return nil
	}
	return &ops[op-1]
}

// ByName returns the import called name, or nil.
func ByName(name string) *Spec {
	ops := table()
	for i := range ops {
		if ops[i].Name == name {
			return &ops[i]
		}
	}
	return nil
}

// Ops returns every import, in the order of their Op values.
func Ops() []*Spec {
	ops := table()
	out := make([]*Spec, len(ops))
	for i := range ops {
		out[i] = &ops[i]
	}
	return out
}

// String returns the import's name, e.g. "queue_put".
func (o Op) String() string {
	if s := Lookup(o); s != nil {
		return s.Name
	}
	return fmt.Sprintf("op(%d)", uint16(o))
}

func in(p Param, k Kind) Field { return Field{p, k} }

// op builds a Spec; its index is filled in by table.
func op(o Op, name string, params ...Field) Spec {
	return Spec{Op: o, Name: name, Params: params}
}

func blocking(s Spec) Spec { s.Blocks = true; return s }

func record(s Spec, r *Record) Spec { s.Record = r; return s }

func posts(target Op, s Spec) Spec { s.Posts = target; return s }

var (
	tableOnce sync.Once
	ops       []Spec
)

// table returns the whole module. It is built on first use, so that a
// guest that takes only constants from this package links no table.
func table() []Spec {
	tableOnce.Do(func() {
		ops = buildTable()
		for i := range ops {
			s := &ops[i]
			for j, f := range s.Params {
				s.index[f.Param] = int8(j + 1)
			}
		}
	})
	return ops
}

// buildTable lists every import; docs/ABI.md documents each.
func buildTable() []Spec {
	return []Spec{
		op(OpProcNew, "proc_new", in(PTarget, Text), in(PArgs, Bytes), in(PName, Text), in(PClass, Text), in(PDaemon, Bool), in(PHandle, OutHandle)),
		op(OpProcStart, "proc_start", in(PHandle, Handle)),
		blocking(op(OpProcJoin, "proc_join", in(PHandle, Handle), in(PTimeout, Timeout))),
		op(OpProcTerminate, "proc_terminate", in(PHandle, Handle)),
		op(OpProcKill, "proc_kill", in(PHandle, Handle)),
		record(op(OpProcInfo, "proc_info", in(PHandle, Handle), in(PInfo, OutRecord)), ProcInfo),
		op(OpProcName, "proc_name", in(PHandle, Handle), in(PName, OutText)),
		op(OpProcSetName, "proc_set_name", in(PHandle, Handle), in(PName, Text)),
		op(OpProcSetDaemon, "proc_set_daemon", in(PHandle, Handle), in(PDaemon, Bool)),
		op(OpProcSelf, "proc_self", in(PHandle, OutHandle)),
		op(OpProcParent, "proc_parent", in(PHandle, OutHandle)),
		op(OpProcChildren, "proc_children", in(PHandles, OutI32s)),
		op(OpProcTarget, "proc_target", in(PTarget, OutText)),
		op(OpProcArgs, "proc_args", in(PArgs, OutBuf)),
		op(OpProcSetArgs, "proc_set_args", in(PHandle, Handle), in(PArgs, Bytes)),

		op(OpPipeNew, "pipe_new", in(PDuplex, Bool), in(PEnd0, OutHandle), in(PEnd1, OutHandle)),
		op(OpConnSend, "conn_send", in(PHandle, Handle), in(PData, Bytes)),
		blocking(op(OpConnRecv, "conn_recv", in(PHandle, Handle), in(PTimeout, Timeout), in(PData, OutBuf))),
		blocking(op(OpConnPoll, "conn_poll", in(PHandle, Handle), in(PTimeout, Timeout), in(PReady, OutBool))),
		op(OpConnClose, "conn_close", in(PHandle, Handle)),

		op(OpQueueNew, "queue_new", in(PMaxsize, I32), in(PJoinable, Bool), in(PHandle, OutHandle)),
		blocking(op(OpQueuePut, "queue_put", in(PHandle, Handle), in(PData, Bytes), in(PTimeout, Timeout))),
		posts(OpQueuePut, op(OpQueuePost, "queue_post", in(PHandle, Handle), in(PData, Bytes), in(PTimeout, Timeout))),
		blocking(op(OpQueueGet, "queue_get", in(PHandle, Handle), in(PTimeout, Timeout), in(PData, OutBuf))),
		record(op(OpQueueInfo, "queue_info", in(PHandle, Handle), in(PInfo, OutRecord)), QueueInfo),
		op(OpQueueClose, "queue_close", in(PHandle, Handle)),
		op(OpQueueTaskDone, "queue_task_done", in(PHandle, Handle)),
		blocking(op(OpQueueJoin, "queue_join", in(PHandle, Handle), in(PTimeout, Timeout))),

		op(OpBarrierNew, "barrier_new", in(PParties, I32), in(PTimeout, Timeout), in(PHasAction, Bool), in(PHandle, OutHandle)),
		blocking(op(OpBarrierWait, "barrier_wait", in(PHandle, Handle), in(PTimeout, Timeout), in(PIndex, OutI32), in(PRunAction, OutBool))),
		op(OpBarrierActionDone, "barrier_action_done", in(PHandle, Handle), in(POK, Bool)),
		op(OpBarrierAbort, "barrier_abort", in(PHandle, Handle)),
		op(OpBarrierReset, "barrier_reset", in(PHandle, Handle)),
		record(op(OpBarrierInfo, "barrier_info", in(PHandle, Handle), in(PInfo, OutRecord)), BarrierInfo),

		op(OpLockNew, "lock_new", in(PKind, I32), in(PValue, I32), in(PHandle, OutHandle)),
		blocking(op(OpLockAcquire, "lock_acquire", in(PHandle, Handle), in(PTimeout, Timeout), in(PAcquired, OutBool))),
		op(OpLockRelease, "lock_release", in(PHandle, Handle)),
		record(op(OpLockInfo, "lock_info", in(PHandle, Handle), in(PInfo, OutRecord)), LockInfo),

		op(OpEventNew, "event_new", in(PHandle, OutHandle)),
		op(OpEventSet, "event_set", in(PHandle, Handle)),
		op(OpEventClear, "event_clear", in(PHandle, Handle)),
		op(OpEventIsSet, "event_is_set", in(PHandle, Handle), in(PSet, OutBool)),
		blocking(op(OpEventWait, "event_wait", in(PHandle, Handle), in(PTimeout, Timeout), in(PSet, OutBool))),

		op(OpCondNew, "cond_new", in(PLockHandle, Handle), in(PHandle, OutHandle)),
		blocking(op(OpCondWait, "cond_wait", in(PHandle, Handle), in(PTimeout, Timeout), in(PNotified, OutBool))),
		op(OpCondNotify, "cond_notify", in(PHandle, Handle), in(PN, I32)),
		op(OpCondNotifyAll, "cond_notify_all", in(PHandle, Handle)),

		op(OpNsNew, "ns_new", in(PKind, I32), in(PHandle, OutHandle)),
		op(OpNsSet, "ns_set", in(PHandle, Handle), in(PKey, Text), in(PValue, Bytes)),
		op(OpNsGet, "ns_get", in(PHandle, Handle), in(PKey, Text), in(PValue, OutBuf)),
		op(OpNsDelete, "ns_delete", in(PHandle, Handle), in(PKey, Text)),
		op(OpNsItems, "ns_items", in(PHandle, Handle), in(PItems, OutBuf)),
		op(OpNsLen, "ns_len", in(PHandle, Handle), in(PLen, OutI32)),
		op(OpListAppend, "list_append", in(PHandle, Handle), in(PValue, Bytes)),
		op(OpListGet, "list_get", in(PHandle, Handle), in(PIndex, I32), in(PValue, OutBuf)),
		op(OpListSet, "list_set", in(PHandle, Handle), in(PIndex, I32), in(PValue, Bytes)),
		op(OpListPop, "list_pop", in(PHandle, Handle), in(PIndex, I32), in(PValue, OutBuf)),
	}
}
