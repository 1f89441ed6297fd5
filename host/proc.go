package host

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

type procState int

const (
	stateInitial procState = iota
	stateStarting
	stateStarted
	stateStopped
)

// proc is one guest process. Fields below mu-guarded are guarded by the
// Supervisor's mu.
type proc struct {
	handle   int32
	parent   *proc
	identity []int
	target   string
	args     []byte
	done     chan struct{} // closed when stopped

	// guarded by Supervisor.mu
	name     string
	daemon   bool
	counter  int
	children []*proc
	state    procState
	pid      int
	exitCode int
	failure  error

	// set once when started
	os     *os.Process
	ctx    context.Context // ends when the runner has exited
	cancel context.CancelFunc
	log    hclog.Logger

	// set by serve before the runner exits; read by reap after served
	reported     bool
	reportedCode int

	tailMu sync.Mutex
	tail   []string
}

// signal sends sig to p's runner. The os.Process holds a pidfd, so a
// recycled pid is never hit; a process already gone is not an error.
func (p *proc) signal(sig syscall.Signal) {
	if p.os == nil {
		return
	}
	if err := p.os.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.log.Debug("signal failed", "signal", sig, "error", err)
	}
}

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
	if err := conn.Send(&wire.Msg{Kind: wire.KindAssign, Ints: []int64{int64(p.handle)}, Bufs: argv}); err != nil {
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
			s.out.write(s, p, int(m.Int(0)), m.Buf(0))
		case wire.KindCall:
			reply := s.call(p, m)
			reply.Kind = wire.KindReply
			if err := conn.Send(reply); err != nil {
				// The runner would wait for this reply forever.
				if p.ctx.Err() == nil {
					p.log.Error("cannot send a reply; killing the process", "op", m.Op.String(), "error", err)
					p.signal(syscall.SIGKILL)
				}
				return
			}
		case wire.KindExit:
			p.reported = true
			p.reportedCode = int(m.Int(0))
			s.out.flush(s.label(p), p)
			s.atExit(p)
			if err := conn.Send(&wire.Msg{Kind: wire.KindReply}); err != nil {
				return
			}
		default:
			p.log.Error("unexpected frame from runner", "kind", m.Kind)
			p.signal(syscall.SIGKILL)
			return
		}
	}
}

// relayLogs re-logs the runner's hclog JSON lines under p's logger at
// their own level. Anything else (a Go crash of the runner) is logged as an
// error. The last lines are kept for failure reports.
func (p *proc) relayLogs(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			p.relayLine(strings.TrimRight(string(line), "\r\n"))
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}

func (p *proc) relayLine(line string) {
	if line == "" {
		return
	}
	p.tailMu.Lock()
	p.tail = append(p.tail, line)
	if len(p.tail) > 20 {
		p.tail = p.tail[len(p.tail)-20:]
	}
	p.tailMu.Unlock()

	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) != nil {
		p.log.Error("runner: " + line)
		return
	}
	level := hclog.LevelFromString(str(rec["@level"]))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	msg := str(rec["@message"])
	var kv []any
	for k, v := range rec {
		if strings.HasPrefix(k, "@") {
			continue
		}
		kv = append(kv, k, v)
	}
	p.log.Log(level, msg, kv...)
}

func (p *proc) logTail() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	return strings.Join(p.tail, "\n")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
