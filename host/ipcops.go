package host

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// object is what a non-process handle refers to: an IPC object and, for a
// pipe, which of its ends.
type object struct {
	obj ipc.Object
	end int
}

// addObject gives obj a new handle (one handle space for processes and
// objects, so a handle of the wrong kind is always detected).
func (s *Supervisor) addObject(obj ipc.Object, end int) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.objects[s.next] = &object{obj: obj, end: end}
	return s.next
}

// lookup returns the object behind handle h if it is a T (an ipc type or
// an interface some of them satisfy), and which pipe end h is.
func lookup[T any](s *Supervisor, h int64) (T, int, error) {
	s.mu.Lock()
	o := s.objects[int32(h)]
	s.mu.Unlock()
	var zero T
	if o == nil {
		return zero, 0, fail(ebadh, "no object %d", h)
	}
	t, ok := o.obj.(T)
	if !ok {
		return zero, 0, fail(ebadh, "handle %d is a %s", h, o.obj.Kind())
	}
	return t, o.end, nil
}

// everyObject returns all objects (pipes appear once per end).
func (s *Supervisor) everyObject() []ipc.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[ipc.Object]bool{}
	var all []ipc.Object
	for _, o := range s.objects {
		if !seen[o.obj] {
			seen[o.obj] = true
			all = append(all, o.obj)
		}
	}
	return all
}

// inherit gives a starting child what a forked child has: a copy of every
// pipe end its parent holds.
func (s *Supervisor) inherit(parent, child *proc) {
	for _, o := range s.everyObject() {
		o.Inherit(parent.handle, child.handle)
	}
}

// exited tells every object that p is gone: its pipe ends close, a lock it
// held is released (and reported), a barrier it waited at breaks.
//
// killed says whether p was ended by a signal: only then is a lock it held
// worth a warning (a process that returns holding a lock is its own
// business, and CPython says nothing of it either).
func (s *Supervisor) exited(p *proc, killed bool) {
	for _, o := range s.everyObject() {
		o.ProcessExited(p.handle)
		type abandonable interface{ Abandoned() (int32, bool) }
		if a, ok := o.(abandonable); ok {
			if by, ok := a.Abandoned(); ok && by == p.handle {
				if killed {
					p.log.Warn("process was killed holding a lock; the lock was released", "lock", o.Kind())
				} else {
					p.log.Debug("process ended holding a lock; the lock was released", "lock", o.Kind())
				}
			}
		}
	}
}

// ipcErrno maps the errors of package ipc to ABI errnos.
var ipcErrno = []struct {
	err  error
	code int32
}{
	{ipc.ErrTimeout, wire.ETIMEDOUT},
	{ipc.ErrEmpty, wire.EEMPTY},
	{ipc.ErrFull, wire.EFULL},
	{ipc.ErrEOF, wire.EEOF},
	{ipc.ErrClosed, wire.ECLOSED},
	{ipc.ErrDirection, wire.EDIRECTION},
	{ipc.ErrBrokenPipe, wire.EBROKENPIPE},
	{ipc.ErrBroken, wire.EBROKEN},
	{ipc.ErrNotOwner, wire.ENOTOWNER},
	{ipc.ErrValue, wire.EVALUE},
	{ipc.ErrNoKey, wire.ENOKEY},
	{ipc.ErrIndex, wire.EINDEX},
	{ipc.ErrExited, wire.EIO},
	{context.Canceled, wire.EIO},
}

func ipcErr(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range ipcErrno {
		if errors.Is(err, e.err) {
			return fail(e.code, "%v", err)
		}
	}
	return err
}

func timeout(ns int64) time.Duration {
	if ns < 0 {
		return -1
	}
	return time.Duration(ns)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func ints(v ...int64) *wire.Msg { return &wire.Msg{Ints: v} }

// tooSmall is the reply of a receive whose message did not fit.
func tooSmall(size int) (*wire.Msg, error) {
	return &wire.Msg{Errno: wire.E2SMALL, Ints: []int64{int64(size)}}, nil
}

func record(v ...int64) *wire.Msg {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(x)))
	}
	return bufReply(b)
}

// dispatchIPC answers the calls on shared objects. ok is false for an op
// that is not one of them.
func (s *Supervisor) dispatchIPC(p *proc, m *wire.Msg) (reply *wire.Msg, err error, ok bool) {
	reply, err = s.ipcCall(p, m)
	if errors.Is(err, errNotIPC) {
		return nil, nil, false
	}
	if reply != nil && reply.Errno != 0 {
		return reply, nil, true
	}
	return reply, ipcErr(err), true
}

var errNotIPC = errors.New("not an IPC op")

func (s *Supervisor) ipcCall(p *proc, m *wire.Msg) (*wire.Msg, error) {
	ctx, who := p.ctx, p.handle
	h := m.Int(0)
	switch m.Op {
	// Pipes.
	case wire.OpPipeNew:
		pipe := ipc.NewPipe(m.Int(0) != 0, who)
		return ints(int64(s.addObject(pipe, 0)), int64(s.addObject(pipe, 1))), nil
	case wire.OpConnSend:
		pipe, end, err := lookup[*ipc.Pipe](s, h)
		if err != nil {
			return nil, err
		}
		return nil, pipe.Send(who, end, m.Buf(0))
	case wire.OpConnRecv:
		pipe, end, err := lookup[*ipc.Pipe](s, h)
		if err != nil {
			return nil, err
		}
		msg, size, err := pipe.Recv(ctx, who, end, timeout(m.Int(1)), int(m.Int(2)))
		if errors.Is(err, ipc.ErrTooSmall) {
			return tooSmall(size)
		}
		if err != nil {
			return nil, err
		}
		return bufReply(msg), nil
	case wire.OpConnPoll:
		pipe, end, err := lookup[*ipc.Pipe](s, h)
		if err != nil {
			return nil, err
		}
		ready, err := pipe.Poll(ctx, who, end, timeout(m.Int(1)))
		return ints(b2i(ready)), err
	case wire.OpConnClose:
		pipe, end, err := lookup[*ipc.Pipe](s, h)
		if err != nil {
			return nil, err
		}
		return nil, pipe.Close(who, end)

	// Queues.
	case wire.OpQueueNew:
		q := ipc.NewQueue(int(m.Int(0)), m.Int(1) != 0, who)
		return ints(int64(s.addObject(q, 0))), nil
	case wire.OpQueuePut:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		return nil, q.Put(ctx, who, m.Buf(0), timeout(m.Int(1)))
	case wire.OpQueueGet:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		msg, size, err := q.GetLimit(ctx, who, timeout(m.Int(1)), int(m.Int(2)))
		if errors.Is(err, ipc.ErrTooSmall) {
			return tooSmall(size)
		}
		if err != nil {
			return nil, err
		}
		return bufReply(msg), nil
	case wire.OpQueueInfo:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		return record(int64(q.Qsize()), int64(q.Maxsize()), int64(q.Unfinished())), nil
	case wire.OpQueueClose:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		q.Close(who)
		return nil, nil
	case wire.OpQueueTaskDone:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		if q.Kind() != "joinable_queue" { // docs/ABI.md: EBADH on a plain Queue
			return nil, fail(ebadh, "handle %d is a queue, not a joinable queue", h)
		}
		return nil, q.TaskDone(who)
	case wire.OpQueueJoin:
		q, _, err := lookup[*ipc.Queue](s, h)
		if err != nil {
			return nil, err
		}
		if q.Kind() != "joinable_queue" {
			return nil, fail(ebadh, "handle %d is a queue, not a joinable queue", h)
		}
		return nil, q.Join(ctx, who, timeout(m.Int(1)))

	// Barriers.
	case wire.OpBarrierNew:
		b, err := ipc.NewBarrier(int(m.Int(0)), timeout(m.Int(1)), m.Int(2) != 0)
		if err != nil {
			return nil, fail(wire.EINVAL, "%v", err)
		}
		return ints(int64(s.addObject(b, 0))), nil
	case wire.OpBarrierWait:
		b, _, err := lookup[*ipc.Barrier](s, h)
		if err != nil {
			return nil, err
		}
		idx, action, err := b.Wait(ctx, who, timeout(m.Int(1)))
		if err != nil {
			return nil, err
		}
		return ints(int64(idx), b2i(action)), nil
	case wire.OpBarrierActionDone:
		b, _, err := lookup[*ipc.Barrier](s, h)
		if err != nil {
			return nil, err
		}
		return nil, b.ActionDone(who, m.Int(1) != 0)
	case wire.OpBarrierAbort, wire.OpBarrierReset:
		b, _, err := lookup[*ipc.Barrier](s, h)
		if err != nil {
			return nil, err
		}
		if m.Op == wire.OpBarrierAbort {
			b.Abort()
		} else {
			b.Reset()
		}
		return nil, nil
	case wire.OpBarrierInfo:
		b, _, err := lookup[*ipc.Barrier](s, h)
		if err != nil {
			return nil, err
		}
		return record(int64(b.Parties()), int64(b.NWaiting()), b2i(b.Broken())), nil

	// Locks and semaphores.
	case wire.OpLockNew:
		return s.lockNew(int(m.Int(0)), int(m.Int(1)))
	case wire.OpLockAcquire:
		l, _, err := lookup[acquirer](s, h)
		if err != nil {
			return nil, err
		}
		ok, err := l.Acquire(ctx, who, timeout(m.Int(1)))
		return ints(b2i(ok)), err
	case wire.OpLockRelease:
		l, _, err := lookup[acquirer](s, h)
		if err != nil {
			return nil, err
		}
		return nil, l.Release(who)
	case wire.OpLockInfo:
		return s.lockInfo(h)

	// Events.
	case wire.OpEventNew:
		return ints(int64(s.addObject(ipc.NewEvent(), 0))), nil
	case wire.OpEventSet, wire.OpEventClear, wire.OpEventIsSet:
		e, _, err := lookup[*ipc.Event](s, h)
		if err != nil {
			return nil, err
		}
		switch m.Op {
		case wire.OpEventSet:
			e.Set()
		case wire.OpEventClear:
			e.Clear()
		}
		return ints(b2i(e.IsSet())), nil
	case wire.OpEventWait:
		e, _, err := lookup[*ipc.Event](s, h)
		if err != nil {
			return nil, err
		}
		set, err := e.Wait(ctx, who, timeout(m.Int(1)))
		return ints(b2i(set)), err

	// Conditions.
	case wire.OpCondNew:
		l, _, err := lookup[ipc.Locker](s, h)
		if err != nil {
			return nil, err
		}
		return ints(int64(s.addObject(ipc.NewCondition(l), 0))), nil
	case wire.OpCondWait:
		c, _, err := lookup[*ipc.Condition](s, h)
		if err != nil {
			return nil, err
		}
		ok, err := c.Wait(ctx, who, timeout(m.Int(1)))
		return ints(b2i(ok)), err
	case wire.OpCondNotify:
		c, _, err := lookup[*ipc.Condition](s, h)
		if err != nil {
			return nil, err
		}
		return nil, c.Notify(who, int(m.Int(1)))
	case wire.OpCondNotifyAll:
		c, _, err := lookup[*ipc.Condition](s, h)
		if err != nil {
			return nil, err
		}
		return nil, c.NotifyAll(who)
	}
	return s.managerCall(m)
}

// acquirer is what lock_acquire and lock_release work on.
type acquirer interface {
	ipc.Object
	Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error)
	Release(who int32) error
}

func (s *Supervisor) lockNew(kind, value int) (*wire.Msg, error) {
	var obj ipc.Object
	var err error
	switch kind {
	case 0:
		obj = ipc.NewLock()
	case 1:
		obj = ipc.NewRLock()
	case 2:
		obj, err = ipc.NewSemaphore(value)
	case 3:
		obj, err = ipc.NewBoundedSemaphore(value)
	default:
		return nil, fail(wire.EINVAL, "unknown lock kind %d", kind)
	}
	if err != nil {
		return nil, fail(wire.EINVAL, "%v", err)
	}
	return ints(int64(s.addObject(obj, 0))), nil
}

func (s *Supervisor) lockInfo(h int64) (*wire.Msg, error) {
	a, _, err := lookup[acquirer](s, h)
	if err != nil {
		return nil, err
	}
	switch l := a.(type) {
	case *ipc.Lock:
		owner, _ := l.Owner()
		return record(b2i(l.Locked()), int64(owner), b2i(l.Locked())), nil
	case *ipc.RLock:
		owner, count, _ := l.Owner()
		return record(b2i(l.Locked()), int64(owner), int64(count)), nil
	case *ipc.Semaphore:
		return record(int64(l.Value()), 0, 0), nil
	}
	return nil, fail(ebadh, "handle %d is a %s", h, a.Kind())
}

// managerCall answers the namespace, dict and list calls.
func (s *Supervisor) managerCall(m *wire.Msg) (*wire.Msg, error) {
	h := m.Int(0)
	switch m.Op {
	case wire.OpNsNew:
		var obj ipc.Object
		switch m.Int(0) {
		case 0:
			obj = ipc.NewNamespace()
		case 1:
			obj = ipc.NewDict()
		case 2:
			obj = ipc.NewList()
		default:
			return nil, fail(wire.EINVAL, "unknown manager object kind %d", m.Int(0))
		}
		return ints(int64(s.addObject(obj, 0))), nil
	case wire.OpNsSet, wire.OpNsGet, wire.OpNsDelete:
		kv, _, err := lookup[keyedStore](s, h)
		if err != nil {
			return nil, err
		}
		key := string(m.Buf(0))
		switch m.Op {
		case wire.OpNsSet:
			kv.Set(key, m.Buf(1))
			return nil, nil
		case wire.OpNsDelete:
			return nil, kv.Delete(key)
		}
		v, err := kv.Get(key)
		if err != nil {
			return nil, err
		}
		return bufReply(v), nil
	case wire.OpNsItems:
		return s.items(h)
	case wire.OpNsLen:
		o, _, err := lookup[ipc.Object](s, h)
		if err != nil {
			return nil, err
		}
		switch v := o.(type) {
		case *ipc.Namespace:
			return ints(int64(len(v.Names()))), nil
		case *ipc.Dict:
			return ints(int64(v.Len())), nil
		case *ipc.List:
			return ints(int64(v.Len())), nil
		}
		return nil, fail(ebadh, "handle %d is a %s", h, o.Kind())
	case wire.OpListAppend, wire.OpListGet, wire.OpListSet, wire.OpListPop:
		l, _, err := lookup[*ipc.List](s, h)
		if err != nil {
			return nil, err
		}
		i := int(m.Int(1))
		switch m.Op {
		case wire.OpListAppend:
			l.Append(m.Buf(0))
			return nil, nil
		case wire.OpListSet:
			return nil, l.Set(i, m.Buf(0))
		}
		if m.Op == wire.OpListPop {
			v, size, err := l.PopLimit(i, int(m.Int(2)))
			if errors.Is(err, ipc.ErrTooSmall) {
				return tooSmall(size)
			}
			if err != nil {
				return nil, err
			}
			return bufReply(v), nil
		}
		v, err := l.Get(i)
		if err != nil {
			return nil, err
		}
		return bufReply(v), nil
	}
	return nil, errNotIPC
}

// keyedStore is a Namespace or a Dict (looked up with lookup[keyedStore]).
type keyedStore interface {
	Set(key string, v []byte)
	Get(key string) ([]byte, error)
	Delete(key string) error
	Items() []ipc.Item
}

// items encodes every entry as u32 key length, key, u32 value length, value.
func (s *Supervisor) items(h int64) (*wire.Msg, error) {
	o, _, err := lookup[ipc.Object](s, h)
	if err != nil {
		return nil, err
	}
	var entries []ipc.Item
	switch v := o.(type) {
	case keyedStore:
		entries = v.Items()
	case *ipc.List:
		for _, x := range v.Items() {
			entries = append(entries, ipc.Item{Value: x})
		}
	default:
		return nil, fail(ebadh, "handle %d is a %s", h, o.Kind())
	}
	var b []byte
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Value)))
		b = append(b, e.Value...)
	}
	return bufReply(b), nil
}
