package mp

import (
	"encoding/json"
	"fmt"
	"time"
)

// Lock is Python's multiprocessing.Lock: a non-recursive lock shared by
// every process. As in CPython, any process may release it, not only the
// one that acquired it; releasing it when it is not held is an error.
//
// A process that ends while holding a Lock (killed, say) releases it: the
// next process to acquire it gets it, and the host logs a warning naming
// the dead holder. (CPython would leave it held forever.)
//
//	func worker(l *mp.Lock, i int) {
//		l.Acquire()
//		defer l.Release()
//		fmt.Println("hello world", i)
//	}
//
//	l := mp.NewLock()
//	for i := range 3 {
//		mp.NewProcess(worker, mp.Args(l, i)).Start()
//	}
//
//	err := mp.NewLock().Release() // "semaphore or lock released too many times", wraps ErrValue
type Lock struct{ handle int32 }

// RLock is Python's multiprocessing.RLock: a recursive lock. The process
// holding it may acquire it again; it is free again when that process has
// released it as many times. Only the holder may release it. A process
// that ends holding it releases it, as a Lock.
//
//	r := mp.NewRLock()
//	r.Acquire()
//	r.Acquire() // no deadlock: this process owns it
//	r.Release()
//	r.Release()
//	err := r.Release() // "attempt to release recursive lock not owned by thread", wraps ErrNotOwner
type RLock struct{ handle int32 }

// Semaphore is Python's multiprocessing.Semaphore: a counter that Acquire
// decrements, waiting while it is 0, and Release increments. It has no
// owner: any process may release it.
//
//	s := mp.NewSemaphore(2) // at most two processes in the section at once
//	s.Acquire()
//	// ...
//	s.Release()
type Semaphore struct{ handle int32 }

// BoundedSemaphore is Python's multiprocessing.BoundedSemaphore: a
// Semaphore whose value may not be released above its initial value.
//
//	b := mp.NewBoundedSemaphore(1)
//	err := b.Release() // "semaphore or lock released too many times", wraps ErrValue
type BoundedSemaphore struct {
	handle int32
	max    int
}

// Locker is a lock a Condition can be built on: a *Lock or an *RLock.
type Locker interface {
	Acquire() error
	AcquireTimeout(d time.Duration) (bool, error)
	Release() error
	// lockRef is the JSON form of the lock; it keeps other types out.
	lockRef() objectJSON
}

var (
	_ Locker = (*Lock)(nil)
	_ Locker = (*RLock)(nil)

	_ json.Marshaler = (*Lock)(nil)
	_ json.Marshaler = (*RLock)(nil)
	_ json.Marshaler = (*Semaphore)(nil)
	_ json.Marshaler = (*BoundedSemaphore)(nil)
)

func newLock(what string, kind int32, value int) int32 {
	var h int32
	mustNew(what, host.lockNew(kind, int32(value), &h))
	return h
}

// NewLock returns a new, unlocked Lock.
//
// It panics if the host cannot create it.
func NewLock() *Lock { return &Lock{handle: newLock("Lock", kindLock, 0)} }

// NewRLock returns a new, unlocked RLock.
//
// It panics if the host cannot create it.
func NewRLock() *RLock { return &RLock{handle: newLock("RLock", kindRLock, 0)} }

// NewSemaphore returns a new Semaphore with value n, as Python's
// Semaphore(n).
//
// It panics if n is negative ("semaphore initial value must be >= 0") or
// if the host cannot create it.
func NewSemaphore(n int) *Semaphore {
	checkSemValue(n)
	return &Semaphore{handle: newLock("Semaphore", kindSemaphore, n)}
}

// NewBoundedSemaphore returns a new BoundedSemaphore with value n, which
// Release may not raise above n.
//
// It panics if n is negative or if the host cannot create it.
func NewBoundedSemaphore(n int) *BoundedSemaphore {
	checkSemValue(n)
	return &BoundedSemaphore{handle: newLock("BoundedSemaphore", kindBoundedSemaphore, n), max: n}
}

func checkSemValue(n int) {
	if n < 0 || n > 1<<31-1 {
		panic(fmt.Sprintf("mp: semaphore initial value must be >= 0, not %d", n))
	}
}

// acquire is lock_acquire: acquired is false when the timeout passed.
func acquire(kind string, h int32, timeoutNs int64) (bool, error) {
	ok, e := host.lockAcquire(checkHandle(kind, h), timeoutNs)
	if e != errnoOK {
		return false, objError(e, "acquire", nil)
	}
	return ok, nil
}

// lockInfo reads lock_info: value, owner handle, recursion count.
func lockInfo(kind string, h int32) [3]int32 {
	rec, e := host.lockInfo(checkHandle(kind, h))
	must(kind+" info", e)
	return rec
}

// Acquire waits until the lock is free and takes it. It blocks every
// goroutine of this process while it waits; a process that acquires a Lock
// it holds waits forever, as in Python.
func (l *Lock) Acquire() error {
	_, err := acquire("Lock", l.handle, -1)
	return err
}

// AcquireTimeout waits at most d for the lock; acquired is false if it
// was still held then (Python's acquire(timeout=d)).
func (l *Lock) AcquireTimeout(d time.Duration) (acquired bool, err error) {
	return acquire("Lock", l.handle, atMostArg(d))
}

// TryAcquire takes the lock if it is free, without waiting (Python's
// acquire(False)).
func (l *Lock) TryAcquire() (acquired bool, err error) { return acquire("Lock", l.handle, 0) }

// Release releases the lock. The error wraps ErrValue ("semaphore or lock
// released too many times") when it is not held.
func (l *Lock) Release() error {
	return objError(host.lockRelease(checkHandle("Lock", l.handle)), "release", releaseMsgs)
}

// Locked reports whether some process holds the lock.
func (l *Lock) Locked() bool { return lockInfo("Lock", l.handle)[0] != 0 }

// Handle returns the host's handle of the lock, valid in every process.
func (l *Lock) Handle() int32 { return checkHandle("Lock", l.handle) }

// String returns CPython's repr: <Lock(owner=None)>, <Lock(owner=NAME)>
// when this process holds it, <Lock(owner=SomeOtherProcess)>.
func (l *Lock) String() string {
	info := lockInfo("Lock", l.handle)
	return fmt.Sprintf("<Lock(owner=%s)>", ownerName(info))
}

// ownerName is the owner CPython's repr of a lock shows.
func ownerName(info [3]int32) string {
	if info[0] == 0 && info[1] == 0 {
		return "None"
	}
	if self, _, err := st.ids(); err == nil && info[1] == self {
		return CurrentProcess().Name()
	}
	return "SomeOtherProcess"
}

func (l *Lock) lockRef() objectJSON { return objectJSON{Kind: kindLockJSON, Handle: l.handle} }

// MarshalJSON encodes the lock as its handle, so it can be passed to a
// child.
func (l *Lock) MarshalJSON() ([]byte, error) { return marshalObject(kindLockJSON, l.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (l *Lock) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindLockJSON)
	l.handle = o.Handle
	return err
}

// Acquire waits until the lock is free or held by this process, and takes
// it (once more).
func (r *RLock) Acquire() error {
	_, err := acquire("RLock", r.handle, -1)
	return err
}

// AcquireTimeout waits at most d for the lock; acquired is false if
// another process still held it then.
func (r *RLock) AcquireTimeout(d time.Duration) (acquired bool, err error) {
	return acquire("RLock", r.handle, atMostArg(d))
}

// TryAcquire takes the lock if it is free or held by this process,
// without waiting.
func (r *RLock) TryAcquire() (acquired bool, err error) { return acquire("RLock", r.handle, 0) }

// Release releases one level of the lock. The error wraps ErrNotOwner
// when this process does not hold it (CPython's AssertionError "attempt
// to release recursive lock not owned by thread").
func (r *RLock) Release() error {
	return objError(host.lockRelease(checkHandle("RLock", r.handle)), "release", rlockReleaseMsgs)
}

// Locked reports whether some process holds the lock.
func (r *RLock) Locked() bool { return lockInfo("RLock", r.handle)[0] != 0 }

// Handle returns the host's handle of the lock, valid in every process.
func (r *RLock) Handle() int32 { return checkHandle("RLock", r.handle) }

// String returns CPython's repr: <RLock(None, 0)>, <RLock(NAME, COUNT)>
// when this process holds it, <RLock(SomeOtherProcess, nonzero)>.
func (r *RLock) String() string {
	info := lockInfo("RLock", r.handle)
	name := ownerName(info)
	switch name {
	case "None":
		return "<RLock(None, 0)>"
	case "SomeOtherProcess":
		return "<RLock(SomeOtherProcess, nonzero)>"
	}
	return fmt.Sprintf("<RLock(%s, %d)>", name, info[2])
}

func (r *RLock) lockRef() objectJSON { return objectJSON{Kind: kindRLockJSON, Handle: r.handle} }

// MarshalJSON encodes the lock as its handle, so it can be passed to a
// child.
func (r *RLock) MarshalJSON() ([]byte, error) { return marshalObject(kindRLockJSON, r.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (r *RLock) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindRLockJSON)
	r.handle = o.Handle
	return err
}

// Acquire waits until the value is above 0 and decrements it.
func (s *Semaphore) Acquire() error {
	_, err := acquire("Semaphore", s.handle, -1)
	return err
}

// AcquireTimeout waits at most d for the value to be above 0; acquired is
// false if it was still 0 then.
func (s *Semaphore) AcquireTimeout(d time.Duration) (acquired bool, err error) {
	return acquire("Semaphore", s.handle, atMostArg(d))
}

// TryAcquire decrements the value if it is above 0, without waiting.
func (s *Semaphore) TryAcquire() (acquired bool, err error) {
	return acquire("Semaphore", s.handle, 0)
}

// Release increments the value. The error wraps ErrValue at the largest
// value a semaphore can hold.
func (s *Semaphore) Release() error {
	return objError(host.lockRelease(checkHandle("Semaphore", s.handle)), "release", releaseMsgs)
}

// Value returns the current value (Python's get_value()).
func (s *Semaphore) Value() int { return int(lockInfo("Semaphore", s.handle)[0]) }

// Handle returns the host's handle of the semaphore, valid in every
// process.
func (s *Semaphore) Handle() int32 { return checkHandle("Semaphore", s.handle) }

// String returns CPython's repr: <Semaphore(value=N)>.
func (s *Semaphore) String() string { return fmt.Sprintf("<Semaphore(value=%d)>", s.Value()) }

// MarshalJSON encodes the semaphore as its handle, so it can be passed to
// a child.
func (s *Semaphore) MarshalJSON() ([]byte, error) {
	return marshalObject(kindSemaphoreJSON, s.handle)
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (s *Semaphore) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindSemaphoreJSON)
	s.handle = o.Handle
	return err
}

// Acquire waits until the value is above 0 and decrements it.
func (b *BoundedSemaphore) Acquire() error {
	_, err := acquire("BoundedSemaphore", b.handle, -1)
	return err
}

// AcquireTimeout waits at most d for the value to be above 0; acquired is
// false if it was still 0 then.
func (b *BoundedSemaphore) AcquireTimeout(d time.Duration) (acquired bool, err error) {
	return acquire("BoundedSemaphore", b.handle, atMostArg(d))
}

// TryAcquire decrements the value if it is above 0, without waiting.
func (b *BoundedSemaphore) TryAcquire() (acquired bool, err error) {
	return acquire("BoundedSemaphore", b.handle, 0)
}

// Release increments the value. The error wraps ErrValue ("semaphore or
// lock released too many times") when the value is already the initial
// one.
func (b *BoundedSemaphore) Release() error {
	return objError(host.lockRelease(checkHandle("BoundedSemaphore", b.handle)), "release", releaseMsgs)
}

// Value returns the current value (Python's get_value()).
func (b *BoundedSemaphore) Value() int {
	return int(lockInfo("BoundedSemaphore", b.handle)[0])
}

// Handle returns the host's handle of the semaphore, valid in every
// process.
func (b *BoundedSemaphore) Handle() int32 { return checkHandle("BoundedSemaphore", b.handle) }

// String returns CPython's repr: <BoundedSemaphore(value=N, maxvalue=M)>.
func (b *BoundedSemaphore) String() string {
	return fmt.Sprintf("<BoundedSemaphore(value=%d, maxvalue=%d)>", b.Value(), b.max)
}

// MarshalJSON encodes the semaphore as its handle and initial value, so it
// can be passed to a child.
func (b *BoundedSemaphore) MarshalJSON() ([]byte, error) {
	if b.handle == 0 {
		return marshalObject(kindBoundedJSON, 0)
	}
	return json.Marshal(objectJSON{Kind: kindBoundedJSON, Handle: b.handle, Value: b.max})
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (b *BoundedSemaphore) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindBoundedJSON)
	b.handle, b.max = o.Handle, o.Value
	return err
}

// The messages of release's errors, made once: a map literal in the call
// is built at every call, and a lock's acquire and release are the
// cheapest calls there are.
var (
	releaseMsgs      = map[errno]string{errnoValue: "semaphore or lock released too many times"}
	rlockReleaseMsgs = map[errno]string{errnoNotOwner: "attempt to release recursive lock not owned by thread"}
)
