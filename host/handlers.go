package host

import "github.com/sandbox-dev/sandbox/internal/abi"

// handlers is the host's side of every import, indexed by op. A test
// checks that every import of the ABI has one. It is filled in by init
// because a handler that starts a process leads back to Supervisor.call.
var handlers [abi.NumOps + 1]handler

func init() {
	handlers = [abi.NumOps + 1]handler{
		abi.OpProcNew:       (*Supervisor).procNew,
		abi.OpProcStart:     (*Supervisor).procStart,
		abi.OpProcJoin:      (*Supervisor).procJoin,
		abi.OpProcTerminate: (*Supervisor).procTerminate,
		abi.OpProcKill:      (*Supervisor).procKill,
		abi.OpProcInfo:      (*Supervisor).procInfo,
		abi.OpProcName:      (*Supervisor).procName,
		abi.OpProcSetName:   (*Supervisor).procSetName,
		abi.OpProcSetDaemon: (*Supervisor).procSetDaemon,
		abi.OpProcSelf:      (*Supervisor).procSelf,
		abi.OpProcParent:    (*Supervisor).procParent,
		abi.OpProcChildren:  (*Supervisor).procChildren,
		abi.OpProcTarget:    (*Supervisor).procTarget,
		abi.OpProcArgs:      (*Supervisor).procArgs,
		abi.OpProcSetArgs:   (*Supervisor).procSetArgs,

		abi.OpPipeNew:   (*Supervisor).pipeNew,
		abi.OpConnSend:  (*Supervisor).connSend,
		abi.OpConnRecv:  (*Supervisor).connRecv,
		abi.OpConnPoll:  (*Supervisor).connPoll,
		abi.OpConnClose: (*Supervisor).connClose,

		abi.OpQueueNew:      (*Supervisor).queueNew,
		abi.OpQueuePut:      (*Supervisor).queuePut,
		abi.OpQueueGet:      (*Supervisor).queueGet,
		abi.OpQueueInfo:     (*Supervisor).queueInfo,
		abi.OpQueueClose:    (*Supervisor).queueClose,
		abi.OpQueueTaskDone: (*Supervisor).queueTaskDone,
		abi.OpQueueJoin:     (*Supervisor).queueJoin,

		abi.OpBarrierNew:        (*Supervisor).barrierNew,
		abi.OpBarrierWait:       (*Supervisor).barrierWait,
		abi.OpBarrierActionDone: (*Supervisor).barrierActionDone,
		abi.OpBarrierAbort:      (*Supervisor).barrierAbort,
		abi.OpBarrierReset:      (*Supervisor).barrierReset,
		abi.OpBarrierInfo:       (*Supervisor).barrierInfo,

		abi.OpLockNew:     (*Supervisor).lockNew,
		abi.OpLockAcquire: (*Supervisor).lockAcquire,
		abi.OpLockRelease: (*Supervisor).lockRelease,
		abi.OpLockInfo:    (*Supervisor).lockInfo,

		abi.OpEventNew:   (*Supervisor).eventNew,
		abi.OpEventSet:   (*Supervisor).eventSet,
		abi.OpEventClear: (*Supervisor).eventClear,
		abi.OpEventIsSet: (*Supervisor).eventIsSet,
		abi.OpEventWait:  (*Supervisor).eventWait,

		abi.OpCondNew:       (*Supervisor).condNew,
		abi.OpCondWait:      (*Supervisor).condWait,
		abi.OpCondNotify:    (*Supervisor).condNotify,
		abi.OpCondNotifyAll: (*Supervisor).condNotifyAll,

		abi.OpNsNew:      (*Supervisor).nsNew,
		abi.OpNsSet:      (*Supervisor).nsSet,
		abi.OpNsGet:      (*Supervisor).nsGet,
		abi.OpNsDelete:   (*Supervisor).nsDelete,
		abi.OpNsItems:    (*Supervisor).nsItems,
		abi.OpNsLen:      (*Supervisor).nsLen,
		abi.OpListAppend: (*Supervisor).listAppend,
		abi.OpListGet:    (*Supervisor).listGet,
		abi.OpListSet:    (*Supervisor).listSet,
		abi.OpListPop:    (*Supervisor).listPop,
	}
}
