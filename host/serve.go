package host

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// serve reads p's control socket until it ends: output is written out,
// calls are answered in order, and the Exit report triggers CPython's
// end-of-process duties before the runner is let go.
//
// conn is non-nil for a spare runner whose Hello was already read.
func (s *Supervisor) serve(p *proc, control net.Conn, conn *wire.Conn) {
	if conn == nil {
		conn = wire.NewConn(control)
		hello, err := conn.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Error("no hello from runner", "error", err)
			}
			return
		}
		if hello.Kind != wire.KindHello {
			p.log.Error("runner spoke out of turn", "kind", hello.Kind)
			return
		}
	}
	argv := make([][]byte, len(s.cfg.Args))
	for i, a := range s.cfg.Args {
		argv[i] = []byte(a)
	}
	if err := conn.Send(wire.Assign(p.handle, argv)); err != nil {
		return
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
			return
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
		case wire.KindCall:
			reply := s.call(p, m)
			reply.Kind = wire.KindReply
			err := conn.Send(reply)
			p.forget()
			if err != nil {
				// The runner would wait for this reply forever.
				if p.ctx.Err() == nil {
					level := hclog.Error
					if s.ending() {
						level = hclog.Debug // the host is killing every runner
					}
					p.log.Log(level, "cannot send a reply; killing the process", "op", m.Op.String(), "error", err)
					p.signal(syscall.SIGKILL)
				}
				return
			}
		case wire.KindExit:
			p.reported = true
			p.reportedCode, _ = m.ExitOf()
			p.trap = m.ExitMessage()
			s.checkOutOfMemory(p) // before anyone sees p stopped
			s.out.flush(s.label(p), p)
			s.atExit(p)
			if err := conn.Send(&wire.Msg{Kind: wire.KindReply}); err != nil {
				return
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
			return
		}
	}
}
