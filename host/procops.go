package host

import (
	"encoding/binary"
	"errors"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Short names for the errnos handlers return.
const (
	einval    = wire.EINVAL
	ebadh     = wire.EBADH
	etimedout = wire.ETIMEDOUT
	eperm     = wire.EPERM
	estate    = wire.ESTATE
	eagain    = wire.EAGAIN
	eio       = wire.EIO
)

// call answers one guest call of process p. Every call of every process
// passes here.
func (s *Supervisor) call(p *proc, m *wire.Msg) *wire.Msg {
	trace := p.log.IsTrace()
	if trace {
		p.log.Trace("call", "op", m.Op.String())
	}
	reply, err := s.dispatch(p, m)
	if err != nil {
		var e *errno
		if !errors.As(err, &e) {
			e = &errno{code: eio, msg: err.Error()}
		}
		if trace {
			p.log.Trace("call failed", "op", m.Op.String(), "errno", e.code, "error", e.msg)
		}
		return &wire.Msg{Errno: e.code}
	}
	if reply == nil {
		reply = &wire.Msg{}
	}
	// A reply must fit in one frame: only a whole-object read (ns_items)
	// can grow past it; it gets E2BIG instead of a frame the wire refuses.
	size := 0
	for _, b := range reply.Bufs {
		size += len(b)
	}
	if size > hostReplyLimit {
		return &wire.Msg{Errno: wire.E2BIG}
	}
	if trace {
		p.log.Trace("call done", "op", m.Op.String(), "errno", reply.Errno)
	}
	return reply
}

// hostReplyLimit bounds the bytes of one reply, leaving room for the
// frame's own fields.
const hostReplyLimit = wire.MaxFrame - 64<<10

func (s *Supervisor) dispatch(p *proc, m *wire.Msg) (*wire.Msg, error) {
	switch m.Op {
	case wire.OpProcNew:
		return s.procNew(p, m)
	case wire.OpProcStart:
		return nil, s.procStart(p, int32(m.Int(0)))
	case wire.OpProcJoin:
		return nil, s.procJoin(p, int32(m.Int(0)), time.Duration(m.Int(1)))
	case wire.OpProcTerminate:
		return nil, s.procSignal(p, int32(m.Int(0)), syscall.SIGTERM)
	case wire.OpProcKill:
		return nil, s.procSignal(p, int32(m.Int(0)), syscall.SIGKILL)
	case wire.OpProcInfo:
		return s.procInfo(int32(m.Int(0)))
	case wire.OpProcName:
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.procs[int32(m.Int(0))]
		if c == nil {
			return nil, fail(ebadh, "no process %d", m.Int(0))
		}
		return bufReply([]byte(c.name)), nil
	case wire.OpProcSetName:
		return nil, s.procSetName(p, int32(m.Int(0)), m.Buf(0))
	case wire.OpProcSetDaemon:
		return nil, s.procSetDaemon(p, int32(m.Int(0)), m.Int(1) != 0)
	case wire.OpProcSelf:
		return &wire.Msg{Ints: []int64{int64(p.handle)}}, nil
	case wire.OpProcParent:
		h := int64(0)
		if p.parent != nil {
			h = int64(p.parent.handle)
		}
		return &wire.Msg{Ints: []int64{h}}, nil
	case wire.OpProcChildren:
		s.mu.Lock()
		defer s.mu.Unlock()
		var b []byte
		for _, c := range p.children {
			if c.state == stateStarting || c.state == stateStarted {
				b = binary.LittleEndian.AppendUint32(b, uint32(c.handle))
			}
		}
		return bufReply(b), nil
	case wire.OpProcTarget:
		return bufReply([]byte(p.target)), nil
	case wire.OpProcArgs:
		return bufReply(p.args), nil
	case wire.OpProcSetArgs:
		return nil, s.procSetArgs(p, int32(m.Int(0)), m.Buf(0))
	}
	if reply, err, ok := s.dispatchIPC(p, m); ok {
		return reply, err
	}
	return nil, fail(einval, "unknown operation %d", m.Op)
}

func bufReply(b []byte) *wire.Msg {
	return &wire.Msg{Bufs: [][]byte{b}}
}

// child returns process h if p created it.
func (s *Supervisor) child(p *proc, h int32, what string) (*proc, error) {
	c := s.procs[h]
	if c == nil {
		return nil, fail(ebadh, "no process %d", h)
	}
	if c.parent != p {
		return nil, fail(eperm, "can only %s a child process", what)
	}
	return c, nil
}

func (s *Supervisor) procNew(p *proc, m *wire.Msg) (*wire.Msg, error) {
	target, args, name, class := m.Buf(0), m.Buf(1), m.Buf(2), m.Buf(3)
	if len(target) == 0 {
		return nil, fail(einval, "empty target")
	}
	for _, b := range [][]byte{target, name, class} {
		if !utf8.Valid(b) {
			return nil, fail(einval, "not UTF-8")
		}
	}
	c := s.newProc(p, string(target), append([]byte(nil), args...), string(name), string(class), m.Int(0) != 0)
	// The program creates processes: have a runner ready for the start.
	s.prepareSpares()
	return &wire.Msg{Ints: []int64{int64(c.handle)}}, nil
}

func (s *Supervisor) procStart(p *proc, h int32) error {
	s.mu.Lock()
	c, err := s.child(p, h, "start")
	if err == nil && p.daemon {
		err = fail(eperm, "daemonic processes are not allowed to have children")
	}
	if err == nil && c.state != stateInitial {
		err = fail(estate, "cannot start a process twice")
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Like fork: the child holds a copy of every pipe end its parent holds
	// at the moment it starts (before it can make a call). A start that
	// fails leaves nothing behind, so it may be tried again.
	return s.start(c, func() { s.inherit(p, c) })
}

func (s *Supervisor) procJoin(p *proc, h int32, timeout time.Duration) error {
	s.mu.Lock()
	if h == p.handle {
		s.mu.Unlock()
		return fail(eperm, "cannot join current process")
	}
	c, err := s.child(p, h, "join")
	if err == nil && c.state == stateInitial {
		err = fail(estate, "can only join a started process")
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !waitDone(p.ctx, c, timeout) {
		return fail(etimedout, "join timed out")
	}
	return nil
}

func (s *Supervisor) procSignal(p *proc, h int32, sig syscall.Signal) error {
	s.mu.Lock()
	c, err := s.child(p, h, "signal")
	if err == nil && c.state == stateInitial {
		err = fail(estate, "process not started")
	}
	stopped := err == nil && c.state == stateStopped
	s.mu.Unlock()
	if err != nil || stopped {
		return err
	}
	c.log.Debug("signalling process", "signal", sig)
	c.signal(sig)
	return nil
}

func (s *Supervisor) procInfo(h int32) (*wire.Msg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.procs[h]
	if c == nil {
		return nil, fail(ebadh, "no process %d", h)
	}
	rec := make([]byte, wire.ProcInfoSize)
	le := binary.LittleEndian
	state := uint32(wire.StateInitial)
	switch c.state {
	case stateStarting, stateStarted:
		state = wire.StateStarted
	case stateStopped:
		state = wire.StateStopped
	}
	le.PutUint32(rec[0:], state)
	le.PutUint32(rec[4:], uint32(int32(c.exitCode)))
	le.PutUint32(rec[8:], uint32(c.pid))
	ppid, parent := hostPID, int32(0)
	if c.parent != nil {
		ppid, parent = c.parent.pid, c.parent.handle
	}
	le.PutUint32(rec[12:], uint32(ppid))
	le.PutUint32(rec[16:], uint32(parent))
	var flags uint32
	if c.daemon {
		flags |= 1
	}
	le.PutUint32(rec[20:], flags)
	return bufReply(rec), nil
}

func (s *Supervisor) procSetName(p *proc, h int32, name []byte) error {
	if len(name) == 0 || !utf8.Valid(name) {
		return fail(einval, "name must be non-empty UTF-8")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.procs[h]
	if c == nil {
		return fail(ebadh, "no process %d", h)
	}
	if c != p && c.parent != p {
		return fail(eperm, "can only rename the current process or a child")
	}
	c.name = string(name)
	return nil
}

func (s *Supervisor) procSetDaemon(p *proc, h int32, daemon bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.child(p, h, "configure")
	if err != nil {
		return err
	}
	if c.state != stateInitial {
		return fail(estate, "process has already started")
	}
	c.daemon = daemon
	return nil
}

func (s *Supervisor) procSetArgs(p *proc, h int32, args []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.child(p, h, "configure")
	if err != nil {
		return err
	}
	if c.state != stateInitial {
		return fail(estate, "process has already started")
	}
	c.args = append([]byte(nil), args...)
	return nil
}
