package abi

// LockKind is the kind argument of lock_new.
type LockKind int32

// The kinds of lock_new.
const (
	Lock             LockKind = 0 // multiprocessing.Lock
	RLock            LockKind = 1 // multiprocessing.RLock
	Semaphore        LockKind = 2 // multiprocessing.Semaphore(value)
	BoundedSemaphore LockKind = 3 // multiprocessing.BoundedSemaphore(value)
)

// ManagerKind is the kind argument of ns_new.
type ManagerKind int32

// The kinds of ns_new.
const (
	Namespace ManagerKind = 0 // Manager().Namespace()
	Dict      ManagerKind = 1 // Manager().dict()
	List      ManagerKind = 2 // Manager().list()
)

// ProcState is the state field of the proc_info record.
type ProcState uint32

// Process states.
const (
	StateInitial ProcState = 0 // created, not started
	StateStarted ProcState = 1 // started and alive
	StateStopped ProcState = 2 // ended; the exit code is valid
)

// FlagDaemon is bit 0 of the flags field of the proc_info record.
const FlagDaemon = 1 << 0

// Record is the layout of a fixed-size record an import writes: one
// little-endian 32-bit integer per field, in order.
type Record struct {
	Name   string
	Fields []string
}

// Size is the record's size in bytes.
func (r *Record) Size() int { return 4 * len(r.Fields) }

// Sizes of the records, as constants for array types (a test holds them
// equal to the layouts below).
const (
	ProcInfoSize = 24 // proc_info
	InfoSize     = 12 // queue_info, barrier_info, lock_info
)

// The records of the ABI.
var (
	ProcInfo    = &Record{"proc_info", []string{"state", "exit_code", "pid", "ppid", "parent", "flags"}}
	QueueInfo   = &Record{"queue_info", []string{"qsize", "maxsize", "unfinished"}}
	BarrierInfo = &Record{"barrier_info", []string{"parties", "n_waiting", "broken"}}
	LockInfo    = &Record{"lock_info", []string{"value", "owner", "count"}}
)

// Limits of the ABI.
const (
	// MaxCallBytes bounds the input bytes of one call (strings, messages,
	// values) and the output bytes of one reply. A larger call is refused
	// with E2BIG before it leaves the runner; a larger reply is answered
	// with E2BIG.
	MaxCallBytes = 64<<20 - 64<<10
	// MaxParams is the most logical parameters an import has.
	MaxParams = 6
)
