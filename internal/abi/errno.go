package abi

import "fmt"

// Errno is the result of every import: OK, or why the call failed.
// Values are never reused (docs/ABI.md, "Errno").
type Errno int32

// The errnos of the ABI.
const (
	OK          Errno = 0
	EFAULT      Errno = 1
	EINVAL      Errno = 2
	EBADH       Errno = 3
	E2SMALL     Errno = 4
	ETIMEDOUT   Errno = 5
	EPERM       Errno = 6
	ESTATE      Errno = 7
	EAGAIN      Errno = 8
	EIO         Errno = 9
	E2BIG       Errno = 10
	EEOF        Errno = 11
	EFULL       Errno = 12
	EEMPTY      Errno = 13
	EBROKEN     Errno = 14
	ECLOSED     Errno = 15
	ENOTOWNER   Errno = 16
	EVALUE      Errno = 17
	ENOKEY      Errno = 18
	EDIRECTION  Errno = 19
	EBROKENPIPE Errno = 20
	EINDEX      Errno = 21
)

// errnos names every errno and says what it means, in the words of
// docs/ABI.md (a test holds the two equal).
var errnos = [...]struct{ name, text string }{
	OK:          {"OK", "success"},
	EFAULT:      {"EFAULT", "a pointer or length lies outside the guest's memory"},
	EINVAL:      {"EINVAL", "an argument is invalid (empty target, bad UTF-8, negative count, …)"},
	EBADH:       {"EBADH", "no such handle, or a handle of the wrong kind"},
	E2SMALL:     {"E2SMALL", "the buffer is too small; the size needed was written, nothing was lost"},
	ETIMEDOUT:   {"ETIMEDOUT", "the timeout passed before the operation could complete"},
	EPERM:       {"EPERM", "not allowed: e.g. a daemon process starting a child, joining a process that is not your child"},
	ESTATE:      {"ESTATE", "wrong state: starting a process twice, joining one never started"},
	EAGAIN:      {"EAGAIN", "a limit of the run was reached (e.g. the process limit); try again later"},
	EIO:         {"EIO", "the host failed to carry out the operation (e.g. a runner could not start)"},
	E2BIG:       {"E2BIG", "a message or argument is larger than the run allows"},
	EEOF:        {"EEOF", "end of file: the other end of a pipe is closed everywhere and nothing is left (Python's `EOFError`)"},
	EFULL:       {"EFULL", "the queue is full (`queue.Full`)"},
	EEMPTY:      {"EEMPTY", "the queue is empty (`queue.Empty`)"},
	EBROKEN:     {"EBROKEN", "the barrier is broken (`BrokenBarrierError`)"},
	ECLOSED:     {"ECLOSED", "the object (or this process's copy of a pipe end) is closed"},
	ENOTOWNER:   {"ENOTOWNER", "releasing a lock the caller does not hold, or waiting/notifying on a condition without holding its lock"},
	EVALUE:      {"EVALUE", "a value error: a semaphore or lock released too many times, `task_done` called too many times"},
	ENOKEY:      {"ENOKEY", "no such attribute or key"},
	EDIRECTION:  {"EDIRECTION", "the wrong end of a one-way pipe"},
	EBROKENPIPE: {"EBROKENPIPE", "sending on a pipe whose other end is closed everywhere (`BrokenPipeError`)"},
	EINDEX:      {"EINDEX", "list index out of range"},
}

// Errnos returns every errno of the ABI, in increasing order.
func Errnos() []Errno {
	out := make([]Errno, len(errnos))
	for i := range errnos {
		out[i] = Errno(i)
	}
	return out
}

// Known reports whether e is an errno of the ABI.
func (e Errno) Known() bool { return e >= 0 && int(e) < len(errnos) }

// String returns the errno's name, e.g. "EAGAIN".
func (e Errno) String() string {
	if e.Known() {
		return errnos[e].name
	}
	return fmt.Sprintf("errno(%d)", int32(e))
}

// Text says what the errno means, as docs/ABI.md does.
func (e Errno) Text() string {
	if e.Known() {
		return errnos[e].text
	}
	return "unknown errno"
}
