//go:build !wasip1

package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// The shared objects of the fake host are the host's own (package
// internal/ipc), called as host/ipcops.go calls them, with the fake's
// caller as the process. Blocking calls really block, so tests of one
// goroutine use timeouts of 0 or objects that are ready.

// fakeObject is what an object handle of the fake refers to.
type fakeObject struct {
	obj ipc.Object
	end int // which end of a pipe
}

// firstObjectHandle keeps object handles apart from process handles.
const firstObjectHandle = 1000

func (f *fakeHost) addObject(obj ipc.Object, end int) int32 {
	if f.objects == nil {
		f.objects = make(map[int32]*fakeObject)
	}
	h := int32(firstObjectHandle + len(f.objects))
	f.objects[h] = &fakeObject{obj: obj, end: end}
	return h
}

func fakeLookup[T any](f *fakeHost, h int32) (T, int, errno) {
	var zero T
	o := f.objects[h]
	if o == nil {
		return zero, 0, errnoBadHandle
	}
	t, ok := o.obj.(T)
	if !ok {
		return zero, 0, errnoBadHandle
	}
	return t, o.end, errnoOK
}

// inherit is what the host does at proc_start.
func (f *fakeHost) inherit(parent, child int32) {
	for _, o := range f.objects {
		o.obj.Inherit(parent, child)
	}
}

// exit is what the host does when process h ends.
func (f *fakeHost) exit(h int32, code int32) {
	f.stop(h, code)
	for _, o := range f.objects {
		o.obj.ProcessExited(h)
	}
}

var fakeErrnos = []struct {
	err error
	e   errno
}{
	{ipc.ErrTimeout, errnoTimedOut},
	{ipc.ErrEmpty, errnoEmpty},
	{ipc.ErrFull, errnoFull},
	{ipc.ErrEOF, errnoEOF},
	{ipc.ErrClosed, errnoClosed},
	{ipc.ErrDirection, errnoDirection},
	{ipc.ErrBrokenPipe, errnoBrokenPipe},
	{ipc.ErrBroken, errnoBroken},
	{ipc.ErrNotOwner, errnoNotOwner},
	{ipc.ErrValue, errnoValue},
	{ipc.ErrNoKey, errnoNoKey},
	{ipc.ErrIndex, errnoIndex},
}

func toErrno(err error) errno {
	if err == nil {
		return errnoOK
	}
	for _, m := range fakeErrnos {
		if errors.Is(err, m.err) {
			return m.e
		}
	}
	return errnoIO
}

func fakeTimeout(ns int64) time.Duration {
	if ns < 0 {
		return -1
	}
	return time.Duration(ns)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// reply is the buffer convention for a message the host gives back.
func reply(msg []byte, size int, err error, buf []byte, sz *uint32) errno {
	if errors.Is(err, ipc.ErrTooSmall) {
		*sz = uint32(size)
		return errnoTooSmall
	}
	if err != nil {
		return toErrno(err)
	}
	return fill(msg, buf, sz)
}

var bg = context.Background()

func (f *fakeHost) pipeNew(duplex bool, end0, end1 *int32) errno {
	p := ipc.NewPipe(duplex, f.self)
	*end0, *end1 = f.addObject(p, 0), f.addObject(p, 1)
	return errnoOK
}

func (f *fakeHost) connSend(h int32, data []byte) errno {
	p, end, e := fakeLookup[*ipc.Pipe](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(p.Send(bg, f.self, end, data))
}

func (f *fakeHost) connRecv(h int32, timeoutNs int64, buf []byte) (uint32, errno) {
	p, end, e := fakeLookup[*ipc.Pipe](f, h)
	if e != errnoOK {
		return 0, e
	}
	msg, n, err := p.Recv(bg, f.self, end, fakeTimeout(timeoutNs), len(buf))
	var size uint32
	e = reply(msg, n, err, buf, &size)
	return size, e
}

func (f *fakeHost) connPoll(h int32, timeoutNs int64) (bool, errno) {
	p, end, e := fakeLookup[*ipc.Pipe](f, h)
	if e != errnoOK {
		return false, e
	}
	ok, err := p.Poll(bg, f.self, end, fakeTimeout(timeoutNs))
	return ok, toErrno(err)
}

func (f *fakeHost) connClose(h int32) errno {
	p, end, e := fakeLookup[*ipc.Pipe](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(p.Close(f.self, end))
}

func (f *fakeHost) queueNew(maxsize int32, joinable bool, h *int32) errno {
	*h = f.addObject(ipc.NewQueue(int(maxsize), joinable, f.self), 0)
	return errnoOK
}

func (f *fakeHost) queuePut(h int32, data []byte, timeoutNs int64) errno {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(q.Put(bg, f.self, data, fakeTimeout(timeoutNs)))
}

// queuePost carries the put out before it returns, as the host does
// before the process's next call; its error reaches no one.
func (f *fakeHost) queuePost(h int32, data []byte, timeoutNs int64) errno {
	f.queuePut(h, data, timeoutNs)
	return errnoOK
}

func (f *fakeHost) queueGet(h int32, timeoutNs int64, buf []byte) (uint32, errno) {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return 0, e
	}
	msg, n, err := q.GetLimit(bg, f.self, fakeTimeout(timeoutNs), len(buf))
	var size uint32
	e = reply(msg, n, err, buf, &size)
	return size, e
}

func (f *fakeHost) queueInfo(h int32) ([3]int32, errno) {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return [3]int32{}, e
	}
	return [3]int32{int32(q.Qsize()), int32(q.Maxsize()), int32(q.Unfinished())}, errnoOK
}

func (f *fakeHost) queueClose(h int32) errno {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return e
	}
	q.Close(f.self)
	return errnoOK
}

func (f *fakeHost) queueTaskDone(h int32) errno {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(q.TaskDone(f.self))
}

func (f *fakeHost) queueJoin(h int32, timeoutNs int64) errno {
	q, _, e := fakeLookup[*ipc.Queue](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(q.Join(bg, f.self, fakeTimeout(timeoutNs)))
}

func (f *fakeHost) barrierNew(parties int32, timeoutNs int64, hasAction bool, h *int32) errno {
	b, err := ipc.NewBarrier(int(parties), fakeTimeout(timeoutNs), hasAction)
	if err != nil {
		return errnoInvalid
	}
	*h = f.addObject(b, 0)
	return errnoOK
}

func (f *fakeHost) barrierWait(h int32, timeoutNs int64) (int32, bool, errno) {
	b, _, e := fakeLookup[*ipc.Barrier](f, h)
	if e != errnoOK {
		return 0, false, e
	}
	i, run, err := b.Wait(bg, f.self, fakeTimeout(timeoutNs))
	return int32(i), run, toErrno(err)
}

func (f *fakeHost) barrierActionDone(h int32, ok bool) errno {
	b, _, e := fakeLookup[*ipc.Barrier](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(b.ActionDone(f.self, ok))
}

func (f *fakeHost) barrierAbort(h int32) errno {
	b, _, e := fakeLookup[*ipc.Barrier](f, h)
	if e != errnoOK {
		return e
	}
	b.Abort()
	return errnoOK
}

func (f *fakeHost) barrierReset(h int32) errno {
	b, _, e := fakeLookup[*ipc.Barrier](f, h)
	if e != errnoOK {
		return e
	}
	b.Reset()
	return errnoOK
}

func (f *fakeHost) barrierInfo(h int32) ([3]int32, errno) {
	b, _, e := fakeLookup[*ipc.Barrier](f, h)
	if e != errnoOK {
		return [3]int32{}, e
	}
	return [3]int32{int32(b.Parties()), int32(b.NWaiting()), b2i(b.Broken())}, errnoOK
}

// fakeLocker is what lock_acquire and lock_release work on.
type fakeLocker interface {
	Acquire(ctx context.Context, who int32, timeout time.Duration) (bool, error)
	Release(who int32) error
}

func (f *fakeHost) lockNew(kind, value int32, h *int32) errno {
	var obj ipc.Object
	var err error
	switch kind {
	case kindLock:
		obj = ipc.NewLock()
	case kindRLock:
		obj = ipc.NewRLock()
	case kindSemaphore:
		obj, err = ipc.NewSemaphore(int(value))
	case kindBoundedSemaphore:
		obj, err = ipc.NewBoundedSemaphore(int(value))
	default:
		return errnoInvalid
	}
	if err != nil {
		return errnoInvalid
	}
	*h = f.addObject(obj, 0)
	return errnoOK
}

func (f *fakeHost) lockAcquire(h int32, timeoutNs int64) (bool, errno) {
	l, _, e := fakeLookup[fakeLocker](f, h)
	if e != errnoOK {
		return false, e
	}
	ok, err := l.Acquire(bg, f.self, fakeTimeout(timeoutNs))
	return ok, toErrno(err)
}

func (f *fakeHost) lockRelease(h int32) errno {
	l, _, e := fakeLookup[fakeLocker](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(l.Release(f.self))
}

func (f *fakeHost) lockInfo(h int32) ([3]int32, errno) {
	o := f.objects[h]
	if o == nil {
		return [3]int32{}, errnoBadHandle
	}
	switch l := o.obj.(type) {
	case *ipc.Lock:
		owner, _ := l.Owner()
		return [3]int32{b2i(l.Locked()), owner, b2i(l.Locked())}, errnoOK
	case *ipc.RLock:
		owner, count, _ := l.Owner()
		return [3]int32{b2i(l.Locked()), owner, int32(count)}, errnoOK
	case *ipc.Semaphore:
		return [3]int32{int32(l.Value()), 0, 0}, errnoOK
	}
	return [3]int32{}, errnoBadHandle
}

func (f *fakeHost) eventNew(h *int32) errno {
	*h = f.addObject(ipc.NewEvent(), 0)
	return errnoOK
}

func (f *fakeHost) eventOp(h int32, op func(*ipc.Event)) errno {
	ev, _, e := fakeLookup[*ipc.Event](f, h)
	if e == errnoOK {
		op(ev)
	}
	return e
}

func (f *fakeHost) eventSet(h int32) errno   { return f.eventOp(h, (*ipc.Event).Set) }
func (f *fakeHost) eventClear(h int32) errno { return f.eventOp(h, (*ipc.Event).Clear) }

func (f *fakeHost) eventIsSet(h int32) (bool, errno) {
	var set bool
	e := f.eventOp(h, func(ev *ipc.Event) { set = ev.IsSet() })
	return set, e
}

func (f *fakeHost) eventWait(h int32, timeoutNs int64) (bool, errno) {
	ev, _, e := fakeLookup[*ipc.Event](f, h)
	if e != errnoOK {
		return false, e
	}
	ok, err := ev.Wait(bg, f.self, fakeTimeout(timeoutNs))
	return ok, toErrno(err)
}

func (f *fakeHost) condNew(lock int32, h *int32) errno {
	l, _, e := fakeLookup[ipc.Locker](f, lock)
	if e != errnoOK {
		return e
	}
	*h = f.addObject(ipc.NewCondition(l), 0)
	return errnoOK
}

func (f *fakeHost) condWait(h int32, timeoutNs int64) (bool, errno) {
	c, _, e := fakeLookup[*ipc.Condition](f, h)
	if e != errnoOK {
		return false, e
	}
	ok, err := c.Wait(bg, f.self, fakeTimeout(timeoutNs))
	return ok, toErrno(err)
}

func (f *fakeHost) condNotify(h int32, n int32) errno {
	c, _, e := fakeLookup[*ipc.Condition](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(c.Notify(f.self, int(n)))
}

func (f *fakeHost) condNotifyAll(h int32) errno {
	c, _, e := fakeLookup[*ipc.Condition](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(c.NotifyAll(f.self))
}

// fakeKeyed is a Namespace or a Dict.
type fakeKeyed interface {
	Set(key string, v []byte)
	Get(key string) ([]byte, error)
	Delete(key string) error
	Items() []ipc.Item
}

func (f *fakeHost) nsNew(kind int32, h *int32) errno {
	switch kind {
	case kindNamespace:
		*h = f.addObject(ipc.NewNamespace(), 0)
	case kindDict:
		*h = f.addObject(ipc.NewDict(), 0)
	case kindList:
		*h = f.addObject(ipc.NewList(), 0)
	default:
		return errnoInvalid
	}
	return errnoOK
}

func (f *fakeHost) nsSet(h int32, key string, value []byte) errno {
	kv, _, e := fakeLookup[fakeKeyed](f, h)
	if e == errnoOK {
		kv.Set(key, value)
	}
	return e
}

func (f *fakeHost) nsGet(h int32, key string, buf []byte, size *uint32) errno {
	kv, _, e := fakeLookup[fakeKeyed](f, h)
	if e != errnoOK {
		return e
	}
	v, err := kv.Get(key)
	if err != nil {
		return toErrno(err)
	}
	return fill(v, buf, size)
}

func (f *fakeHost) nsDelete(h int32, key string) errno {
	kv, _, e := fakeLookup[fakeKeyed](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(kv.Delete(key))
}

func (f *fakeHost) nsItems(h int32, buf []byte, size *uint32) errno {
	o := f.objects[h]
	if o == nil {
		return errnoBadHandle
	}
	var entries []ipc.Item
	switch v := o.obj.(type) {
	case fakeKeyed:
		entries = v.Items()
	case *ipc.List:
		for _, x := range v.Items() {
			entries = append(entries, ipc.Item{Value: x})
		}
	default:
		return errnoBadHandle
	}
	var b []byte
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Value)))
		b = append(b, e.Value...)
	}
	return fill(b, buf, size)
}

func (f *fakeHost) nsLen(h int32, n *int32) errno {
	o := f.objects[h]
	if o == nil {
		return errnoBadHandle
	}
	switch v := o.obj.(type) {
	case *ipc.Namespace:
		*n = int32(len(v.Names()))
	case *ipc.Dict:
		*n = int32(v.Len())
	case *ipc.List:
		*n = int32(v.Len())
	default:
		return errnoBadHandle
	}
	return errnoOK
}

func (f *fakeHost) listAppend(h int32, value []byte) errno {
	l, _, e := fakeLookup[*ipc.List](f, h)
	if e == errnoOK {
		l.Append(value)
	}
	return e
}

func (f *fakeHost) listGet(h int32, index int32, buf []byte, size *uint32) errno {
	l, _, e := fakeLookup[*ipc.List](f, h)
	if e != errnoOK {
		return e
	}
	v, err := l.Get(int(index))
	if err != nil {
		return toErrno(err)
	}
	return fill(v, buf, size)
}

func (f *fakeHost) listSet(h int32, index int32, value []byte) errno {
	l, _, e := fakeLookup[*ipc.List](f, h)
	if e != errnoOK {
		return e
	}
	return toErrno(l.Set(int(index), value))
}

func (f *fakeHost) listPop(h int32, index int32, buf []byte, size *uint32) errno {
	l, _, e := fakeLookup[*ipc.List](f, h)
	if e != errnoOK {
		return e
	}
	v, err := l.Get(int(index))
	if err != nil {
		return toErrno(err)
	}
	if len(v) > len(buf) {
		*size = uint32(len(v))
		return errnoTooSmall
	}
	if v, err = l.Pop(int(index)); err != nil {
		return toErrno(err)
	}
	return fill(v, buf, size)
}
