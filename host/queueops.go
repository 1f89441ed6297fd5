package host

import (
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// The handlers of the queue imports (docs/ABI.md, "Queues").

func (s *Supervisor) queueNew(c *Call) error {
	q := ipc.NewQueue(int(c.Args.Int(abi.PMaxsize)), c.Args.Bool(abi.PJoinable), c.Process)
	if s.cfg.DirectQueues {
		s.newDirectQueue(q)
	}
	c.Args.SetInt(abi.PHandle, int64(s.addObject(q, 0)))
	return nil
}

func (s *Supervisor) queuePut(c *Call) error {
	q, _, err := lookupArg[*ipc.Queue](s, c)
	if err != nil {
		return err
	}
	if q.Shared() {
		return queueDirectCheck(c, q)
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), q, 0, timeout)
	return q.Put(c.ctx(), c.Process, c.Args.Bytes(abi.PData), timeout)
}

func (s *Supervisor) queueGet(c *Call) error {
	q, _, err := lookupArg[*ipc.Queue](s, c)
	if err != nil {
		return err
	}
	if q.Shared() {
		return queueDirectCheck(c, q)
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), q, 0, timeout)
	msg, size, err := q.GetLimit(c.ctx(), c.Process, timeout, c.Args.Cap(abi.PData))
	return c.received(abi.PData, msg, size, err)
}

func (s *Supervisor) queueInfo(c *Call) error {
	q, _, err := lookupArg[*ipc.Queue](s, c)
	if err != nil {
		return err
	}
	c.Args.SetRecord(abi.PInfo, int64(q.Qsize()), int64(q.Maxsize()), int64(q.Unfinished()))
	return nil
}

func (s *Supervisor) queueClose(c *Call) error {
	q, _, err := lookupArg[*ipc.Queue](s, c)
	if err != nil {
		return err
	}
	q.Close(c.Process)
	return nil
}

// joinable returns the call's queue if it is a JoinableQueue: the joinable
// imports answer EBADH on a plain Queue (docs/ABI.md).
func (s *Supervisor) joinable(c *Call) (*ipc.Queue, error) {
	q, _, err := lookupArg[*ipc.Queue](s, c)
	if err != nil {
		return nil, err
	}
	if q.Kind() != "joinable_queue" {
		return nil, fail(abi.EBADH, "handle %d is a queue, not a joinable queue", c.Args.Handle(abi.PHandle))
	}
	return q, nil
}

func (s *Supervisor) queueTaskDone(c *Call) error {
	q, err := s.joinable(c)
	if err != nil {
		return err
	}
	return q.TaskDone(c.Process)
}

func (s *Supervisor) queueJoin(c *Call) error {
	q, err := s.joinable(c)
	if err != nil {
		return err
	}
	timeout := c.Args.Timeout(abi.PTimeout)
	c.waitOn(c.Args.Handle(abi.PHandle), q, 0, timeout)
	return q.Join(c.ctx(), c.Process, timeout)
}
