package host

import (
	"encoding/binary"
	"syscall"
	"unicode/utf8"

	"github.com/sandbox-dev/sandbox/internal/abi"
)

// The handlers of the process imports (docs/ABI.md, "Processes").

// child returns process h if p created it. s.mu held.
func (s *Supervisor) child(p *proc, h int32, what string) (*proc, error) {
	c := s.procs[h]
	if c == nil {
		return nil, fail(abi.EBADH, "no process %d", h)
	}
	if c.parent != p {
		return nil, fail(abi.EPERM, "can only %s a child process", what)
	}
	return c, nil
}

// process returns process h. s.mu held.
func (s *Supervisor) process(h int32) (*proc, error) {
	if c := s.procs[h]; c != nil {
		return c, nil
	}
	return nil, fail(abi.EBADH, "no process %d", h)
}

func (s *Supervisor) procNew(c *Call) error {
	a := &c.Args
	target, name, class := a.Bytes(abi.PTarget), a.Bytes(abi.PName), a.Bytes(abi.PClass)
	if len(target) == 0 {
		return fail(abi.EINVAL, "empty target")
	}
	for _, b := range [][]byte{target, name, class} {
		if !utf8.Valid(b) {
			return fail(abi.EINVAL, "not UTF-8")
		}
	}
	args := append([]byte(nil), a.Bytes(abi.PArgs)...)
	kid := s.newProc(c.p, string(target), args, string(name), string(class), a.Bool(abi.PDaemon))
	// The program creates processes: have a runner ready for the start,
	// at once (a loop that creates and starts processes runs them
	// together, as forked ones; wishSpares waited for a free CPU, and
	// such a loop's third start often waited for the first to end).
	s.prepareSpares()
	a.SetInt(abi.PHandle, int64(kid.handle))
	return nil
}

func (s *Supervisor) procStart(c *Call) error {
	p, h := c.p, c.Args.Handle(abi.PHandle)
	s.mu.Lock()
	kid, err := s.child(p, h, "start")
	if err == nil && p.daemon {
		err = fail(abi.EPERM, "daemonic processes are not allowed to have children")
	}
	if err == nil && kid.state != stateInitial {
		err = fail(abi.ESTATE, "cannot start a process twice")
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Like fork: the child holds a copy of every pipe end its parent holds
	// at the moment it starts (before it can make a call). A start that
	// fails leaves nothing behind, so it may be tried again.
	return s.start(kid, func() { s.inherit(p, kid) })
}

func (s *Supervisor) procJoin(c *Call) error {
	p, h := c.p, c.Args.Handle(abi.PHandle)
	s.mu.Lock()
	if h == p.handle {
		s.mu.Unlock()
		return fail(abi.EPERM, "cannot join current process")
	}
	kid, err := s.child(p, h, "join")
	if err == nil && kid.state == stateInitial {
		err = fail(abi.ESTATE, "can only join a started process")
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	p.on = waitOn{op: c.Op.String(), handle: h, procs: []*proc{kid}, timeout: c.Args.Timeout(abi.PTimeout)}
	if !s.waitStopped(p) {
		return fail(abi.ETIMEDOUT, "join timed out")
	}
	return nil
}

func (s *Supervisor) procTerminate(c *Call) error { return s.procSignal(c, syscall.SIGTERM) }

func (s *Supervisor) procKill(c *Call) error { return s.procSignal(c, syscall.SIGKILL) }

func (s *Supervisor) procSignal(c *Call, sig syscall.Signal) error {
	h := c.Args.Handle(abi.PHandle)
	s.mu.Lock()
	kid, err := s.child(c.p, h, "signal")
	if err == nil && kid.state == stateInitial {
		err = fail(abi.ESTATE, "process not started")
	}
	stopped := err == nil && kid.state == stateStopped
	by := c.p.name
	if err == nil && !stopped && kid.signalledBy == nil {
		kid.signalledBy = c.p
	}
	s.mu.Unlock()
	if err != nil || stopped {
		return err
	}
	kid.log.Debug("signalling process", "signal", sig, "by", by)
	kid.signal(sig)
	return nil
}

func (s *Supervisor) procInfo(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid, err := s.process(c.Args.Handle(abi.PHandle))
	if err != nil {
		return err
	}
	state := abi.StateInitial
	switch kid.state {
	case stateStarting, stateStarted:
		state = abi.StateStarted
	case stateStopped:
		state = abi.StateStopped
	}
	ppid, parent := hostPID, int32(0)
	if kid.parent != nil {
		ppid, parent = kid.parent.pid, kid.parent.handle
	}
	var flags int64
	if kid.daemon {
		flags |= abi.FlagDaemon
	}
	c.Args.SetRecord(abi.PInfo, int64(state), int64(kid.exitCode), int64(kid.pid), int64(ppid), int64(parent), flags)
	return nil
}

func (s *Supervisor) procName(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid, err := s.process(c.Args.Handle(abi.PHandle))
	if err != nil {
		return err
	}
	c.Args.SetBytes(abi.PName, []byte(kid.name))
	return nil
}

func (s *Supervisor) procSetName(c *Call) error {
	name := c.Args.Bytes(abi.PName)
	if len(name) == 0 || !utf8.Valid(name) {
		return fail(abi.EINVAL, "name must be non-empty UTF-8")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kid, err := s.process(c.Args.Handle(abi.PHandle))
	if err != nil {
		return err
	}
	if kid != c.p && kid.parent != c.p {
		return fail(abi.EPERM, "can only rename the current process or a child")
	}
	kid.name = string(name)
	return nil
}

// configurable returns the child h of c's process while it may still be
// configured (not yet started). s.mu held.
func (s *Supervisor) configurable(c *Call) (*proc, error) {
	kid, err := s.child(c.p, c.Args.Handle(abi.PHandle), "configure")
	if err != nil {
		return nil, err
	}
	if kid.state != stateInitial {
		return nil, fail(abi.ESTATE, "process has already started")
	}
	return kid, nil
}

func (s *Supervisor) procSetDaemon(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid, err := s.configurable(c)
	if err != nil {
		return err
	}
	kid.daemon = c.Args.Bool(abi.PDaemon)
	return nil
}

func (s *Supervisor) procSetArgs(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid, err := s.configurable(c)
	if err != nil {
		return err
	}
	kid.args = append([]byte(nil), c.Args.Bytes(abi.PArgs)...)
	return nil
}

func (s *Supervisor) procSelf(c *Call) error {
	c.Args.SetInt(abi.PHandle, int64(c.p.handle))
	return nil
}

func (s *Supervisor) procParent(c *Call) error {
	var h int32
	if c.p.parent != nil {
		h = c.p.parent.handle
	}
	c.Args.SetInt(abi.PHandle, int64(h))
	return nil
}

func (s *Supervisor) procChildren(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b []byte
	for _, kid := range c.p.children {
		if kid.state == stateStarting || kid.state == stateStarted {
			b = binary.LittleEndian.AppendUint32(b, uint32(kid.handle))
		}
	}
	c.Args.SetBytes(abi.PHandles, b)
	return nil
}

func (s *Supervisor) procTarget(c *Call) error {
	c.Args.SetBytes(abi.PTarget, []byte(c.p.target))
	return nil
}

func (s *Supervisor) procArgs(c *Call) error {
	c.Args.SetBytes(abi.PArgs, c.p.args)
	return nil
}
