package mp

import (
	"encoding/binary"
	"fmt"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// abi is the sandbox host module as Go sees it: one method per import of
// docs/ABI.md, with Go slices where the ABI has (ptr, len). The wasip1
// implementation (abi_wasip1.go) passes them to the host unchanged; the
// stub of other platforms (abi_other.go) fails every call; tests use a
// fake. Everything above this interface is portable Go.
type abi interface {
	procNew(target string, args []byte, name, class string, daemon bool, handle *int32) errno
	procStart(h int32) errno
	procJoin(h int32, timeoutNs int64) errno
	procTerminate(h int32) errno
	procKill(h int32) errno
	procInfo(h int32, rec *[infoSize]byte) errno
	procName(h int32, buf []byte, size *uint32) errno
	procSetName(h int32, name string) errno
	procSetDaemon(h int32, daemon bool) errno
	procSelf(h *int32) errno
	procParent(h *int32) errno
	procChildren(buf []int32, count *uint32) errno
	procTarget(buf []byte, size *uint32) errno
	procArgs(buf []byte, size *uint32) errno
	procSetArgs(h int32, args []byte) errno

	ipcABI // the shared objects: abi_ipc.go
}

// maxBufferTries bounds the grow-and-retry loop of readBuffer. The size
// may change between two calls (a process renamed meanwhile), so more than
// two calls can be needed, but a host that keeps answering E2SMALL with a
// size that fits is broken.
const maxBufferTries = 8

// readBuffer implements the ABI buffer convention: call with a buffer of
// initial elements; on E2SMALL grow it to the size the host wrote and call
// again. It returns the result, sliced to the size the host wrote.
func readBuffer[T any](initial int, call func(buf []T, size *uint32) errno) ([]T, error) {
	buf := make([]T, initial)
	for range maxBufferTries {
		var size uint32
		switch e := call(buf, &size); e {
		case errnoOK:
			if uint64(size) > uint64(len(buf)) {
				return nil, fmt.Errorf("%w: result of %d for a buffer of %d", ErrHost, size, len(buf))
			}
			return buf[:size], nil
		case errnoTooSmall:
			if uint64(size) <= uint64(len(buf)) {
				return nil, fmt.Errorf("%w: the host asked for %d, the buffer held %d", ErrTooSmall, size, len(buf))
			}
			buf = make([]T, size)
		default:
			return nil, e.err()
		}
	}
	return nil, fmt.Errorf("%w: the size kept changing", ErrTooSmall)
}

// infoSize is the size of the record proc_info writes.
const infoSize = abispec.ProcInfoSize

// procState is the state field of the proc_info record.
type procState = abispec.ProcState

const (
	stateInitial = abispec.StateInitial
	stateStarted = abispec.StateStarted
	stateStopped = abispec.StateStopped
)

// flagDaemon is bit 0 of the flags field of the proc_info record.
const flagDaemon = abispec.FlagDaemon

// procInfo is the decoded proc_info record.
type procInfo struct {
	state    procState
	exitCode int32 // valid when state is stateStopped
	pid      int32 // OS pid of the process's runner, 0 before start
	ppid     int32 // OS pid of its creator's runner
	creator  int32 // handle of its creator, 0 for MainProcess
	flags    uint32
}

func (i procInfo) daemon() bool { return i.flags&flagDaemon != 0 }

// decodeInfo decodes the little-endian proc_info record.
func decodeInfo(rec *[infoSize]byte) procInfo {
	le := binary.LittleEndian
	return procInfo{
		state:    procState(le.Uint32(rec[0:])),
		exitCode: int32(le.Uint32(rec[4:])),
		pid:      int32(le.Uint32(rec[8:])),
		ppid:     int32(le.Uint32(rec[12:])),
		creator:  int32(le.Uint32(rec[16:])),
		flags:    le.Uint32(rec[20:]),
	}
}

// encodeInfo is the inverse of decodeInfo (used by tests and fakes).
func encodeInfo(i procInfo) [infoSize]byte {
	var rec [infoSize]byte
	le := binary.LittleEndian
	le.PutUint32(rec[0:], uint32(i.state))
	le.PutUint32(rec[4:], uint32(i.exitCode))
	le.PutUint32(rec[8:], uint32(i.pid))
	le.PutUint32(rec[12:], uint32(i.ppid))
	le.PutUint32(rec[16:], uint32(i.creator))
	le.PutUint32(rec[20:], i.flags)
	return rec
}
