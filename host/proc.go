package host

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

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
	setUp    chan struct{} // closed when start has set p up

	// guarded by Supervisor.mu
	name     string
	daemon   bool
	counter  int
	children []*proc
	state    procState
	pid      int
	exitCode int
	failure  error
	// signalledBy names the process that first terminated or killed
	// this one; began and stopped bound its runner's life.
	signalledBy     *proc
	began, finished time.Time

	// set once when started
	w      atomic.Pointer[worker] // the runner that serves it
	ctx    context.Context        // ends when the process has ended
	cancel context.CancelFunc
	log    hclog.Logger

	// set by serve before the runner exits; read by reap after served
	reported     bool
	reportedCode int

	tailMu sync.Mutex
	tail   []string

	// what the process did: bytes printed (serve goroutine), the first
	// line of its trap (set by serve, read after it), CPU time and peak
	// memory of its runner (guarded by Supervisor.mu, set by reap)
	output atomic.Int64
	// outOfMemory: the runner reported running out of memory (its
	// limit), or the guest's Go runtime did (its linear memory's).
	outOfMemory atomic.Bool
	trap        string
	crash       crashScanner // the first "panic: " or "fatal error: " line of stderr (crash.go)
	lines       lines        // its output cut into lines, for the event log (events.go)
	chaos       *rand.Rand   // the delays of Config.Chaos (nil: none); serve goroutine only
	cpu         time.Duration
	peakRSS     int64

	// ended is set once p finished (its guest reported its end, or its
	// runner exited), before the objects are told: the one record of a
	// process's end that every object asks (ipc.Caller).
	ended atomic.Bool
	// signalled is set once the host sent p's runner a signal: its exit
	// code is then the runner's, known when it is reaped.
	signalled atomic.Bool
	// accounted: cpu and peakRSS are final (under Supervisor.mu): its
	// runner's rusage once reaped, or the runner's report when it stayed
	// for another process (worker.go).
	accounted bool

	// used on the serve goroutine only: the record and reply of the call
	// being served (reused call after call), the call while it runs, and
	// what it (or the end-of-process duty) is about to wait on.
	call  Call
	reply wire.Msg
	cur   *Call
	on    waitOn
	// postsFailed counts its posted calls that failed: the first is
	// logged, the rest only counted (a guest could post bad calls in a
	// loop), and the count is logged at its end.
	postsFailed int
	// waiting is the call its runner reported waiting in (a direct
	// pipe's), until the runner says it woke: recorded as interrupted if
	// the process ends first.
	waiting atomic.Pointer[Call]
}

// signal sends sig to p's runner, if it still serves p: once p has ended
// and its runner serves another process, a signal to p is a no-op, as
// for a process that has exited. The os.Process holds a pidfd, so a
// recycled pid is never hit; a process already gone is not an error.
func (p *proc) signal(sig syscall.Signal) {
	w := p.w.Load()
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur != p {
		return
	}
	p.signalled.Store(true)
	if err := w.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.log.Debug("signal failed", "signal", sig, "error", err)
	}
}

// runnerPID is the OS pid of p's runner (0: not started).
func (p *proc) runnerPID() int {
	if w := p.w.Load(); w != nil {
		return w.pid
	}
	return 0
}

// interpreted says p's runner runs the module in wazero's interpreter.
func (p *proc) interpreted() bool {
	w := p.w.Load()
	return w != nil && w.interpreted
}

// relayLogs re-logs the runner's hclog JSON lines under the logger of
// the process it serves (or served last) at their own level. Anything else
// (a Go crash of the runner) is logged as an error. The last lines are kept
// for failure reports.
func (w *worker) relayLogs() {
	br := bufio.NewReaderSize(w.logs, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.owner().relayLine(strings.TrimRight(string(line), "\r\n"))
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
		// Not the runner's log: the Go runtime's own crash report. When
		// the runner ran out of memory (its RLIMIT_DATA), that is the
		// memory limit of the process, not a failure of the sandbox.
		if strings.Contains(line, "out of memory") || strings.Contains(line, "failed to allocate") {
			p.outOfMemory.Store(true)
		}
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
