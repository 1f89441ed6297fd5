package mp

import (
	"reflect"
	"sync"
)

// state is what this guest process knows besides the host's tables: the
// registered targets and classes, which process it is, and the Process
// values it handed out, so that the same handle always gives the same
// *Process (as CPython's active_children() returns the objects the
// program created). Everything about a process itself (name, state, exit
// code, daemon flag) is asked of the host each time: the host owns it.
type state struct {
	mu sync.Mutex

	funcs   map[string]reflect.Value // registered targets by runtime name
	classes map[string]reflect.Type  // registered classes (struct types) by key

	loaded  bool  // self and parent were read from the host
	self    int32 // this process's handle
	parent  int32 // its creator's handle, 0 in MainProcess
	current *Process

	objects map[int32]*Process // every *Process this process handed out
}

func newState() *state {
	return &state{
		funcs:   make(map[string]reflect.Value),
		classes: make(map[string]reflect.Type),
		objects: make(map[int32]*Process),
	}
}

// st is the state of this guest process. It is a package variable because
// it mirrors what CPython keeps in module globals (_current_process,
// _children, ...): there is one per OS process.
var st = newState()

// ids returns this process's handle and its creator's, asking the host
// the first time.
func (s *state) ids() (self, parent int32, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return 0, 0, err
	}
	return s.self, s.parent, nil
}

func (s *state) loadLocked() error {
	if s.loaded {
		return nil
	}
	var self, parent int32
	if err := host.procSelf(&self).err(); err != nil {
		return err
	}
	if err := host.procParent(&parent).err(); err != nil {
		return err
	}
	s.self, s.parent, s.loaded = self, parent, true
	return nil
}

// currentProcess returns the *Process of this process, making a plain one
// the first time (Main binds a class's value before any user code runs).
func (s *state) currentProcess() (*Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return s.current, nil
	}
	if err := s.loadLocked(); err != nil {
		return nil, err
	}
	p := s.objects[s.self]
	if p == nil {
		class := "Process"
		if s.parent == 0 {
			class = mainClass
		}
		p = &Process{handle: s.self, class: class}
		s.objects[s.self] = p
	}
	s.current = p
	return p, nil
}

// bindCurrent makes p the *Process of this process (a child running the
// value of a registered class).
func (s *state) bindCurrent(p *Process) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	p.handle = s.self
	s.current = p
	s.objects[s.self] = p
	return nil
}

// object returns the *Process for handle h, making a plain one with class
// class when this process never handed one out.
func (s *state) object(h int32, class string) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.objects[h]
	if p == nil {
		p = &Process{handle: h, class: class}
		s.objects[h] = p
	}
	return p
}

// remember records p, just created by proc_new.
func (s *state) remember(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[p.handle] = p
}
