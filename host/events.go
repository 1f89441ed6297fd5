package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/internal/pyrepr"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// The event log (Config.Events): built from the call records (record),
// the process table (start, reap) and the output (emit). When no log is
// asked for, s.ev is nil and nothing here runs beyond that test.

// previewMax is how many bytes of a message an event shows.
const previewMax = 48

// maxLine bounds a line of output kept for the event log; a longer one is
// cut there into several events.
const maxLine = 4 << 10

// us is t in microseconds since the run started.
func (s *Supervisor) us(t time.Time) int64 { return t.Sub(s.t0).Microseconds() }

// runEvent is the log's first event.
func (s *Supervisor) runEvent() {
	s.ev.Add(events.Event{Type: events.TypeRun, Module: filepath.Base(s.cfg.Module), Args: s.cfg.Args[1:], Version: events.Version})
}

// endEvent is the log's last event.
func (s *Supervisor) endEvent(res *Result) {
	_, dropped := s.ev.Events()
	s.ev.Add(events.Event{Type: events.TypeEnd, T: s.us(time.Now()), Verdict: string(res.Verdict), Explanation: res.Explanation, Dropped: dropped})
}

// startEvent records that p started, on runner w. s.mu is held.
func (s *Supervisor) startEvent(p *proc, w *worker) {
	runnerPID := w.pid
	e := events.Event{Type: events.TypeStart, T: s.us(time.Now()), Process: p.name, PID: p.pid, Handle: p.handle, Daemon: p.daemon, Target: p.target, Interpreted: w.interpreted}
	if runnerPID != p.pid {
		e.RunnerPID = runnerPID
	}
	if p.parent != nil {
		e.Parent, e.ParentPID = p.parent.name, p.parent.pid
	}
	s.ev.Add(e)
}

// exitEvent records how p ended. s.mu is held.
func (s *Supervisor) exitEvent(p *proc, ws syscall.WaitStatus) {
	code := p.exitCode
	e := events.Event{Type: events.TypeExit, T: s.us(time.Now()), Process: p.name, PID: p.pid, Handle: p.handle, ExitCode: &code}
	if by := p.signalledBy; by != nil {
		e.By, e.ByPID = by.name, by.pid
	}
	if ws.Signaled() {
		e.Signal = signalName(ws.Signal())
	}
	if e.Error = p.trap; e.Error == "" && code > 0 {
		e.Error = p.crash.found
	}
	s.ev.Add(e)
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGXCPU:
		return "SIGXCPU"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// callEvent records a finished call.
func (s *Supervisor) callEvent(c *Call) {
	defer survive(c.p, "recording an event")
	e := events.Event{Type: events.TypeCall, T: s.us(c.Began), Dur: c.Ended.Sub(c.Began).Microseconds(), Handle: c.Process, Op: c.Op.String(), Posted: c.Posted, Runner: c.Runner}
	switch {
	case c.Errno == abi.OK:
		e.Result = "ok"
	case c.p.ctx.Err() != nil: // cancelled when the runner has exited
		e.Result, e.Error = "interrupted", "the process ended during the call"
	default:
		e.Result, e.Error = c.Errno.String(), reason(c.Err)
	}
	if !c.Blocked.IsZero() {
		woke := c.Woke
		if woke.IsZero() || woke.After(c.Ended) {
			woke = c.Ended
		}
		e.Blocked, e.BlockedDur = s.us(c.Blocked), max(1, woke.Sub(c.Blocked).Microseconds())
	}
	var data []byte
	var hasData bool
	if c.Args.Spec != nil {
		if data, hasData = c.Args.Payload(abi.PData); !hasData {
			data, hasData = c.Args.Payload(abi.PValue)
		}
	}
	if hasData && c.Errno == abi.OK {
		e.Size, e.Preview = len(data), preview(data)
		if c.payload > 0 {
			e.Size = c.payload // a runner's record carries a preview only
		}
	}

	s.mu.Lock()
	e.Process, e.PID = c.p.name, c.p.pid
	v, ok := c.Args.Value(abi.PHandle)
	if !ok {
		v, ok = c.Args.Value(abi.PEnd0) // pipe_new: the pipe made
	}
	if ok {
		h := int32(v)
		e.Object = h
		if o := s.objects[h]; o != nil {
			kind := o.obj.Kind()
			e.ObjectKind, e.ObjectName = kind, fmt.Sprintf("%s %d", kind, o.id)
			if c.Seq != 0 && c.Errno == abi.OK {
				switch c.Op {
				case abi.OpConnSend:
					e.Msg = fmt.Sprintf("%d.%d.%s", o.id, 1-o.end, msgNumber(c.Seq))
				case abi.OpConnRecv:
					e.Msg = fmt.Sprintf("%d.%d.%s", o.id, o.end, msgNumber(c.Seq))
				case abi.OpQueuePut, abi.OpQueueGet:
					e.Msg = fmt.Sprintf("%d.%s", o.id, msgNumber(c.Seq))
				case abi.OpBarrierWait:
					g := int(c.Seq) - 1
					e.Generation = &g
				}
			}
		} else if p := s.procs[h]; p != nil {
			e.ObjectKind, e.ObjectName, e.Peer, e.PeerPID = "process", p.name, p.name, p.pid
		}
	}
	s.mu.Unlock()
	s.ev.Add(e)
}

// preview is the start of a message as text, at most previewMax bytes
// and "…" when cut. A tagged string shows as the JSON string it would
// have been (so "1" is not mistaken for 1), tagged bytes as Python's
// repr b'...', anything else as text (JSON as it is).
// msgNumber names a pipe message by its number: the host's count of the
// end's messages, or, for a direct pipe's (whose runners number them),
// the sender's process handle and its count: "4-17".
func msgNumber(seq uint64) string {
	if h := seq >> 32; h != 0 {
		return fmt.Sprintf("%d-%d", h, seq&0xffffffff)
	}
	return fmt.Sprint(seq)
}

func preview(b []byte) string {
	if !abi.Tagged(b) {
		return cutText(b, false)
	}
	tag, p := b[0], b[1:]
	cut := len(p) > previewMax // what it shows is never shorter than p
	p = p[:min(len(p), previewMax)]
	if tag == abi.TagBytes {
		return cutText([]byte(pyrepr.Bytes(p)), cut)
	}
	if cut { // not in the middle of a character
		for i := len(p) - 1; i >= len(p)-utf8.UTFMax; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					p = p[:i]
				}
				break
			}
		}
	}
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false)
	enc.Encode(string(p)) // a string always encodes
	return cutText(bytes.TrimSuffix(q.Bytes(), []byte("\n")), cut)
}

// cutText is the first previewMax bytes of b as UTF-8 text, not cut in
// the middle of a character, with "…" when b was longer or cut is set.
func cutText(b []byte, cut bool) string {
	if len(b) > previewMax {
		cut = true
		b = b[:previewMax]
		for len(b) > 0 && !utf8.Valid(b) && len(b) > previewMax-utf8.UTFMax {
			b = b[:len(b)-1] // not in the middle of a character
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if cut {
		s += "…"
	}
	return s
}

// lines gathers one process's output into lines for the event log. Used
// by the process's serve goroutine, and by reap after it has ended.
type lines struct {
	part [wire.Stderr + 1][]byte
	t    [wire.Stderr + 1]time.Time // when the partial line began
}

// outputEvents records the lines data completes on stream of p.
func (s *Supervisor) outputEvents(p *proc, stream int, data []byte) {
	now := time.Now()
	l := &p.lines
	for len(data) > 0 {
		if len(l.part[stream]) == 0 {
			l.t[stream] = now
		}
		i := bytes.IndexByte(data, '\n')
		chunk := data
		if i >= 0 {
			chunk = data[:i]
		}
		room := maxLine - len(l.part[stream])
		l.part[stream] = append(l.part[stream], chunk[:min(room, len(chunk))]...)
		switch {
		case i >= 0:
			data = data[i+1:]
		case len(chunk) > room:
			data = data[room:]
		default:
			data = nil
			continue
		}
		s.lineEvent(p, stream)
	}
}

// flushLines records p's unfinished lines, when it has ended.
func (s *Supervisor) flushLines(p *proc) {
	for stream := wire.Stdout; stream <= wire.Stderr; stream++ {
		if len(p.lines.part[stream]) > 0 {
			s.lineEvent(p, stream)
		}
	}
}

func (s *Supervisor) lineEvent(p *proc, stream int) {
	l := &p.lines
	name := "stdout"
	if stream == wire.Stderr {
		name = "stderr"
	}
	s.mu.Lock()
	e := events.Event{Type: events.TypeOutput, T: s.us(l.t[stream]), Process: p.name, PID: p.pid, Handle: p.handle, Stream: name}
	s.mu.Unlock()
	e.Text = strings.ToValidUTF8(strings.TrimSuffix(string(l.part[stream]), "\r"), "\uFFFD")
	l.part[stream] = l.part[stream][:0]
	s.ev.Add(e)
}
