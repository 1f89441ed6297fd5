package host

import (
	"bytes"
	"errors"
	"io"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// serveWorker serves w's control socket until the runner ends or is let
// go: first the process w was started for, then, when w stays (runner
// reuse), every process assigned to it while it was idle. The socket is
// closed on return, which lets an idle runner go.
//
// hello is false for a spare runner whose Hello was already read.
func (s *Supervisor) serveWorker(w *worker, hello bool) {
	defer w.control.Close()
	if hello && !s.hello(w) {
		return
	}
	p := w.current()
	for p != nil && s.serve(w, p) {
		if p = s.park(w); p == nil {
			// Let go while idle. Its runner has already started the
			// next process's guest (a parked guest: runner/runner.go),
			// which may compute a long while before it next looks at
			// the socket: it is killed, not waited for.
			w.kill()
		}
	}
}

// hello reads a freshly started runner's Hello.
func (s *Supervisor) hello(w *worker) bool {
	p := w.current()
	m, err := w.conn.Recv()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.log.Error("no hello from runner", "error", err)
		}
		return false
	}
	if m.Kind != wire.KindHello {
		p.log.Error("runner spoke out of turn", "kind", m.Kind)
		return false
	}
	return true
}

// serve serves process p on w: output is written out, calls are answered
// in order, and the Exit report triggers CPython's end-of-process duties
// before the runner is let go, or kept for another process. It returns
// true when w stays, idle, for another process.
func (s *Supervisor) serve(w *worker, p *proc) (stay bool) {
	conn := w.conn
	if err := conn.Send(wire.Assign(p.handle, s.argv)); err != nil {
		return false
	}
	if p.parent == nil {
		// MainProcess is loaded: have runners ready for its first children
		// (programs run here are about processes; most start some).
		s.prepareSpares()
	}
	for {
		m, err := conn.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) && p.ctx.Err() == nil {
				p.log.Debug("control socket ended", "error", err)
			}
			return false
		}
		switch m.Kind {
		case wire.KindOutput:
			stream, data := m.OutputOf()
			if stream == wire.Stderr && bytes.Contains(data, []byte("runtime: out of memory")) {
				// The guest's Go runtime, at the end of its linear memory
				// (--memory); it goes on to "fatal error: out of memory".
				p.outOfMemory.Store(true)
			}
			if stream == wire.Stderr && p.crash.found == "" {
				p.crash.scan(data)
			}
			s.emit(p, stream, data)
		case wire.KindParked:
			// The runner's first frame after an Exit reply that let it
			// stay: p's guest had been parked (takeIdle).
		case wire.KindRecord:
			s.runnerRecord(p, m)
		case wire.KindWait:
			s.runnerWait(p, m)
		case wire.KindWoke:
			s.endWait(p, false)
		case wire.KindReleased:
			s.released(m)
		case wire.KindSpill:
			s.spill(p, m)
		case wire.KindAttach, wire.KindBlobPut, wire.KindBlobTake, wire.KindSync:
			reply, fds := s.runnerRequest(p, m)
			if !s.answer(conn, p, m, reply, fds...) {
				return false
			}
		case wire.KindPost:
			// The runner went on without an answer: the call is served
			// and recorded here, in order, and nothing is sent back.
			s.posted(p, m)
		case wire.KindCall:
			reply := s.call(p, m)
			reply.Kind = wire.KindReply
			sent := s.answer(conn, p, m, reply)
			p.forget()
			if !sent {
				return false
			}
		case wire.KindExit:
			if p.postsFailed > 1 {
				p.log.Warn("posted calls failed", "count", p.postsFailed)
			}
			p.reported = true
			p.reportedCode, _ = m.ExitOf()
			p.trap = m.ExitMessage()
			s.checkOutOfMemory(p, m.ExitLimited()) // before anyone sees p stopped
			s.out.flush(s.label(p), p)
			s.atExit(p)
			cpu, peak := m.ExitUsage()
			stay = s.mayStay(w, p, cpu, peak)
			sent := conn.Send(wire.ExitReply(stay)) == nil
			if stay && !sent {
				s.unlist(w) // its runner is gone: no process for it
			}
			if stay {
				// p is detached from w: it has ended, whatever becomes of
				// the runner now.
				p.cancel()
				s.finish(p, p.reportedCode, 0)
				s.checkStuck()
				return sent
			}
			if !sent {
				return false
			}
			// The guest has ended: its joiners need not wait for the OS
			// to reap its runner. Unless the run is being stopped, or p
			// killed, while it waited for its children: then the kill
			// decides its exit code, as before, when it is reaped.
			if !s.isStopped() && !p.signalled.Load() {
				s.finish(p, p.reportedCode, 0)
			}
		default:
			p.log.Error("unexpected frame from runner", "kind", m.Kind)
			p.signal(syscall.SIGKILL)
			return false
		}
	}
}

// answer sends the reply to m, with descriptors fds (closed after). A
// reply that cannot be sent kills the process: its runner would wait for
// it forever. It reports whether the reply was sent.
func (s *Supervisor) answer(conn *wire.Conn, p *proc, m *wire.Msg, reply *wire.Msg, fds ...int) bool {
	var err error
	if len(fds) > 0 {
		err = conn.SendFD(reply, fds...)
		for _, fd := range fds {
			closeFD(fd)
		}
	} else {
		err = conn.Send(reply)
	}
	if err == nil {
		return true
	}
	if p.ctx.Err() == nil {
		level := hclog.Error
		if s.ending() {
			level = hclog.Debug // the host is killing every runner
		}
		p.log.Log(level, "cannot send a reply; killing the process", "op", m.Op.String(), "kind", m.Kind, "error", err)
		p.signal(syscall.SIGKILL)
	}
	return false
}
