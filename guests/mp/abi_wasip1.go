//go:build wasip1

package mp

import "unsafe"

// The imports of the sandbox host module (docs/ABI.md). Strings are passed
// by the Go toolchain as (ptr, len); byte and handle buffers as
// unsafe.Pointer and a length, since //go:wasmimport takes no slices.

//go:wasmimport sandbox proc_new
func sandboxProcNew(target string, argsPtr unsafe.Pointer, argsLen uint32, name string, class string, daemon uint32, handle *int32) uint32

//go:wasmimport sandbox proc_start
func sandboxProcStart(handle int32) uint32

//go:wasmimport sandbox proc_join
func sandboxProcJoin(handle int32, timeoutNs int64) uint32

//go:wasmimport sandbox proc_terminate
func sandboxProcTerminate(handle int32) uint32

//go:wasmimport sandbox proc_kill
func sandboxProcKill(handle int32) uint32

//go:wasmimport sandbox proc_info
func sandboxProcInfo(handle int32, info unsafe.Pointer) uint32

//go:wasmimport sandbox proc_name
func sandboxProcName(handle int32, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox proc_set_name
func sandboxProcSetName(handle int32, name string) uint32

//go:wasmimport sandbox proc_set_daemon
func sandboxProcSetDaemon(handle int32, daemon uint32) uint32

//go:wasmimport sandbox proc_self
func sandboxProcSelf(handle *int32) uint32

//go:wasmimport sandbox proc_parent
func sandboxProcParent(handle *int32) uint32

//go:wasmimport sandbox proc_children
func sandboxProcChildren(buf unsafe.Pointer, capacity uint32, count *uint32) uint32

//go:wasmimport sandbox proc_target
func sandboxProcTarget(buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox proc_args
func sandboxProcArgs(buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox proc_set_args
func sandboxProcSetArgs(handle int32, argsPtr unsafe.Pointer, argsLen uint32) uint32

// host is the sandbox host module. Here it is the imports themselves,
// not the abi interface (abi_other.go): every call is then a direct call
// the compiler may inline, where an interface's indirect call cost each
// of a lock's acquire and release about 25 ns of its few hundred. The
// tests that stand a fake in for it (fake_test.go) build on other
// platforms only.
var host wasmABI

// wasmABI calls the imports of the sandbox host module.
type wasmABI struct{}

var _ abi = wasmABI{}

func bytesPtr(b []byte) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))
}

func boolArg(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func (wasmABI) procNew(target string, args []byte, name, class string, daemon bool, handle *int32) errno {
	p, n := bytesPtr(args)
	return errno(sandboxProcNew(target, p, n, name, class, boolArg(daemon), handle))
}

func (wasmABI) procStart(h int32) errno { return errno(sandboxProcStart(h)) }

func (wasmABI) procJoin(h int32, timeoutNs int64) errno {
	return errno(sandboxProcJoin(h, timeoutNs))
}

func (wasmABI) procTerminate(h int32) errno { return errno(sandboxProcTerminate(h)) }

func (wasmABI) procKill(h int32) errno { return errno(sandboxProcKill(h)) }

func (wasmABI) procInfo(h int32, rec *[infoSize]byte) errno {
	return errno(sandboxProcInfo(h, unsafe.Pointer(rec)))
}

func (wasmABI) procName(h int32, buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxProcName(h, p, n, size))
}

func (wasmABI) procSetName(h int32, name string) errno {
	return errno(sandboxProcSetName(h, name))
}

func (wasmABI) procSetDaemon(h int32, daemon bool) errno {
	return errno(sandboxProcSetDaemon(h, boolArg(daemon)))
}

func (wasmABI) procSelf(h *int32) errno { return errno(sandboxProcSelf(h)) }

func (wasmABI) procParent(h *int32) errno { return errno(sandboxProcParent(h)) }

func (wasmABI) procChildren(buf []int32, count *uint32) errno {
	return errno(sandboxProcChildren(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)), count))
}

func (wasmABI) procTarget(buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxProcTarget(p, n, size))
}

func (wasmABI) procArgs(buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxProcArgs(p, n, size))
}

func (wasmABI) procSetArgs(h int32, args []byte) errno {
	p, n := bytesPtr(args)
	return errno(sandboxProcSetArgs(h, p, n))
}
