//go:build wasip1

package mp

import "unsafe"

// The imports of the sandbox host module that serve shared objects
// (docs/ABI.md, "Shared objects").

//go:wasmimport sandbox pipe_new
func sandboxPipeNew(duplex uint32, end0, end1 *int32) uint32

//go:wasmimport sandbox conn_send
func sandboxConnSend(handle int32, data unsafe.Pointer, dataLen uint32) uint32

//go:wasmimport sandbox conn_recv
func sandboxConnRecv(handle int32, timeoutNs int64, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox conn_poll
func sandboxConnPoll(handle int32, timeoutNs int64, ready *int32) uint32

//go:wasmimport sandbox conn_close
func sandboxConnClose(handle int32) uint32

//go:wasmimport sandbox queue_new
func sandboxQueueNew(maxsize int32, joinable uint32, handle *int32) uint32

//go:wasmimport sandbox queue_put
func sandboxQueuePut(handle int32, data unsafe.Pointer, dataLen uint32, timeoutNs int64) uint32

//go:wasmimport sandbox queue_post
func sandboxQueuePost(handle int32, data unsafe.Pointer, dataLen uint32, timeoutNs int64) uint32

//go:wasmimport sandbox queue_get
func sandboxQueueGet(handle int32, timeoutNs int64, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox queue_info
func sandboxQueueInfo(handle int32, info unsafe.Pointer) uint32

//go:wasmimport sandbox queue_close
func sandboxQueueClose(handle int32) uint32

//go:wasmimport sandbox queue_task_done
func sandboxQueueTaskDone(handle int32) uint32

//go:wasmimport sandbox queue_join
func sandboxQueueJoin(handle int32, timeoutNs int64) uint32

//go:wasmimport sandbox barrier_new
func sandboxBarrierNew(parties int32, timeoutNs int64, hasAction uint32, handle *int32) uint32

//go:wasmimport sandbox barrier_wait
func sandboxBarrierWait(handle int32, timeoutNs int64, index, runAction *int32) uint32

//go:wasmimport sandbox barrier_action_done
func sandboxBarrierActionDone(handle int32, ok uint32) uint32

//go:wasmimport sandbox barrier_abort
func sandboxBarrierAbort(handle int32) uint32

//go:wasmimport sandbox barrier_reset
func sandboxBarrierReset(handle int32) uint32

//go:wasmimport sandbox barrier_info
func sandboxBarrierInfo(handle int32, info unsafe.Pointer) uint32

//go:wasmimport sandbox lock_new
func sandboxLockNew(kind, value int32, handle *int32) uint32

//go:wasmimport sandbox lock_acquire
func sandboxLockAcquire(handle int32, timeoutNs int64, acquired *int32) uint32

//go:wasmimport sandbox lock_release
func sandboxLockRelease(handle int32) uint32

//go:wasmimport sandbox lock_info
func sandboxLockInfo(handle int32, info unsafe.Pointer) uint32

//go:wasmimport sandbox event_new
func sandboxEventNew(handle *int32) uint32

//go:wasmimport sandbox event_set
func sandboxEventSet(handle int32) uint32

//go:wasmimport sandbox event_clear
func sandboxEventClear(handle int32) uint32

//go:wasmimport sandbox event_is_set
func sandboxEventIsSet(handle int32, set *int32) uint32

//go:wasmimport sandbox event_wait
func sandboxEventWait(handle int32, timeoutNs int64, set *int32) uint32

//go:wasmimport sandbox cond_new
func sandboxCondNew(lock int32, handle *int32) uint32

//go:wasmimport sandbox cond_wait
func sandboxCondWait(handle int32, timeoutNs int64, notified *int32) uint32

//go:wasmimport sandbox cond_notify
func sandboxCondNotify(handle int32, n int32) uint32

//go:wasmimport sandbox cond_notify_all
func sandboxCondNotifyAll(handle int32) uint32

//go:wasmimport sandbox ns_new
func sandboxNsNew(kind int32, handle *int32) uint32

//go:wasmimport sandbox ns_set
func sandboxNsSet(handle int32, key string, value unsafe.Pointer, valueLen uint32) uint32

//go:wasmimport sandbox ns_get
func sandboxNsGet(handle int32, key string, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox ns_delete
func sandboxNsDelete(handle int32, key string) uint32

//go:wasmimport sandbox ns_items
func sandboxNsItems(handle int32, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox ns_len
func sandboxNsLen(handle int32, n *int32) uint32

//go:wasmimport sandbox list_append
func sandboxListAppend(handle int32, value unsafe.Pointer, valueLen uint32) uint32

//go:wasmimport sandbox list_get
func sandboxListGet(handle int32, index int32, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

//go:wasmimport sandbox list_set
func sandboxListSet(handle int32, index int32, value unsafe.Pointer, valueLen uint32) uint32

//go:wasmimport sandbox list_pop
func sandboxListPop(handle int32, index int32, buf unsafe.Pointer, bufLen uint32, size *uint32) uint32

// out is where the per-operation imports write their out-parameters,
// returned from here at once. The address of a local given to an import
// moves the local to the heap (the compiler cannot see what the import
// does with it), so each call allocated: a contended Lock's acquire spent
// over a third of its guest time in the allocator. A wasip1 guest runs one
// goroutine at a time, and no other runs while an import is called, so
// words read as soon as the import returns, before any call (a function's
// entry may switch goroutines), serve every call.
var out struct {
	words  [2]int32
	size   uint32
	record [recordSize]byte
}

func (wasmABI) pipeNew(duplex bool, end0, end1 *int32) errno {
	return errno(sandboxPipeNew(boolArg(duplex), end0, end1))
}

func (wasmABI) connSend(h int32, data []byte) errno {
	p, n := bytesPtr(data)
	return errno(sandboxConnSend(h, p, n))
}

func (wasmABI) connRecv(h int32, timeoutNs int64, buf []byte) (uint32, errno) {
	p, n := bytesPtr(buf)
	e := sandboxConnRecv(h, timeoutNs, p, n, &out.size)
	return out.size, errno(e)
}

func (wasmABI) connPoll(h int32, timeoutNs int64) (bool, errno) {
	e := sandboxConnPoll(h, timeoutNs, &out.words[0])
	return out.words[0] != 0, errno(e)
}

func (wasmABI) connClose(h int32) errno { return errno(sandboxConnClose(h)) }

func (wasmABI) queueNew(maxsize int32, joinable bool, h *int32) errno {
	return errno(sandboxQueueNew(maxsize, boolArg(joinable), h))
}

func (wasmABI) queuePut(h int32, data []byte, timeoutNs int64) errno {
	p, n := bytesPtr(data)
	return errno(sandboxQueuePut(h, p, n, timeoutNs))
}

func (wasmABI) queuePost(h int32, data []byte, timeoutNs int64) errno {
	p, n := bytesPtr(data)
	return errno(sandboxQueuePost(h, p, n, timeoutNs))
}

func (wasmABI) queueGet(h int32, timeoutNs int64, buf []byte) (uint32, errno) {
	p, n := bytesPtr(buf)
	e := sandboxQueueGet(h, timeoutNs, p, n, &out.size)
	return out.size, errno(e)
}

func (wasmABI) queueInfo(h int32) ([3]int32, errno) {
	e := sandboxQueueInfo(h, unsafe.Pointer(&out.record))
	rec := out.record // (copied before any call: see out)
	return decodeRecord(&rec), errno(e)
}

func (wasmABI) queueClose(h int32) errno    { return errno(sandboxQueueClose(h)) }
func (wasmABI) queueTaskDone(h int32) errno { return errno(sandboxQueueTaskDone(h)) }

func (wasmABI) queueJoin(h int32, timeoutNs int64) errno {
	return errno(sandboxQueueJoin(h, timeoutNs))
}

func (wasmABI) barrierNew(parties int32, timeoutNs int64, hasAction bool, h *int32) errno {
	return errno(sandboxBarrierNew(parties, timeoutNs, boolArg(hasAction), h))
}

func (wasmABI) barrierWait(h int32, timeoutNs int64) (int32, bool, errno) {
	e := sandboxBarrierWait(h, timeoutNs, &out.words[0], &out.words[1])
	return out.words[0], out.words[1] != 0, errno(e)
}

func (wasmABI) barrierActionDone(h int32, ok bool) errno {
	return errno(sandboxBarrierActionDone(h, boolArg(ok)))
}

func (wasmABI) barrierAbort(h int32) errno { return errno(sandboxBarrierAbort(h)) }
func (wasmABI) barrierReset(h int32) errno { return errno(sandboxBarrierReset(h)) }

func (wasmABI) barrierInfo(h int32) ([3]int32, errno) {
	e := sandboxBarrierInfo(h, unsafe.Pointer(&out.record))
	rec := out.record // (copied before any call: see out)
	return decodeRecord(&rec), errno(e)
}

func (wasmABI) lockNew(kind, value int32, h *int32) errno {
	return errno(sandboxLockNew(kind, value, h))
}

func (wasmABI) lockAcquire(h int32, timeoutNs int64) (bool, errno) {
	e := sandboxLockAcquire(h, timeoutNs, &out.words[0])
	return out.words[0] != 0, errno(e)
}

func (wasmABI) lockRelease(h int32) errno { return errno(sandboxLockRelease(h)) }

func (wasmABI) lockInfo(h int32) ([3]int32, errno) {
	e := sandboxLockInfo(h, unsafe.Pointer(&out.record))
	rec := out.record // (copied before any call: see out)
	return decodeRecord(&rec), errno(e)
}

func (wasmABI) eventNew(h *int32) errno  { return errno(sandboxEventNew(h)) }
func (wasmABI) eventSet(h int32) errno   { return errno(sandboxEventSet(h)) }
func (wasmABI) eventClear(h int32) errno { return errno(sandboxEventClear(h)) }
func (wasmABI) eventIsSet(h int32) (bool, errno) {
	e := sandboxEventIsSet(h, &out.words[0])
	return out.words[0] != 0, errno(e)
}

func (wasmABI) eventWait(h int32, timeoutNs int64) (bool, errno) {
	e := sandboxEventWait(h, timeoutNs, &out.words[0])
	return out.words[0] != 0, errno(e)
}

func (wasmABI) condNew(lock int32, h *int32) errno { return errno(sandboxCondNew(lock, h)) }

func (wasmABI) condWait(h int32, timeoutNs int64) (bool, errno) {
	e := sandboxCondWait(h, timeoutNs, &out.words[0])
	return out.words[0] != 0, errno(e)
}

func (wasmABI) condNotify(h int32, n int32) errno { return errno(sandboxCondNotify(h, n)) }
func (wasmABI) condNotifyAll(h int32) errno       { return errno(sandboxCondNotifyAll(h)) }

func (wasmABI) nsNew(kind int32, h *int32) errno { return errno(sandboxNsNew(kind, h)) }

func (wasmABI) nsSet(h int32, key string, value []byte) errno {
	p, n := bytesPtr(value)
	return errno(sandboxNsSet(h, key, p, n))
}

func (wasmABI) nsGet(h int32, key string, buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxNsGet(h, key, p, n, size))
}

func (wasmABI) nsDelete(h int32, key string) errno { return errno(sandboxNsDelete(h, key)) }

func (wasmABI) nsItems(h int32, buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxNsItems(h, p, n, size))
}

func (wasmABI) nsLen(h int32, n *int32) errno { return errno(sandboxNsLen(h, n)) }

func (wasmABI) listAppend(h int32, value []byte) errno {
	p, n := bytesPtr(value)
	return errno(sandboxListAppend(h, p, n))
}

func (wasmABI) listGet(h int32, index int32, buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxListGet(h, index, p, n, size))
}

func (wasmABI) listSet(h int32, index int32, value []byte) errno {
	p, n := bytesPtr(value)
	return errno(sandboxListSet(h, index, p, n))
}

func (wasmABI) listPop(h int32, index int32, buf []byte, size *uint32) errno {
	p, n := bytesPtr(buf)
	return errno(sandboxListPop(h, index, p, n, size))
}
