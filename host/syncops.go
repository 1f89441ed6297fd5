package host

import (
	"context"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// The handlers of the synchronisation imports: barriers, locks and
// semaphores, events, conditions (docs/ABI.md).

func (s *Supervisor) barrierNew(c *Call) error {
	a := &c.Args
	b, err := ipc.NewBarrier(int(a.Int(abi.PParties)), a.Timeout(abi.PTimeout), a.Bool(abi.PHasAction))
	if err != nil {
		return fail(abi.EINVAL, "%v", err)
	}
	a.SetInt(abi.PHandle, int64(s.addObject(b, 0)))
	return nil
}

func (s *Supervisor) barrierWait(c *Call) error {
	b, _, err := lookupArg[*ipc.Barrier](s, c)
	if err != nil {
		return err
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	effective := timeout
	if effective < 0 {
		effective = b.DefaultTimeout()
	}
	c.waitOn(c.Args.Handle(abi.PHandle), b, 0, effective)
	index, action, err := b.Wait(c.ctx(), c.Process, timeout)
	if err != nil {
		return err
	}
	c.Args.SetInt(abi.PIndex, int64(index))
	c.Args.SetBool(abi.PRunAction, action)
	return nil
}

func (s *Supervisor) barrierActionDone(c *Call) error {
	b, _, err := lookupArg[*ipc.Barrier](s, c)
	if err != nil {
		return err
	}
	return b.ActionDone(c.Process, c.Args.Bool(abi.POK))
}

func (s *Supervisor) barrierAbort(c *Call) error {
	b, _, err := lookupArg[*ipc.Barrier](s, c)
	if err != nil {
		return err
	}
	b.Abort()
	return nil
}

func (s *Supervisor) barrierReset(c *Call) error {
	b, _, err := lookupArg[*ipc.Barrier](s, c)
	if err != nil {
		return err
	}
	b.Reset()
	return nil
}

func (s *Supervisor) barrierInfo(c *Call) error {
	b, _, err := lookupArg[*ipc.Barrier](s, c)
	if err != nil {
		return err
	}
	c.Args.SetRecord(abi.PInfo, int64(b.Parties()), int64(b.NWaiting()), b2i(b.Broken()))
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// acquirer is what lock_acquire and lock_release work on: a lock, a
// semaphore, or a condition (acting on its lock).
type acquirer interface {
	ipc.Object
	Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error)
	Release(who int32) error
}

func (s *Supervisor) lockNew(c *Call) error {
	value := int(c.Args.Int(abi.PValue))
	var obj ipc.Object
	var err error
	switch kind := abi.LockKind(c.Args.Int(abi.PKind)); kind {
	case abi.Lock:
		obj = ipc.NewLock()
	case abi.RLock:
		obj = ipc.NewRLock()
	case abi.Semaphore:
		obj, err = ipc.NewSemaphore(value)
	case abi.BoundedSemaphore:
		obj, err = ipc.NewBoundedSemaphore(value)
	default:
		return fail(abi.EINVAL, "unknown lock kind %d", kind)
	}
	if err != nil {
		return fail(abi.EINVAL, "%v", err)
	}
	if s.cfg.DirectLocks {
		s.shareLock(obj.(ipc.Shared))
	}
	c.Args.SetInt(abi.PHandle, int64(s.addObject(obj, 0)))
	return nil
}

func (s *Supervisor) lockAcquire(c *Call) error {
	l, _, err := lookupArg[acquirer](s, c)
	if err != nil {
		return err
	}
	var on ipc.Object = l
	if cond, ok := l.(*ipc.Condition); ok {
		on = cond.Lock()
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), on, 0, timeout)
	ok, err := l.Acquire(c.ctx(), c.Process, timeout)
	if err != nil {
		return err
	}
	c.Args.SetBool(abi.PAcquired, ok)
	return nil
}

func (s *Supervisor) lockRelease(c *Call) error {
	l, _, err := lookupArg[acquirer](s, c)
	if err != nil {
		return err
	}
	return l.Release(c.Process)
}

func (s *Supervisor) lockInfo(c *Call) error {
	a, _, err := lookupArg[acquirer](s, c)
	if err != nil {
		return err
	}
	if cond, ok := a.(*ipc.Condition); ok {
		a = cond.Lock()
	}
	switch l := a.(type) {
	case *ipc.Lock:
		owner, locked := l.Owner() // (one reading: runners change it meanwhile)
		c.Args.SetRecord(abi.PInfo, b2i(locked), int64(owner), b2i(locked))
	case *ipc.RLock:
		owner, count, locked := l.Owner()
		c.Args.SetRecord(abi.PInfo, b2i(locked), int64(owner), int64(count))
	case *ipc.Semaphore:
		c.Args.SetRecord(abi.PInfo, int64(l.Value()), 0, 0)
	default:
		return fail(abi.EBADH, "handle %d is a %s", c.Args.Handle(abi.PHandle), a.Kind())
	}
	return nil
}

func (s *Supervisor) eventNew(c *Call) error {
	c.Args.SetInt(abi.PHandle, int64(s.addObject(ipc.NewEvent(), 0)))
	return nil
}

func (s *Supervisor) eventSet(c *Call) error {
	e, _, err := lookupArg[*ipc.Event](s, c)
	if err == nil {
		e.Set()
	}
	return err
}

func (s *Supervisor) eventClear(c *Call) error {
	e, _, err := lookupArg[*ipc.Event](s, c)
	if err == nil {
		e.Clear()
	}
	return err
}

func (s *Supervisor) eventIsSet(c *Call) error {
	e, _, err := lookupArg[*ipc.Event](s, c)
	if err != nil {
		return err
	}
	c.Args.SetBool(abi.PSet, e.IsSet())
	return nil
}

func (s *Supervisor) eventWait(c *Call) error {
	e, _, err := lookupArg[*ipc.Event](s, c)
	if err != nil {
		return err
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), e, 0, timeout)
	set, err := e.Wait(c.ctx(), c.Process, timeout)
	if err != nil {
		return err
	}
	c.Args.SetBool(abi.PSet, set)
	return nil
}

func (s *Supervisor) condNew(c *Call) error {
	l, _, err := lookup[ipc.Locker](s, c.Args.Handle(abi.PLockHandle))
	if err != nil {
		return err
	}
	c.Args.SetInt(abi.PHandle, int64(s.addObject(ipc.NewCondition(l), 0)))
	return nil
}

func (s *Supervisor) condWait(c *Call) error {
	cond, _, err := lookupArg[*ipc.Condition](s, c)
	if err != nil {
		return err
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), cond, 0, timeout)
	notified, err := cond.Wait(c.ctx(), c.Process, timeout)
	if err != nil {
		return err
	}
	c.Args.SetBool(abi.PNotified, notified)
	return nil
}

func (s *Supervisor) condNotify(c *Call) error {
	cond, _, err := lookupArg[*ipc.Condition](s, c)
	if err != nil {
		return err
	}
	return cond.Notify(c.Process, int(c.Args.Int(abi.PN)))
}

func (s *Supervisor) condNotifyAll(c *Call) error {
	cond, _, err := lookupArg[*ipc.Condition](s, c)
	if err != nil {
		return err
	}
	return cond.NotifyAll(c.Process)
}
