package mp

import (
	"errors"
	"fmt"
	"io"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// Sentinel errors, one for each errno of the sandbox ABI (docs/ABI.md).
// Methods return them wrapped with a message (CPython's where it has one,
// such as "cannot start a process twice"), so callers branch with
// errors.Is and may print the error as Python would print the exception.
var (
	// ErrFault is EFAULT: a pointer or length the SDK passed lies outside
	// the guest's memory. It means a bug in the SDK, not in the program.
	ErrFault = errors.New("pointer or length outside guest memory")
	// ErrInvalid is EINVAL: an argument is invalid (an empty name, bad
	// UTF-8, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrBadHandle is EBADH: no such handle, or a handle of the wrong kind.
	ErrBadHandle = errors.New("no such handle")
	// ErrTooSmall is E2SMALL: a result did not fit the buffer. The SDK grows
	// its buffers and calls again, so callers see it only if the host keeps
	// answering it.
	ErrTooSmall = errors.New("buffer too small")
	// ErrTimeout is ETIMEDOUT: the timeout passed before the operation
	// could complete.
	ErrTimeout = errors.New("timed out")
	// ErrPermission is EPERM: the operation is not allowed to the calling
	// process (a daemon starting a child, joining a process that is not a
	// child, ...).
	ErrPermission = errors.New("operation not permitted")
	// ErrState is ESTATE: the process is in the wrong state (started twice,
	// joined before it was started, ...).
	ErrState = errors.New("wrong state")
	// ErrLimit is EAGAIN: a limit of the run was reached (e.g. the number
	// of processes); the operation may succeed later.
	ErrLimit = errors.New("limit of the run reached")
	// ErrHost is EIO: the host failed to carry out the operation (e.g. a
	// runner could not start). It also wraps errnos this SDK does not know
	// and the failure of every call made outside the sandbox.
	ErrHost = errors.New("host failure")
	// ErrTooBig is E2BIG: a message or argument is larger than the run
	// allows.
	ErrTooBig = errors.New("message too large")
	// ErrEOF is EEOF, Python's EOFError: Conn.Recv found the other end of
	// the pipe closed in every process and nothing left to read. It
	// matches io.EOF too: errors.Is(err, io.EOF) holds.
	ErrEOF error = eofError{}
	// ErrFull is EFULL, Python's queue.Full: a Queue stayed full until the
	// timeout passed.
	ErrFull = errors.New("queue is full")
	// ErrEmpty is EEMPTY, Python's queue.Empty: a Queue stayed empty until
	// the timeout passed.
	ErrEmpty = errors.New("queue is empty")
	// ErrBrokenBarrier is EBROKEN, Python's threading.BrokenBarrierError:
	// the barrier was aborted, reset, or broken by a timeout or a dead
	// waiter.
	ErrBrokenBarrier = errors.New("broken barrier")
	// ErrClosed is ECLOSED: this process closed the pipe end or queue (or
	// never held the pipe end), Python's "OSError: handle is closed".
	ErrClosed = errors.New("handle is closed")
	// ErrNotOwner is ENOTOWNER: releasing an RLock the caller does not own,
	// or using a Condition without holding its lock (an AssertionError in
	// CPython).
	ErrNotOwner = errors.New("not owner")
	// ErrValue is EVALUE, Python's ValueError: a lock or semaphore
	// released too many times, TaskDone called too many times, a Pool
	// used in the wrong state.
	ErrValue = errors.New("value error")
	// ErrNoKey is ENOKEY: a missing Namespace attribute (Python's
	// AttributeError) or Dict key (KeyError).
	ErrNoKey = errors.New("no such key")
	// ErrDirection is EDIRECTION: sending on the receive-only end, or
	// receiving on the send-only end, of a one-way pipe (an OSError in
	// CPython).
	ErrDirection = errors.New("wrong direction")
	// ErrBrokenPipe is EBROKENPIPE, Python's BrokenPipeError: sending on a
	// pipe whose other end is closed in every process.
	ErrBrokenPipe = errors.New("broken pipe")
	// ErrIndex is EINDEX, Python's IndexError: a List index out of range.
	ErrIndex = errors.New("index out of range")
)

// eofError is ErrEOF: its own sentinel, which also matches io.EOF.
type eofError struct{}

func (eofError) Error() string        { return "EOF" }
func (eofError) Is(target error) bool { return target == io.EOF }

// errno is the result of every function of the sandbox host module.
type errno uint32

// Errno values of docs/ABI.md, from the one description of the ABI.
const (
	errnoOK         errno = errno(abispec.OK)
	errnoFault      errno = errno(abispec.EFAULT)
	errnoInvalid    errno = errno(abispec.EINVAL)
	errnoBadHandle  errno = errno(abispec.EBADH)
	errnoTooSmall   errno = errno(abispec.E2SMALL)
	errnoTimedOut   errno = errno(abispec.ETIMEDOUT)
	errnoPerm       errno = errno(abispec.EPERM)
	errnoState      errno = errno(abispec.ESTATE)
	errnoAgain      errno = errno(abispec.EAGAIN)
	errnoIO         errno = errno(abispec.EIO)
	errnoTooBig     errno = errno(abispec.E2BIG)
	errnoEOF        errno = errno(abispec.EEOF)
	errnoFull       errno = errno(abispec.EFULL)
	errnoEmpty      errno = errno(abispec.EEMPTY)
	errnoBroken     errno = errno(abispec.EBROKEN)
	errnoClosed     errno = errno(abispec.ECLOSED)
	errnoNotOwner   errno = errno(abispec.ENOTOWNER)
	errnoValue      errno = errno(abispec.EVALUE)
	errnoNoKey      errno = errno(abispec.ENOKEY)
	errnoDirection  errno = errno(abispec.EDIRECTION)
	errnoBrokenPipe errno = errno(abispec.EBROKENPIPE)
	errnoIndex      errno = errno(abispec.EINDEX)

	// errnoNoSandbox is never sent by a host: the stubs used outside wasip1
	// return it.
	errnoNoSandbox errno = 0xffffffff
)

var errnoErrors = [...]error{
	errnoFault:      ErrFault,
	errnoInvalid:    ErrInvalid,
	errnoBadHandle:  ErrBadHandle,
	errnoTooSmall:   ErrTooSmall,
	errnoTimedOut:   ErrTimeout,
	errnoPerm:       ErrPermission,
	errnoState:      ErrState,
	errnoAgain:      ErrLimit,
	errnoIO:         ErrHost,
	errnoTooBig:     ErrTooBig,
	errnoEOF:        ErrEOF,
	errnoFull:       ErrFull,
	errnoEmpty:      ErrEmpty,
	errnoBroken:     ErrBrokenBarrier,
	errnoClosed:     ErrClosed,
	errnoNotOwner:   ErrNotOwner,
	errnoValue:      ErrValue,
	errnoNoKey:      ErrNoKey,
	errnoDirection:  ErrDirection,
	errnoBrokenPipe: ErrBrokenPipe,
	errnoIndex:      ErrIndex,
}

// errNoSandbox is what every call answers outside the sandbox. (Not
// fmt.Errorf: a package variable is made in every process's start, and
// fmt's first use there cost about 40 µs of each.)
var errNoSandbox = &procError{msg: ErrHost.Error() + ": not running in the sandbox " +
	"(build with GOOS=wasip1 GOARCH=wasm and run with `sandbox run`)", err: ErrHost}

// err returns the sentinel error of e, nil for OK.
func (e errno) err() error {
	switch {
	case e == errnoOK:
		return nil
	case e == errnoNoSandbox:
		return errNoSandbox
	case int(e) < len(errnoErrors) && errnoErrors[e] != nil:
		return errnoErrors[e]
	default:
		return fmt.Errorf("%w: unknown errno %d", ErrHost, uint32(e))
	}
}

// procError is an error of one operation on a process: its text is the
// message a Python programmer expects, and it unwraps to a sentinel.
type procError struct {
	msg string
	err error
}

func (e *procError) Error() string { return e.msg }
func (e *procError) Unwrap() error { return e.err }

// opError turns the errno of operation op on the process named name into
// an error. msgs gives the message for some errnos (CPython's assertion
// texts); the others read "mp: op name: sentinel text".
func opError(e errno, op, name string, msgs map[errno]string) error {
	if e == errnoOK {
		return nil
	}
	return objFailed(e, op+" "+name, msgs)
}
