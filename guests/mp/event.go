package mp

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is Python's multiprocessing.Event: a flag shared by every
// process. Wait blocks until another process sets it.
//
// Its methods return no error: they panic if the host fails to answer,
// which means a broken run.
//
//	func waiter(e *mp.Event) {
//		e.Wait(-1) // until set
//		fmt.Println("go!")
//	}
//
//	e := mp.NewEvent()
//	p := mp.NewProcess(waiter, mp.Args(e))
//	p.Start()
//	e.Set()
//	p.Join()
type Event struct{ handle int32 }

var _ json.Marshaler = (*Event)(nil)

// NewEvent returns a new Event, not set.
//
// It panics if the host cannot create it.
func NewEvent() *Event {
	e := &Event{}
	mustNew("Event", host.eventNew(&e.handle))
	return e
}

func (e *Event) h() int32 { return checkHandle("Event", e.handle) }

// Handle returns the host's handle of the event, valid in every process.
func (e *Event) Handle() int32 { return e.h() }

// Set sets the flag and wakes every process waiting for it.
func (e *Event) Set() { must("event set", host.eventSet(e.h())) }

// Clear clears the flag.
func (e *Event) Clear() { must("event clear", host.eventClear(e.h())) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	set, en := host.eventIsSet(e.h())
	must("event is_set", en)
	return set
}

// Wait waits until the flag is set, at most timeout (0 does not wait, a
// negative timeout waits forever, Python's wait(None)), and returns the
// flag: false means the timeout passed first.
func (e *Event) Wait(timeout time.Duration) bool {
	set, en := host.eventWait(e.h(), waitArg(timeout))
	must("event wait", en)
	return set
}

// MarshalJSON encodes the event as its handle, so it can be passed to a
// child.
func (e *Event) MarshalJSON() ([]byte, error) { return marshalObject(kindEventJSON, e.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (e *Event) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindEventJSON)
	e.handle = o.Handle
	return err
}

// Condition is Python's multiprocessing.Condition: a lock (a Lock or an
// RLock) and a set of processes waiting to be notified. A process must
// hold the lock to Wait, Notify or NotifyAll; Wait releases it while it
// waits and takes it again before it returns.
//
//	func consumer(c *mp.Condition, ns *mp.Namespace) {
//		c.Acquire()
//		defer c.Release()
//		c.WaitFor(func() bool {
//			var ready bool
//			ns.Get("ready", &ready)
//			return ready
//		}, -1)
//		fmt.Println("ready")
//	}
//
//	c := mp.NewCondition(nil) // over a new RLock
//	ns := mp.Manager().Namespace()
//	ns.Set("ready", false)
//	p := mp.NewProcess(consumer, mp.Args(c, ns))
//	p.Start()
//	c.Acquire()
//	ns.Set("ready", true)
//	c.NotifyAll()
//	c.Release()
//	p.Join()
type Condition struct {
	handle int32
	lock   Locker
}

var _ json.Marshaler = (*Condition)(nil)

// NewCondition returns a new Condition over lock; a nil lock means a new
// RLock, as in Python.
//
// It panics if the host cannot create it.
func NewCondition(lock Locker) *Condition {
	if lock == nil {
		lock = NewRLock()
	}
	ref := lock.lockRef()
	c := &Condition{lock: lock}
	mustNew("Condition", host.condNew(checkHandle(ref.Kind, ref.Handle), &c.handle))
	return c
}

func (c *Condition) h() int32 { return checkHandle("Condition", c.handle) }

// Handle returns the host's handle of the condition, valid in every
// process.
func (c *Condition) Handle() int32 { return c.h() }

// Lock returns the condition's lock.
func (c *Condition) Lock() Locker { return c.lock }

// Acquire acquires the condition's lock.
func (c *Condition) Acquire() error { return c.lock.Acquire() }

// AcquireTimeout acquires the condition's lock, waiting at most d.
func (c *Condition) AcquireTimeout(d time.Duration) (bool, error) {
	return c.lock.AcquireTimeout(d)
}

// Release releases the condition's lock.
func (c *Condition) Release() error { return c.lock.Release() }

var condMsgs = map[errno]string{errnoNotOwner: "must acquire() condition before using wait()"}

// Wait releases the lock, waits until notified or until timeout passes
// (negative: forever), and acquires the lock again before it returns,
// even after a timeout. notified is false when the timeout passed. The
// error wraps ErrNotOwner when this process does not hold the lock.
func (c *Condition) Wait(timeout time.Duration) (notified bool, err error) {
	notified, e := host.condWait(c.h(), waitArg(timeout))
	if e != errnoOK {
		return false, objError(e, "wait", condMsgs)
	}
	return notified, nil
}

// WaitFor waits until pred returns true, as Python's wait_for: it calls
// pred (with the lock held), and Waits again while pred is false, for at
// most timeout in all (negative: forever). It returns pred's last result.
func (c *Condition) WaitFor(pred func() bool, timeout time.Duration) (bool, error) {
	result := pred()
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for !result {
		wait := time.Duration(-1)
		if timeout >= 0 {
			if wait = time.Until(deadline); wait <= 0 {
				break
			}
		}
		if _, err := c.Wait(wait); err != nil {
			return false, err
		}
		result = pred()
	}
	return result, nil
}

var notifyMsgs = map[errno]string{errnoNotOwner: "lock is not owned"}

// Notify wakes up to n processes waiting on the condition (Python's
// notify(n); use 1 for notify()). The error wraps ErrNotOwner when this
// process does not hold the lock.
func (c *Condition) Notify(n int) error {
	if n < 0 {
		return fmt.Errorf("mp: notify: %w: n must be >= 0, not %d", ErrInvalid, n)
	}
	return objError(host.condNotify(c.h(), clampInt32(n)), "notify", notifyMsgs)
}

// NotifyAll wakes every process waiting on the condition. The error wraps
// ErrNotOwner when this process does not hold the lock.
func (c *Condition) NotifyAll() error {
	return objError(host.condNotifyAll(c.h()), "notify_all", notifyMsgs)
}

// MarshalJSON encodes the condition as its handle and its lock's, so it
// can be passed to a child.
func (c *Condition) MarshalJSON() ([]byte, error) {
	if c.handle == 0 || c.lock == nil {
		return marshalObject(kindConditionJSON, 0)
	}
	ref := c.lock.lockRef()
	return json.Marshal(objectJSON{Kind: kindConditionJSON, Handle: c.handle, Lock: &ref})
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (c *Condition) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindConditionJSON)
	if err != nil {
		return err
	}
	if o.Lock == nil || o.Lock.Handle <= 0 {
		return fmt.Errorf("mp: decoding a Condition: no lock")
	}
	switch o.Lock.Kind {
	case kindLockJSON:
		c.lock = &Lock{handle: o.Lock.Handle}
	case kindRLockJSON:
		c.lock = &RLock{handle: o.Lock.Handle}
	default:
		return fmt.Errorf("mp: decoding a Condition: its lock is a %q", o.Lock.Kind)
	}
	c.handle = o.Handle
	return nil
}
