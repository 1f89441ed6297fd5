package mp

import (
	"encoding/binary"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// ipcABI is the part of the sandbox host module that serves shared
// objects ("Shared objects" in docs/ABI.md): one method per import, with
// Go slices where the ABI has (ptr, len) and Go strings for keys. The
// calls a program makes once per message or per operation (receive, poll,
// acquire, wait, the info records) return what the import writes through
// its out-pointers: a caller's local whose address reaches an import, or
// this interface, is allocated on the heap at every call (see out, in
// abi_ipc_wasip1.go).
type ipcABI interface {
	pipeNew(duplex bool, end0, end1 *int32) errno
	connSend(h int32, data []byte) errno
	connRecv(h int32, timeoutNs int64, buf []byte) (size uint32, e errno)
	connPoll(h int32, timeoutNs int64) (ready bool, e errno)
	connClose(h int32) errno

	queueNew(maxsize int32, joinable bool, h *int32) errno
	queuePut(h int32, data []byte, timeoutNs int64) errno
	queuePost(h int32, data []byte, timeoutNs int64) errno
	queueGet(h int32, timeoutNs int64, buf []byte) (size uint32, e errno)
	queueInfo(h int32) ([3]int32, errno)
	queueClose(h int32) errno
	queueTaskDone(h int32) errno
	queueJoin(h int32, timeoutNs int64) errno

	barrierNew(parties int32, timeoutNs int64, hasAction bool, h *int32) errno
	barrierWait(h int32, timeoutNs int64) (index int32, runAction bool, e errno)
	barrierActionDone(h int32, ok bool) errno
	barrierAbort(h int32) errno
	barrierReset(h int32) errno
	barrierInfo(h int32) ([3]int32, errno)

	lockNew(kind, value int32, h *int32) errno
	lockAcquire(h int32, timeoutNs int64) (acquired bool, e errno)
	lockRelease(h int32) errno
	lockInfo(h int32) ([3]int32, errno)

	eventNew(h *int32) errno
	eventSet(h int32) errno
	eventClear(h int32) errno
	eventIsSet(h int32) (set bool, e errno)
	eventWait(h int32, timeoutNs int64) (set bool, e errno)

	condNew(lock int32, h *int32) errno
	condWait(h int32, timeoutNs int64) (notified bool, e errno)
	condNotify(h int32, n int32) errno
	condNotifyAll(h int32) errno

	nsNew(kind int32, h *int32) errno
	nsSet(h int32, key string, value []byte) errno
	nsGet(h int32, key string, buf []byte, size *uint32) errno
	nsDelete(h int32, key string) errno
	nsItems(h int32, buf []byte, size *uint32) errno
	nsLen(h int32, n *int32) errno
	listAppend(h int32, value []byte) errno
	listGet(h int32, index int32, buf []byte, size *uint32) errno
	listSet(h int32, index int32, value []byte) errno
	listPop(h int32, index int32, buf []byte, size *uint32) errno
}

// recordSize is the size of the records queue_info, barrier_info and
// lock_info write: three little-endian i32.
const recordSize = abispec.InfoSize

// decodeRecord decodes a queue_info, barrier_info or lock_info record.
func decodeRecord(rec *[recordSize]byte) [3]int32 {
	le := binary.LittleEndian
	return [3]int32{int32(le.Uint32(rec[0:])), int32(le.Uint32(rec[4:])), int32(le.Uint32(rec[8:]))}
}

// Kinds of lock_new and ns_new.
const (
	kindLock             = int32(abispec.Lock)
	kindRLock            = int32(abispec.RLock)
	kindSemaphore        = int32(abispec.Semaphore)
	kindBoundedSemaphore = int32(abispec.BoundedSemaphore)

	kindNamespace = int32(abispec.Namespace)
	kindDict      = int32(abispec.Dict)
	kindList      = int32(abispec.List)
)
