package wire

import "fmt"

// Op names one host function of the ABI (see docs/ABI.md). The numbers are
// private to one build: host and runner are always the same binary.
type Op uint16

// Process operations.
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

	// Pipes.
	OpPipeNew
	OpConnSend
	OpConnRecv
	OpConnPoll
	OpConnClose
	// Queues.
	OpQueueNew
	OpQueuePut
	OpQueueGet
	OpQueueInfo
	OpQueueClose
	OpQueueTaskDone
	OpQueueJoin
	// Barriers.
	OpBarrierNew
	OpBarrierWait
	OpBarrierActionDone
	OpBarrierAbort
	OpBarrierReset
	OpBarrierInfo
	// Locks and semaphores.
	OpLockNew
	OpLockAcquire
	OpLockRelease
	OpLockInfo
	// Events.
	OpEventNew
	OpEventSet
	OpEventClear
	OpEventIsSet
	OpEventWait
	// Conditions.
	OpCondNew
	OpCondWait
	OpCondNotify
	OpCondNotifyAll
	// Manager objects.
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
)

// Errno values of the ABI (docs/ABI.md). Values are never reused.
const (
	OK          int32 = 0
	EFAULT      int32 = 1
	EINVAL      int32 = 2
	EBADH       int32 = 3
	E2SMALL     int32 = 4
	ETIMEDOUT   int32 = 5
	EPERM       int32 = 6
	ESTATE      int32 = 7
	EAGAIN      int32 = 8
	EIO         int32 = 9
	E2BIG       int32 = 10
	EEOF        int32 = 11
	EFULL       int32 = 12
	EEMPTY      int32 = 13
	EBROKEN     int32 = 14
	ECLOSED     int32 = 15
	ENOTOWNER   int32 = 16
	EVALUE      int32 = 17
	ENOKEY      int32 = 18
	EDIRECTION  int32 = 19
	EBROKENPIPE int32 = 20
	EINDEX      int32 = 21
)

// Sizes of the fixed records of queue_info, barrier_info and lock_info.
const InfoRecordSize = 12

// ProcInfoSize is the size of the record proc_info writes.
const ProcInfoSize = 24

// Process states in the proc_info record.
const (
	StateInitial = 0
	StateStarted = 1
	StateStopped = 2
)

var opNames = map[Op]string{
	OpProcNew:           "proc_new",
	OpProcStart:         "proc_start",
	OpProcJoin:          "proc_join",
	OpProcTerminate:     "proc_terminate",
	OpProcKill:          "proc_kill",
	OpProcInfo:          "proc_info",
	OpProcName:          "proc_name",
	OpProcSetName:       "proc_set_name",
	OpProcSetDaemon:     "proc_set_daemon",
	OpProcSelf:          "proc_self",
	OpProcParent:        "proc_parent",
	OpProcChildren:      "proc_children",
	OpProcTarget:        "proc_target",
	OpProcArgs:          "proc_args",
	OpProcSetArgs:       "proc_set_args",
	OpPipeNew:           "pipe_new",
	OpConnSend:          "conn_send",
	OpConnRecv:          "conn_recv",
	OpConnPoll:          "conn_poll",
	OpConnClose:         "conn_close",
	OpQueueNew:          "queue_new",
	OpQueuePut:          "queue_put",
	OpQueueGet:          "queue_get",
	OpQueueInfo:         "queue_info",
	OpQueueClose:        "queue_close",
	OpQueueTaskDone:     "queue_task_done",
	OpQueueJoin:         "queue_join",
	OpBarrierNew:        "barrier_new",
	OpBarrierWait:       "barrier_wait",
	OpBarrierActionDone: "barrier_action_done",
	OpBarrierAbort:      "barrier_abort",
	OpBarrierReset:      "barrier_reset",
	OpBarrierInfo:       "barrier_info",
	OpLockNew:           "lock_new",
	OpLockAcquire:       "lock_acquire",
	OpLockRelease:       "lock_release",
	OpLockInfo:          "lock_info",
	OpEventNew:          "event_new",
	OpEventSet:          "event_set",
	OpEventClear:        "event_clear",
	OpEventIsSet:        "event_is_set",
	OpEventWait:         "event_wait",
	OpCondNew:           "cond_new",
	OpCondWait:          "cond_wait",
	OpCondNotify:        "cond_notify",
	OpCondNotifyAll:     "cond_notify_all",
	OpNsNew:             "ns_new",
	OpNsSet:             "ns_set",
	OpNsGet:             "ns_get",
	OpNsDelete:          "ns_delete",
	OpNsItems:           "ns_items",
	OpNsLen:             "ns_len",
	OpListAppend:        "list_append",
	OpListGet:           "list_get",
	OpListSet:           "list_set",
	OpListPop:           "list_pop",
}

// String returns the name of the import an op belongs to, e.g. "queue_put".
func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op(%d)", uint16(o))
}
