package host

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Runner reuse (Config.ReuseRunners). A runner whose guest has ended may
// stay, idle, and serve the next process the run starts: a fresh instance
// of the same compiled module, so the next process starts without a
// runner's start-up (about 10 ms of CPU: the module's decoding and
// validation, its compiled code read from the cache, the Go runtime's
// start; 110 ms before the lean modules).
//
// What a process keeps of its own when its runner is reused: memory (a
// fresh instance, the last one's freed first), arguments, WASI state,
// output and calls (the control socket is one ordered stream, and the
// next Assign comes only after the last process's Exit was answered), its
// CPU limit (the host moves the runner's soft RLIMIT_CPU to the CPU time
// used so far plus Config.CPULimit before each assignment) and its CPU
// time (the difference of the runner's CPU time between the two Exit
// reports, or its rusage at the reap). What it shares: the OS pid, which
// every process a runner serves reports; and a kill of a process that has
// ended is a no-op that cannot reach the next process (worker.cur).
const (
	// maxIdle is how many idle runners a run keeps; others are let go.
	maxIdle = 8
	// maxServed is how many processes one runner serves before it is let
	// go, so that nothing one guest leaves in the runner's Go heap can
	// build up without end.
	maxServed = 100
	// cpuLifetimeFactor: a reusable runner's hard RLIMIT_CPU is this
	// many per-process limits (plus one second); a runner that could not
	// give the next process its whole limit under it is let go.
	cpuLifetimeFactor = 4
)

// worker is one runner OS process as the host sees it: the process it
// serves now, and what it has used. Without reuse it serves one process
// and exits.
type worker struct {
	*started
	conn *wire.Conn
	pid  int
	next chan *proc    // the next process, for an idle worker; closed to let it go
	gone chan struct{} // closed when the runner has exited (reap)

	mu      sync.Mutex
	cur     *proc         // the process it serves; nil while idle
	logTo   *proc         // whose its log lines are: the last process set up on it
	cpuMark time.Duration // the runner's CPU time when cur was assigned
	cpuUsed time.Duration // the runner's CPU time at its last Exit report
	served  int           // processes assigned to it
	ended   bool          // its runner has exited and was reaped: no more assignments
}

// newWorker makes a worker of a started runner; conn is nil unless its
// Hello was read already (a spare).
func newWorker(r *started, conn *wire.Conn) *worker {
	if conn == nil {
		conn = wire.NewConn(r.control)
	}
	return &worker{started: r, conn: conn, pid: r.cmd.Process.Pid, next: make(chan *proc, 1), gone: make(chan struct{})}
}

// interpretedText is what a limit's explanation adds when w interprets
// the module (Config.Compiled): its process needed more for the same
// work than compiled code would have.
func (w *worker) interpretedText() string {
	if !w.interpreted {
		return ""
	}
	return " (running interpreted, the first run of a new module: --interpret-new=false compiles first)"
}

// current is the process w serves now, or nil.
func (w *worker) current() *proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// owner is the process w's log lines belong to: the last one set up on
// it (its logger is ready), which is the one it serves, or, while it is
// idle, the one it served last.
func (w *worker) owner() *proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logTo
}

func (w *worker) setLogOwner(p *proc) {
	w.mu.Lock()
	w.logTo = p
	w.mu.Unlock()
}

// kill ends w's runner, whatever it serves (the run is ending); the
// process it serves counts as signalled, so that its end is decided when
// the runner is reaped.
func (w *worker) kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur != nil {
		w.cur.signalled.Store(true)
	}
	w.cmd.Process.Kill()
}

// assign makes p the process w serves; false if w's runner has ended
// (reap) and serves nothing more.
func (w *worker) assign(p *proc) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return false
	}
	w.cur = p
	w.cpuMark = w.cpuUsed
	w.served++
	return true
}

// close marks w as serving nothing more and returns the process it was
// serving or had been assigned (nil: none).
func (w *worker) close() *proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	return w.cur
}

// cpuLifetime is the hard CPU limit of a reusable runner in seconds (0:
// the runner's default, --cpu-limit + 1).
func (s *Supervisor) cpuLifetime() uint64 {
	if !s.cfg.ReuseRunners || s.cfg.CPULimit <= 0 {
		return 0
	}
	return cpuLifetimeFactor*cpuSeconds(s.cfg.CPULimit) + 1
}

// cpuSeconds is a CPU limit in whole seconds, at least one.
func cpuSeconds(d time.Duration) uint64 {
	return max(1, uint64((d+time.Second-1)/time.Second))
}

// softCPU is the soft RLIMIT_CPU that gives a process its whole limit on
// a runner that has used used: the used time rounded up plus the limit.
func (s *Supervisor) softCPU(used time.Duration) uint64 {
	return cpuSeconds(used+time.Nanosecond) + cpuSeconds(s.cfg.CPULimit)
}

// mayStay decides, at p's Exit report, whether w stays for another
// process; if so, p is detached from w (a later kill of p reaches
// nothing) and its CPU time and peak memory are taken from the report.
// Called on w's serve goroutine.
func (s *Supervisor) mayStay(w *worker, p *proc, cpu time.Duration, peak int64) bool {
	if !s.cfg.ReuseRunners || p.outOfMemory.Load() || s.isStopped() {
		return false
	}
	if lt := s.cpuLifetime(); lt > 0 && s.softCPU(cpu)+1 > lt {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(s.idle) >= maxIdle {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cur != p || p.signalled.Load() || w.served >= maxServed || s.outdated(w.started) {
		return false
	}
	w.cur = nil
	w.cpuUsed = cpu
	p.cpu, p.peakRSS, p.accounted = max(0, cpu-w.cpuMark), peak, true
	// Listed idle before p is seen stopped, so that whoever joins p and
	// starts another process at once finds w ready.
	s.idle = append(s.idle, w)
	s.lookAgainLocked()
	return true
}

// unlist takes w off the idle list, if it is there: its runner could not
// be told to stay, or ended while idle (reap).
func (s *Supervisor) unlist(w *worker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.idle, w); i >= 0 {
		s.idle = slices.Delete(s.idle, i, i+1)
	}
}

// park waits until a process is assigned to idle w, and returns it; nil
// when w is let go or its runner ends.
func (s *Supervisor) park(w *worker) *proc {
	select {
	case p := <-w.next:
		return p
	case <-w.gone:
		return nil
	}
}

// takeIdle returns an idle worker ready for another process, its CPU
// limit moved, or nil. A runner whose next guest is parked already (its
// wire.KindParked waits in the socket: Conn.Pending) goes first: the
// process starts without waiting for an instance to be made and run to
// its park point (about 1.3 ms of CPU for a Go guest). Among several, and
// when none is parked, the most recently idle goes first (its caches are
// warmest). With parkedOnly, none is taken when none is parked; parking
// then says whether some idle runner's guest is still on its way there.
func (s *Supervisor) takeIdle(parkedOnly bool) (w *worker, parking bool) {
	for {
		s.mu.Lock()
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			return nil, false
		}
		i := n - 1
		for i >= 0 && !s.idle[i].conn.Pending() {
			i--
		}
		if i < 0 {
			if parkedOnly && runnersPark {
				s.mu.Unlock()
				return nil, true
			}
			i = n - 1
		}
		w := s.idle[i]
		s.idle = slices.Delete(s.idle, i, i+1)
		s.mu.Unlock()
		if closed(w.gone) {
			continue // its runner ended while idle
		}
		if s.outdated(w.started) {
			close(w.next) // a runner started now runs machine code
			continue
		}
		if err := s.rearmCPU(w); err != nil {
			s.log.Debug("idle runner cannot be reused; letting it go", "pid", w.pid, "error", err)
			close(w.next)
			continue
		}
		return w, false
	}
}

// runnersPark says a runner that stays for another process parks its next
// guest (runner.go, "Parked guests"; Linux only) and says so.
const runnersPark = runtime.GOOS == "linux"

// rearmCPU moves w's soft RLIMIT_CPU so that the next process may use
// Config.CPULimit of CPU time from the runner's last Exit report (what
// it uses while idle counts as the next process's, as its CPU time does),
// rounded up to a whole second.
func (s *Supervisor) rearmCPU(w *worker) error {
	lt := s.cpuLifetime()
	if lt == 0 {
		return nil
	}
	w.mu.Lock()
	used := w.cpuUsed
	w.mu.Unlock()
	lim := unix.Rlimit{Cur: s.softCPU(used), Max: lt}
	if err := unix.Prlimit(w.pid, unix.RLIMIT_CPU, &lim, nil); err != nil {
		return fmt.Errorf("prlimit RLIMIT_CPU: %w", err)
	}
	return nil
}

// dropIdle lets every idle worker go (the run is ending).
func (s *Supervisor) dropIdle() {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, w := range idle {
		close(w.next)
	}
}
