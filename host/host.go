// Package host is the supervisor of one run of a guest program.
//
// It owns the process table and every shared object of the run, starts a
// runner OS process for every guest process, serves the calls the runners
// forward, writes out what every process prints, and decides how each
// process ended. It never imports wazero: everything WebAssembly happens in
// the runners (package runner). All state lives in one Supervisor; every
// guest call becomes a Call record that passes through one pipeline
// (Supervisor.call: decode, admit, handler, record, reply) and one handler
// per import (handlers.go), and every blocked process is listed by Waits:
// the places where limits, the event log and deadlock detection hook in.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// Config is one run.
type Config struct {
	// Module is the path of the compiled-and-checked .wasm file.
	Module string
	// Args is the guest's argv (argv[0] first).
	Args []string
	// Runner is the command that starts a runner, e.g. {exe, "__runner"}.
	Runner []string
	// RunnerArgs are extra flags for every runner (cache dir, log level…).
	RunnerArgs []string
	// FirstRunnerArgs are extra flags for the first runner a run starts,
	// the one that serves MainProcess (sandbox run turns off its
	// machine-code sharing: ~7 ms of its load, before the program's first
	// line, to save one runner's 14 MiB).
	FirstRunnerArgs []string
	// Stdout and Stderr receive what the guest processes print.
	Stdout, Stderr io.Writer
	// Prefix labels every output line with the process name and pid.
	Prefix bool
	// MaxProcs bounds the processes alive at once (MainProcess included);
	// 0 means DefaultMaxProcs.
	MaxProcs int
	// Logger is the sandbox's own log.
	Logger hclog.Logger
	// TimeLimit bounds the wall-clock time of the run (0: none).
	TimeLimit time.Duration
	// CPULimit is the CPU time each process may use (0: none), in whole
	// seconds rounded up; the host gives it to every runner (--cpu-limit,
	// and --cpu-lifetime with ReuseRunners), the runner enforces it, and
	// the host gives the verdict VerdictCPULimit when a runner dies of it
	// (SIGXCPU).
	CPULimit time.Duration
	// MaxCreated bounds the process starts the run may ask for in all,
	// MainProcess included and starts refused by MaxProcs too (0: no
	// bound): a fork bomb ends with VerdictProcessLimit.
	MaxCreated int
	// MaxOutput bounds the bytes all processes may print together, and
	// MaxProcessOutput those one process may print (0: no bound). What
	// was printed up to the limit is written out; then the run ends with
	// VerdictOutputLimit.
	MaxOutput, MaxProcessOutput int64
	// MaxObjects bounds the objects the run may create: shared objects
	// (pipes, queues, locks, …) and processes, started or not; MaxMessage the bytes of one message or value;
	// MaxIPCBytes the bytes all shared objects may hold together (0: no
	// bound). Past one, the call fails and the run ends with
	// VerdictIPCLimit.
	MaxObjects              int
	MaxMessage, MaxIPCBytes int64
	// RunCPULimit bounds the CPU time of all the run's processes together,
	// RunMemory the resident memory of their own (bytes, usage.go) of those alive at once (0: no
	// bound); the host samples both (usage.go) and ends the run with
	// VerdictCPULimit or VerdictMemoryLimit.
	RunCPULimit time.Duration
	RunMemory   int64
	// DeadlockAfter is how long every live process must have waited,
	// without a timeout and with nothing happening, before the run ends
	// as deadlocked; 0 means DefaultDeadlockAfter, negative never.
	DeadlockAfter time.Duration
	// Chaos, when not 0, is the seed of a perturbation that makes races
	// show: the host waits a random while (none or up to ChaosMaxDelay)
	// before serving each call and before answering it, drawn from a
	// generator per process seeded with Chaos and the process's handle,
	// so that the same seed gives each process the same delays. Every
	// call must reach the host for that: with Chaos, pipes, locks and
	// queues are the host's (DirectPipes, DirectLocks and DirectQueues are
	// ignored).
	Chaos uint64
	// Events, if not nil, receives the event log of the run: every
	// process start and exit, every call, every line of output. Nil
	// costs nothing.
	Events *events.Log
	// ReuseRunners lets a runner whose guest has ended serve a later
	// process of the run, with a fresh instance of the module, instead of
	// exiting (worker.go): a start then costs no runner start-up. Each
	// process still has a pid of its own (pidFor); its runner's OS pid is
	// its Result's RunnerPID.
	ReuseRunners bool
	// DirectPipes makes every pipe a pair of connected sockets whose
	// messages the runners send and receive themselves, not through the
	// host (direct.go; Linux only, elsewhere it does nothing). A sender
	// then waits when the socket is full, as in CPython. What the sockets
	// may hold counts apart from what the objects hold: together at most
	// half of MaxIPCBytes, past which new pipes are the host's.
	DirectPipes bool
	// DirectLocks puts the state of every Lock, RLock and Semaphore in
	// memory the host shares with the runners, which acquire and release
	// them themselves (directlock.go; Linux only, elsewhere it does
	// nothing).
	DirectLocks bool
	// DirectQueues makes every Queue and JoinableQueue a socket whose
	// messages the runners put and get themselves, with its counts in the
	// direct locks' memory (directqueue.go; Linux only, elsewhere it does
	// nothing). Its socket counts with the direct pipes' (DirectPipes).
	DirectQueues bool
	// Compiled, when not nil, says the module's machine code is not in
	// the compilation cache yet (the caller compiles it meanwhile) and is
	// closed once it is (or its compile failed: runners then compile it
	// themselves). Until then runners start with --interpret (the module
	// compiled for wazero's interpreter: it starts in a tenth of the
	// time, the guest runs slower), at most maxInterpreted alive at once
	// (a start past them waits); afterwards the runners started so are
	// not reused and the spares started so are replaced, so that the
	// processes started later run compiled code. Nil: every runner loads
	// the machine code from the cache.
	Compiled <-chan struct{}
	// Checked, when not nil, says the module is still being compiled and
	// checked (the caller does it meanwhile) and receives the outcome:
	// Run starts MainProcess's runner at once, so that it loads the
	// module in parallel, and gives it MainProcess only after a nil; an
	// error ends Run before any guest ran, wrapped in ErrMainFailed. The
	// runners must be able to load the module meanwhile: interpreted
	// (Compiled) or from the cache. Nil: the module was checked before
	// New.
	Checked <-chan error
}

// DrainTimeout bounds how long a run that was stopped (a limit, a
// deadlock, an interrupt, a failed output) waits for the caller's stdout
// and stderr to take what the processes printed before the stop; what is
// left is dropped and counted (Result.OutputDropped).
const DrainTimeout = 2 * time.Second

// DefaultMaxProcs is the default bound on processes alive at once.
const DefaultMaxProcs = 32

// Result is how a run ended.
type Result struct {
	// ExitCode is MainProcess's exit code as CPython reports it: the
	// guest's exit code, 1 for a trap, -N when ended by signal N.
	ExitCode int
	// MainPID is the OS pid of MainProcess's runner.
	MainPID int
	// Stuck lists, for a run ended by its context (a time limit, an
	// interrupt), the processes that were deadlocked among themselves at
	// that moment (Supervisor.Stuck), explained in StuckLines.
	Stuck      []Wait
	StuckLines []string
	// Verdict says how the run ended, Explanation in one line.
	Verdict     Verdict
	Explanation string
	// Processes is every process that was started, in order of creation.
	Processes []ProcessResult
	// CPU is the CPU time all processes used together, PeakMemory the
	// most resident memory of the processes alive at once that a sample
	// saw (sampled only under RunCPULimit or RunMemory; else 0).
	CPU        time.Duration
	PeakMemory int64
	// OutputDropped counts the bytes the processes printed that the
	// caller's stdout and stderr did not take: after a write failed, or
	// after a stopped run's DrainTimeout.
	OutputDropped int64
}

// Supervisor runs one guest program. Create it with New; Run it once.
type Supervisor struct {
	cfg     Config
	argv    [][]byte // cfg.Args, as every Assign carries them
	log     hclog.Logger
	out     *output
	spawner *spawner
	// firstStarted says the run's first runner was started (it got
	// Config.FirstRunnerArgs).
	firstStarted atomic.Bool

	mu         sync.Mutex
	procs      map[int32]*proc
	objects    map[int32]*object
	lastHandle int32 // the last handle given out
	alive      int   // started and not yet stopped
	all        sync.WaitGroup
	closing    bool
	closed     chan struct{} // closed when closing is set
	interp     chan struct{} // a token per interpreted runner alive (maxInterpreted)
	again      chan struct{} // closed and replaced when a runner is listed idle or a spare is ready or failed (lookAgain)
	warnedSlow atomic.Bool   // an interpreted process was said to be slow (usage.go)
	spares     []*spare
	spareWish  atomic.Bool          // spares are wanted ahead of need (wishSpares)
	waiting    int                  // starts waiting for a runner (awaitRunner)
	workers    map[*worker]struct{} // every runner not yet reaped
	idle       []*worker            // runners waiting for another process (worker.go)
	idleCPU    time.Duration        // CPU time used by idle runners that ended before another process came (usage.go)
	pids       map[int]bool         // the pids given to processes so far (pidFor)

	waitMu  sync.Mutex
	waits   map[int32]*waiting // by process handle: who is blocked now, on what
	forever int                // how many of the waits have no timeout

	// deadlock detection (deadlock.go)
	generation atomic.Uint64 // bumped whenever anything happens
	armed      atomic.Bool   // a confirmation is pending
	// putOffs counts the deadlock verdicts put off in a row, in
	// generation putOffGen, because a waiting runner was running.
	putOffGen atomic.Uint64
	putOffs   atomic.Int32

	// limits (verdict.go)
	created     int                         // processes started, guarded by mu
	nobjects    int                         // processes and shared objects created, guarded by mu
	held        ipc.Meter                   // bytes the shared objects hold
	sockets     map[*ipc.Pipe]*pipeSockets  // the direct pipes' sockets, guarded by mu
	socketBytes atomic.Int64                // what the direct pipes' and queues' sockets may hold together
	locks       lockMemory                  // the direct locks' words (directlock.go)
	queues      map[*ipc.Queue]*queueSocket // the direct queues' sockets, guarded by mu
	lockSlots   map[ipc.Shared]int          // a direct lock's slot in locks, guarded by mu
	output      atomic.Int64                // bytes printed by all processes
	stopOnce    sync.Once
	stopErr     error         // why the run was stopped early
	stopped     chan struct{} // closed by stop
	peakMu      sync.Mutex
	peak        usage // the most the run used, as sampled (usage.go)

	ev *events.Log // nil: no event log
	t0 time.Time   // when the run started
}

// New checks cfg and returns a Supervisor.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Module == "" || len(cfg.Runner) == 0 {
		return nil, errors.New("host: config needs Module and Runner")
	}
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = DefaultMaxProcs
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if len(cfg.Args) == 0 {
		cfg.Args = []string{cfg.Module}
	}
	if cfg.Chaos != 0 {
		// A call a runner serves itself would escape the delays.
		cfg.DirectPipes, cfg.DirectLocks, cfg.DirectQueues = false, false, false
	}
	if cfg.DeadlockAfter == 0 {
		cfg.DeadlockAfter = DefaultDeadlockAfter
	}
	s := &Supervisor{
		cfg: cfg,
		log: cfg.Logger,

		procs:   map[int32]*proc{},
		workers: map[*worker]struct{}{},
		pids:    map[int]bool{hostPID: true},
		objects: map[int32]*object{},
		waits:   map[int32]*waiting{},

		stopped: make(chan struct{}),
		closed:  make(chan struct{}),
		interp:  make(chan struct{}, maxInterpreted),
		again:   make(chan struct{}),
		ev:      cfg.Events,
		t0:      time.Now(),
	}
	for _, a := range cfg.Args {
		s.argv = append(s.argv, []byte(a))
	}
	s.out = newOutput(cfg.Stdout, cfg.Stderr, cfg.Prefix, func(err error) { s.stop(err) })
	return s, nil
}

// Run starts MainProcess and returns when it and every other process of
// the run have stopped. Cancelling ctx kills every runner.
func (s *Supervisor) Run(ctx context.Context) (Result, error) {
	s.spawner = newSpawner()
	defer s.spawner.stop()
	if s.cfg.Checked != nil {
		// MainProcess will take this spare, loaded meanwhile.
		s.prepareSparesUpTo(1)
		var err error
		select {
		case err = <-s.cfg.Checked:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			s.shutdown(true)
			return Result{}, fmt.Errorf("%w: %w", ErrMainFailed, err)
		}
	}
	s.t0 = time.Now()
	if s.ev != nil {
		s.runEvent()
	}

	main := s.newProc(nil, "", nil, "MainProcess", "", false)
	if err := s.start(main, nil); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrMainFailed, err)
	}
	if s.cfg.Checked == nil && s.compiled() && runtime.GOMAXPROCS(0) > 1 {
		// Nothing else to do meanwhile (no check, no compile): a spare
		// loads alongside MainProcess's runner, on another CPU, so that
		// its first child need not wait for one.
		s.prepareSparesUpTo(1)
	}
	if s.cfg.TimeLimit > 0 {
		t := time.AfterFunc(s.cfg.TimeLimit, func() {
			s.stop(&LimitError{VerdictTimeLimit, fmt.Sprintf("time limit of %s reached; every process was killed", s.cfg.TimeLimit)})
		})
		defer t.Stop()
	}
	if s.sampling() {
		done := make(chan struct{})
		defer close(done)
		go s.watchUsage(done)
	}
	var res Result
	var stopped error // why the run was stopped; nil when it ended by itself
	select {
	case <-main.done:
	case <-ctx.Done():
		s.log.Info("run cancelled; killing every process", "error", ctx.Err())
		stopped = ctx.Err()
	case <-s.stopped:
		stopped = s.stopErr
	}
	if _, deadlock := stopped.(*DeadlockError); stopped != nil && !deadlock {
		res.Stuck = s.Stuck()
		res.StuckLines = s.Explain(res.Stuck)
	}
	if stopped != nil {
		// The processes' last output must not hold up their end.
		s.out.release()
	}
	s.shutdown(stopped != nil)
	res.ExitCode, res.MainPID = main.exitCode, main.pid

	// A run that ended by itself waits for its reader as long as that
	// takes (unless it is stopped meanwhile); a stopped run at most
	// DrainTimeout, whatever the caller's stdout and stderr do.
	ended := make(chan struct{})
	defer close(ended)
	deadline := make(chan time.Time, 1)
	go func() {
		if stopped == nil {
			select {
			case <-ctx.Done():
			case <-ended:
				return
			}
		}
		t := time.NewTimer(DrainTimeout)
		defer t.Stop()
		select {
		case now := <-t.C:
			deadline <- now
		case <-ended:
		}
	}()
	if res.OutputDropped = s.out.drain(deadline); res.OutputDropped > 0 {
		// Debug: the log may go to the very stream that stalled.
		s.log.Debug("output dropped: the caller's stdout or stderr did not take it", "bytes", res.OutputDropped)
	}
	res.Verdict, res.Explanation = verdict(stopped, main)
	res.Processes = s.results()
	if s.ev != nil {
		s.endEvent(&res)
	}
	if s.cfg.RunCPULimit > 0 || s.cfg.RunMemory > 0 {
		for _, p := range res.Processes {
			res.CPU += p.CPU
		}
		s.peakMu.Lock()
		res.PeakMemory = s.peak.rss
		s.peakMu.Unlock()
	}
	if stopped != nil {
		return res, stopped
	}
	if main.failure != nil {
		return res, fmt.Errorf("%w: %w", ErrMainFailed, main.failure)
	}
	return res, nil
}

// shutdown kills whatever is still alive (orphans of processes that were
// killed before they could join their children, or everything when the
// run is cancelled) and waits for every runner to be reaped.
func (s *Supervisor) shutdown(cancelled bool) {
	s.mu.Lock()
	if !s.closing {
		close(s.closed)
	}
	s.closing = true
	// Every runner still there: of a process still running, of one that
	// finished and whose runner is exiting, or idle (nothing any of them
	// does now counts, and the run waits for no runner past its guest's
	// end).
	var running []*proc
	for _, p := range s.procs {
		if p.state == stateStarted {
			running = append(running, p)
		}
	}
	workers := make([]*worker, 0, len(s.workers))
	for w := range s.workers {
		workers = append(workers, w)
	}
	s.mu.Unlock()
	s.dropSpares()
	s.dropIdle()
	for _, p := range running {
		if !cancelled {
			s.log.Warn("process still running at the end of the run; killing it", "name", p.name, "pid", p.pid)
		}
	}
	for _, w := range workers {
		w.kill()
	}
	s.all.Wait()
	s.closeSockets()
	s.closeLockMemory()
}

// ending reports whether the run is ending (every runner is being killed).
func (s *Supervisor) ending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// newProc creates a process in state initial. parent is nil for
// MainProcess. An empty name gets CPython's default name.
func (s *Supervisor) newProc(parent *proc, target string, args []byte, name, class string, daemon bool) *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastHandle++
	s.nobjects++
	p := &proc{
		handle: s.lastHandle,
		parent: parent,
		target: target,
		args:   args,
		daemon: daemon,
		done:   make(chan struct{}),
		setUp:  make(chan struct{}),
	}
	if parent != nil {
		parent.counter++
		p.identity = append(append([]int{}, parent.identity...), parent.counter)
		if name == "" {
			if class == "" {
				class = "Process"
			}
			name = class + "-" + joinIdentity(p.identity)
		}
		parent.children = append(parent.children, p)
	}
	p.name = name
	s.procs[p.handle] = p
	return p
}

func joinIdentity(id []int) string {
	s := ""
	for i, n := range id {
		if i > 0 {
			s += ":"
		}
		s += fmt.Sprint(n)
	}
	return s
}

// start launches p's runner. The caller has checked that p may start.
// launched, if not nil, runs once the runner exists and before the process
// can make its first call.
func (s *Supervisor) start(p *proc, launched func()) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return errors.New("the run is ending")
	}
	// Every start asked for counts, refused ones too: a fork bomb that
	// retries while the limit of processes alive refuses it still ends.
	if s.cfg.MaxCreated > 0 && s.created >= s.cfg.MaxCreated {
		s.mu.Unlock()
		s.stop(&LimitError{VerdictProcessLimit, fmt.Sprintf("process limit: the run asked to start %d processes, the most it may; every process was killed", s.cfg.MaxCreated)})
		return fail(abi.EAGAIN, "the run may start no more processes (%d asked for)", s.cfg.MaxCreated)
	}
	s.created++
	if s.alive >= s.cfg.MaxProcs {
		s.mu.Unlock()
		return fail(abi.EAGAIN, "process limit of the run reached (%d alive)", s.cfg.MaxProcs)
	}
	s.alive++
	s.all.Add(1)
	p.state = stateStarting
	s.mu.Unlock()

	w, fresh, needHello, err := s.acquire(p)
	if err != nil {
		s.mu.Lock()
		s.alive--
		p.state = stateInitial
		s.mu.Unlock()
		s.all.Done()
		return err
	}
	if !fresh {
		s.all.Done() // w is counted since it was started
	}
	if p.parent != nil {
		// A program that starts one child likely starts another (a
		// runner loads for it when a CPU is free, or when it starts:
		// wishSpares).
		s.wishSpares()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ctx = ipc.WithCaller(ctx, caller{s, p})
	s.mu.Lock()
	if fresh {
		s.workers[w] = struct{}{}
	}
	p.state = stateStarted
	p.pid = s.pidFor(w.pid)
	p.ctx, p.cancel = ctx, cancel
	p.log = s.log.Named(p.name).With("pid", p.pid)
	if p.pid != w.pid {
		p.log = p.log.With("runner_pid", w.pid)
	}
	if w.interpreted {
		p.log = p.log.With("interpreted", true)
	}
	p.began = time.Now()
	if s.cfg.Chaos != 0 {
		p.chaos = rand.New(rand.NewPCG(s.cfg.Chaos, uint64(p.handle)))
	}
	if s.ev != nil {
		s.startEvent(p, w)
	}
	// A start that raced with the end of the run: shutdown did not see
	// this process, so it ends itself (and is reaped as usual).
	late := s.closing
	s.mu.Unlock()
	p.w.Store(w)
	w.setLogOwner(p)
	if late {
		p.signal(syscall.SIGKILL)
	}
	if fresh {
		p.log.Debug("process started", "handle", p.handle)
	} else {
		p.log.Debug("process started on a reused runner", "handle", p.handle)
	}

	if launched != nil {
		launched()
	}
	close(p.setUp)
	if !fresh {
		w.next <- p // (never blocks: one assignment per idle spell)
		return nil
	}
	served := make(chan struct{})
	logged := make(chan struct{})
	go func() { defer close(served); s.serveWorker(w, needHello) }()
	go func() { defer close(logged); w.relayLogs() }()
	go s.reap(w, served, logged)
	return nil
}

// acquire finds the runner that will serve p, and assigns p to it: an
// idle one whose next guest is parked (runner reuse), else a ready spare
// if the idle ones' guests are still on their way to their park points,
// else an idle one; while spares are loading, whichever of the two comes
// first (awaitRunner); with no spare on the way, one started now (fresh).
// hello says whether the runner's Hello is still to be read.
//
// Waiting for the first of the two matters in a burst of starts (a Pool,
// a loop of Process.start): a runner takes about 10 ms of CPU to load,
// the children of the burst often end sooner and leave their runners idle.
// A spare taken over an idle runner still parking its guest costs its
// process no more (the spare's instance is still to be made), and leaves
// two runners to take turns: in a loop of starts one after another, each
// start finds one parked while the other makes its next instance (a
// spawn+join 1.39 -> 1.17 ms, a start to the child's first instruction
// 1.63 -> 1.17: README, Runner reuse).
func (s *Supervisor) acquire(p *proc) (w *worker, fresh, hello bool, err error) {
	for {
		again := s.lookAgainChan() // before looking, so that no change is missed
		w, parking := s.takeIdle(true)
		if parking {
			if sp, _ := s.takeSpare(); sp != nil {
				s.grantWish() // (counting the idle runners left)
				w = newWorker(sp.r, sp.conn)
				w.assign(p)
				return w, true, false, nil
			}
			w, _ = s.takeIdle(false)
		}
		if w != nil {
			if w.assign(p) {
				return w, false, false, nil
			}
			continue
		}
		s.grantWish() // (the spares wished for are needed now)
		sp, pending := s.takeSpare()
		if sp != nil {
			w = newWorker(sp.r, sp.conn)
			w.assign(p)
			return w, true, false, nil
		}
		if pending {
			if err := s.awaitRunner(again); err != nil {
				return nil, false, false, err
			}
			continue
		}
		r, err := s.startRunner(again)
		if errors.Is(err, errLookAgain) {
			continue
		}
		if err != nil {
			return nil, false, false, err
		}
		w = newWorker(r, nil)
		w.assign(p)
		return w, true, true, nil
	}
}

// awaitRunner waits, for a start that found no idle runner and no ready
// spare, until a runner goes idle or a spare is ready or failed (again
// closes), or the run ends (an error). Meanwhile every waiting start has
// a spare loading for it, as it would have a runner of its own, up to one
// per CPU (loading is CPU-bound: more at once would only slow them all
// down): starts made at once by several processes load in parallel.
func (s *Supervisor) awaitRunner(again <-chan struct{}) error {
	s.mu.Lock()
	s.waiting++
	n := s.waiting
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()
	s.prepareSparesUpTo(min(n, max(spareTarget, runtime.GOMAXPROCS(0))))
	select {
	case <-again:
		return nil
	case <-s.closed:
		return errors.New("the run is ending")
	}
}

// reap waits for w's runner to end, then for its output and log to be
// drained, and only then marks the process it served stopped (unless that
// process ended already, at its Exit report): whoever joins it finds
// everything it printed already written out.
func (s *Supervisor) reap(w *worker, served, logged <-chan struct{}) {
	defer s.all.Done()
	err := w.cmd.Wait()
	w.exited()
	close(w.gone)
	if p := w.current(); p != nil {
		<-p.setUp
		p.cancel() // unblocks a call p was waiting in
	}
	<-served
	// From here w takes no process; the one it serves, or was given while
	// its serve loop ended, ends with it.
	p := w.close()
	if p != nil {
		<-p.setUp // (an idle runner that ended as it was given p)
	}
	<-logged
	w.control.Close()
	w.logs.Close()
	var ru *syscall.Rusage
	if u, ok := w.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		ru = u
	}
	if p == nil {
		// An idle runner let go, or ended by its CPU limit while idle:
		// what its parked guest used is the run's (usage.go). (One that
		// ended while listed idle is taken off the list: it counts as a
		// spare no more.)
		s.unlist(w)
		s.mu.Lock()
		delete(s.workers, w)
		if ru != nil {
			w.mu.Lock()
			s.idleCPU += max(0, cpuOf(ru)-w.cpuUsed)
			w.mu.Unlock()
		}
		s.mu.Unlock()
		return
	}
	s.out.flush(s.label(p), p)
	if s.ev != nil {
		s.flushLines(p)
	}

	code := 0
	var failure error
	var ws syscall.WaitStatus
	if st, ok := w.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		ws = st
	}
	switch {
	case ws.Signaled():
		code = -int(ws.Signal())
		if ws.Signal() == syscall.SIGXCPU {
			s.stop(&LimitError{VerdictCPULimit, fmt.Sprintf("CPU limit: %s used more than %s of CPU time%s; every process was killed", s.who(p), cpuText(s.cfg.CPULimit), w.interpretedText())})
		}
	case p.reported: // (serve has checked it for running out of memory)
		code = p.reportedCode
	case p.outOfMemory.Load():
		code = 1
		s.stop(&LimitError{VerdictMemoryLimit, fmt.Sprintf("memory limit: %s needed more memory than its runner may use%s; every process was killed", s.who(p), w.interpretedText())})
	default:
		code = 1
		failure = fmt.Errorf("runner ended without running the guest to its end (%v)", err)
		p.log.Error("runner failed", "error", failure, "log_tail", p.logTail())
	}
	s.mu.Lock()
	delete(s.workers, w)
	p.failure = failure
	if ru != nil {
		w.mu.Lock()
		mark := w.cpuMark
		w.mu.Unlock()
		p.cpu = max(0, cpuOf(ru)-mark)
		p.peakRSS = ru.Maxrss * 1024
	}
	p.accounted = true
	s.mu.Unlock()
	s.finish(p, code, ws)
	s.checkStuck()
}

// cpuOf is the CPU time (user and system) of a rusage.
func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkOutOfMemory stops the run with the memory-limit verdict if p's
// guest reported a failure after it ran out of memory: its linear
// memory's maximum (--memory), or its runner's limit, which refused a
// memory.grow (limited, from the Exit report).
func (s *Supervisor) checkOutOfMemory(p *proc, limited bool) {
	if p.reportedCode == 0 || !(p.outOfMemory.Load() || limited) {
		return
	}
	p.outOfMemory.Store(true)
	if limited {
		s.stop(&LimitError{VerdictMemoryLimit, fmt.Sprintf("memory limit: %s needed more memory than its runner may use; every process was killed", s.who(p))})
		return
	}
	s.stop(&LimitError{VerdictMemoryLimit, fmt.Sprintf("memory limit: %s ran out of its linear memory (--memory); every process was killed", s.who(p))})
}

// finish marks p stopped with its exit code, once: at the Exit handshake,
// when its guest has ended and CPython's end-of-process duties are done
// (serve), so that a join returns without waiting for the OS to reap the
// runner (about 4 ms); or else when its runner is reaped (reap). The
// objects p held are let go first, so that whoever joins p finds its pipe
// ends closed, as in CPython, where a process's descriptors close before
// its parent's join returns. A process that finished counts no more
// against --max-procs, though its runner may still be exiting.
func (s *Supervisor) finish(p *proc, code int, ws syscall.WaitStatus) {
	if p.ended.Swap(true) {
		return
	}
	s.endWait(p, true) // a wait its runner reported and can no longer end
	s.exited(p, ws.Signaled())
	if s.ev != nil {
		s.flushLines(p)
	}
	s.mu.Lock()
	p.state = stateStopped
	p.exitCode = code
	s.alive--
	p.finished = time.Now()
	if s.ev != nil {
		s.exitEvent(p, ws)
	}
	s.mu.Unlock()
	p.log.Debug("process stopped", "exit_code", code)
	close(p.done)
	s.moved()
}

// atExit is what CPython does when any process ends normally: terminate
// its daemonic children, then join all of them. The wait is listed in
// Waits with op OpExit.
func (s *Supervisor) atExit(p *proc) {
	s.mu.Lock()
	var kids []*proc
	for _, c := range p.children {
		if c.state == stateStarted || c.state == stateStarting {
			kids = append(kids, c)
		}
	}
	s.mu.Unlock()
	for _, c := range kids {
		if c.daemon {
			c.signal(syscall.SIGTERM)
		}
	}
	p.on = waitOn{op: OpExit, procs: kids, timeout: -1}
	s.waitStopped(p)
}

// pidFor is the pid of a process whose runner's OS pid is osPid: that pid,
// unless a process of the run already had it (runner reuse, or the OS
// recycling a pid), then the first number above it that none had. Pids are
// unique within a run, as processes started by fork are; one that is not
// its runner's OS pid says so in the log (runner_pid). Called under s.mu.
func (s *Supervisor) pidFor(osPid int) int {
	pid := osPid
	for s.pids[pid] {
		pid++
	}
	s.pids[pid] = true
	return pid
}

// hostPID is the pid reported as the parent of MainProcess.
var hostPID = os.Getpid()
