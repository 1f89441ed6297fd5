package ipc

import "errors"

// Sentinel errors. Methods wrap them with the CPython message as context
// ("value error: semaphore or lock released too many times"), so callers
// branch with errors.Is and may show the text after the colon to the guest.
var (
	// ErrTimeout is returned when a blocking call that has no better
	// answer (Pipe.Recv, Queue.Join) runs out of time.
	ErrTimeout = errors.New("timed out")
	// ErrEmpty is Python's queue.Empty.
	ErrEmpty = errors.New("queue is empty")
	// ErrFull is Python's queue.Full.
	ErrFull = errors.New("queue is full")
	// ErrEOF is Python's EOFError from Connection.recv: nothing is buffered
	// and no process holds the other end of the pipe any more.
	ErrEOF = errors.New("end of file")
	// ErrClosed is use of a pipe end the caller does not hold, or of a queue
	// the caller has closed.
	ErrClosed = errors.New("closed")
	// ErrDirection is sending on the receive-only end, or receiving on the
	// send-only end, of a one-way pipe.
	ErrDirection = errors.New("wrong direction")
	// ErrBrokenPipe is Python's BrokenPipeError: a send when no process
	// holds the receiving end any more.
	ErrBrokenPipe = errors.New("broken pipe")
	// ErrBroken is Python's threading.BrokenBarrierError.
	ErrBroken = errors.New("broken barrier")
	// ErrNotOwner is releasing an RLock the caller does not own, or using a
	// Condition without holding its lock (an AssertionError in CPython), or
	// finishing a barrier action the caller was not given.
	ErrNotOwner = errors.New("not owner")
	// ErrValue is Python's ValueError (a lock or semaphore released too
	// many times, task_done called too many times, a bad argument).
	ErrValue = errors.New("value error")
	// ErrNoKey is a missing Namespace attribute or Dict key (Python's
	// AttributeError or KeyError).
	ErrNoKey = errors.New("no such key")
	// ErrIndex is Python's IndexError for List.
	ErrIndex = errors.New("index error")
	// ErrTooSmall means the next message is larger than the caller's limit;
	// the message was not consumed and the call reports its size.
	ErrTooSmall = errors.New("buffer too small")
	// ErrExited is a call made on behalf of a process after its
	// ProcessExited; such a process can never again hold or take anything.
	ErrExited = errors.New("process has exited")
)

// errTimedOut is monitor.await's internal answer for an expired wait; each
// method turns it into its own public outcome (false, ErrFull, ...).
var errTimedOut = errors.New("wait timed out")
