package host

import (
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// object is what a non-process handle refers to: an IPC object and, for a
// pipe, which of its ends.
type object struct {
	obj ipc.Object
	end int
	id  int32 // the object's number in messages and events: its first handle
}

// addObject gives obj a new handle (one handle space for processes and
// objects, so a handle of the wrong kind is always detected).
func (s *Supervisor) addObject(obj ipc.Object, end int) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastHandle++
	s.objects[s.lastHandle] = &object{obj: obj, end: end, id: s.lastHandle}
	if end == 0 { // a pipe's second end is the same object
		s.nobjects++
		if m, ok := obj.(ipc.Metered); ok {
			m.SetMeter(&s.held)
		}
	}
	return s.lastHandle
}

// lookup returns the object behind handle h if it is a T (an ipc type or
// an interface some of them satisfy), and which pipe end h is.
func lookup[T any](s *Supervisor, h int32) (T, int, error) {
	s.mu.Lock()
	o := s.objects[h]
	s.mu.Unlock()
	var zero T
	if o == nil {
		return zero, 0, fail(abi.EBADH, "no object %d", h)
	}
	t, ok := o.obj.(T)
	if !ok {
		return zero, 0, fail(abi.EBADH, "handle %d is a %s", h, o.obj.Kind())
	}
	return t, o.end, nil
}

// lookupArg is lookup of the call's "handle" argument.
func lookupArg[T any](s *Supervisor, c *Call) (T, int, error) {
	return lookup[T](s, c.Args.Handle(abi.PHandle))
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
// held is released (and reported), a barrier it waited at breaks. p is
// already marked ended in the process table, so every object refuses it.
//
// killed says whether p was ended by a signal: only then is a lock it held
// worth a warning (a process that returns holding a lock is its own
// business, and CPython says nothing of it either), and only while the run
// goes on (at its end the host kills every process itself).
func (s *Supervisor) exited(p *proc, killed bool) {
	s.mu.Lock()
	killedByGuest := killed && !s.closing // at the end of a run the host kills
	s.mu.Unlock()
	for _, o := range s.everyObject() {
		o.ProcessExited(p.handle)
		type abandonable interface{ Abandoned() (int32, bool) }
		if a, ok := o.(abandonable); ok {
			if by, ok := a.Abandoned(); ok && by == p.handle {
				if killedByGuest {
					p.log.Warn("process was killed holding a lock; the lock was released", "lock", o.Kind())
				} else {
					p.log.Debug("process ended holding a lock; the lock was released", "lock", o.Kind())
				}
			}
		}
	}
}
