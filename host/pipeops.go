package host

import (
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// The handlers of the pipe imports (docs/ABI.md, "Pipes").

func (s *Supervisor) pipeNew(c *Call) error {
	pipe := ipc.NewPipe(c.Args.Bool(abi.PDuplex), c.Process)
	if s.cfg.DirectPipes {
		s.newDirectPipe(pipe)
	}
	h0, h1 := s.addObject(pipe, 0), s.addObject(pipe, 1)
	s.mu.Lock()
	s.objects[h1].id = h0 // one pipe: "pipe h0"
	s.mu.Unlock()
	c.Args.SetInt(abi.PEnd0, int64(h0))
	c.Args.SetInt(abi.PEnd1, int64(h1))
	return nil
}

func (s *Supervisor) connSend(c *Call) error {
	pipe, end, err := lookupArg[*ipc.Pipe](s, c)
	if err != nil {
		return err
	}
	if s.socketsOf(pipe) != nil {
		return directCheck(pipe, c.Process, end, true)
	}
	return pipe.Send(c.ctx(), c.Process, end, c.Args.Bytes(abi.PData))
}

func (s *Supervisor) connRecv(c *Call) error {
	pipe, end, err := lookupArg[*ipc.Pipe](s, c)
	if err != nil {
		return err
	}
	if s.socketsOf(pipe) != nil {
		return directCheck(pipe, c.Process, end, false)
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), pipe, end, timeout)
	msg, size, err := pipe.Recv(c.ctx(), c.Process, end, timeout, c.Args.Cap(abi.PData))
	return c.received(abi.PData, msg, size, err)
}

func (s *Supervisor) connPoll(c *Call) error {
	pipe, end, err := lookupArg[*ipc.Pipe](s, c)
	if err != nil {
		return err
	}
	if s.socketsOf(pipe) != nil {
		return directCheck(pipe, c.Process, end, false)
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), pipe, end, timeout)
	ready, err := pipe.Poll(c.ctx(), c.Process, end, timeout)
	if err != nil {
		return err
	}
	c.Args.SetBool(abi.PReady, ready)
	return nil
}

func (s *Supervisor) connClose(c *Call) error {
	pipe, end, err := lookupArg[*ipc.Pipe](s, c)
	if err != nil {
		return err
	}
	return pipe.Close(c.Process, end)
}
