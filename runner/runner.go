// Package runner runs one guest process inside one OS process.
//
// The host starts the sandbox binary in its hidden runner mode (see Main)
// with the control socket on file descriptor 3 and its own log (hclog JSON)
// on standard error. The runner compiles the module (normally a hit in the
// compilation cache the host filled), says Hello, and waits to be told
// which process it is: a runner can be started before anyone knows what it
// will run. It then runs the module's _start with WASI (real clocks, real
// sleep, real randomness, the guest's arguments, no environment, no files)
// and the sandbox host module, whose calls it forwards to the host. What
// the guest writes to stdout and stderr travels to the host on the same
// socket, in order with its calls. When the guest ends, the runner reports
// how, waits for the host to deal with the process's children, and exits.
//
// This is the only package that builds a wazero runtime.
package runner

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Exit statuses of a runner that could not run its guest. The host reads
// them from the OS; a guest's own exit code travels in the Exit frame.
const (
	// ExitHostGone: the control socket closed (the host died).
	ExitHostGone = 125
	// ExitFailed: the runner failed before or around the guest (module did
	// not load, protocol error).
	ExitFailed = 124
)

// Config is what Run needs.
type Config struct {
	Load LoadConfig
	// GCPercent, when not 0, is the Go collector's percentage during a
	// lean load and once the module is loaded (debug.SetGCPercent; Main:
	// gcPercent), with a soft memory limit of gcMemoryLimit unless one
	// is set; a load that may compile runs at Go's default, and an
	// interpreting runner ignores it.
	GCPercent int
	// Control is the socket to the host.
	Control io.ReadWriteCloser
	Logger  hclog.Logger
	// HostGone is called when the control socket ends: the host is gone,
	// and so is the reason to live, even for a guest busy in a loop that
	// makes no calls. Main makes it exit the process; nil does nothing.
	HostGone func()
	// Failed is called when the host breaks the protocol while a guest
	// runs (a parked guest's assignment is not one): Main makes it exit
	// the process with ExitFailed; nil leaves it to the guest's next
	// call, and Run then returns ExitFailed.
	Failed func()
}

// Run runs one guest process to its end and returns the runner's exit
// status.
func Run(ctx context.Context, cfg Config) int {
	log := cfg.Logger
	conn := wire.NewConn(cfg.Control)
	began := time.Now()

	// The collector's percentage during the load; prev, what it was.
	prev, changed := 0, false
	switch {
	case cfg.Load.Interpret:
		// The interpreter's code is nearly all its compile allocates (a
		// 3.9 MB Go module: 91 MiB allocated, 88 MiB kept): a collection
		// during it frees little and, on a runner's single P, took the
		// compile from 120-150 ms to 230. (GCPercent is not for it.)
		prev, changed = debug.SetGCPercent(-1), true
		cfg.GCPercent = 0
	case cfg.GCPercent != 0 && cfg.Load.Lean.Path != "":
		// A lean load compiles nothing but traps, if anything (lean.go):
		// what it allocates is little, and the collections of it are cut
		// as the guest's are.
		prev, changed = debug.SetGCPercent(cfg.GCPercent), true
	}
	var err error
	mod := LoadLean(ctx, cfg.Load)
	lean := mod != nil
	if changed && !lean && !cfg.Load.Interpret {
		debug.SetGCPercent(prev) // (no lean load: Load may compile)
	}
	if !lean {
		mod, err = Load(ctx, cfg.Load)
	}
	if cfg.Load.Interpret {
		debug.SetGCPercent(prev)
	}
	if err != nil {
		log.Error("cannot load module", "error", err)
		return ExitFailed
	}
	// No Close: the process ends right after the guest, and unmapping the
	// compiled module would only delay the exit everyone is waiting for.
	log.Trace("module loaded", "took", time.Since(began).String(), "lean", lean)
	if cfg.GCPercent != 0 {
		debug.SetGCPercent(cfg.GCPercent)
		// What a guest's large messages leave in the heap is collected
		// before it grows far: the heap's high-water mark stays counted
		// by RLIMIT_DATA (--process-memory) for the runner's life.
		if debug.SetMemoryLimit(-1) == math.MaxInt64 {
			debug.SetMemoryLimit(gcMemoryLimit)
		}
	}

	if err := conn.Send(wire.Hello(os.Getpid())); err != nil {
		log.Error("cannot greet host", "error", err)
		return ExitHostGone
	}
	// The host speaks only when spoken to (a reply, an assignment, the
	// answer to an Exit): the one goroutine reads each frame when it
	// expects one, with no reader goroutine to hand it over (a host call
	// costs two system calls of the runner: control_linux.go). Whenever
	// the socket ends, the host is gone and so is the reason to live; a
	// host that dies while the guest computes ends the runner by the
	// parent-death signal.
	recv := func() (*wire.Msg, bool) {
		m, err := conn.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Error("control socket failed", "error", err)
			}
			if cfg.HostGone != nil {
				cfg.HostGone()
			}
			return nil, false
		}
		return m, true
	}

	caller := &remote{conn: conn, recv: recv}
	if _, err := hostfuncs.Instantiate(ctx, mod.Runtime, caller); err != nil {
		log.Error("cannot instantiate host module", "error", err)
		return ExitFailed
	}
	if err := instantiateWASI(ctx, mod.Runtime, caller); err != nil {
		log.Error("cannot instantiate WASI", "error", err)
		return ExitFailed
	}
	// One guest process per assignment; the host may ask the runner to
	// stay for another process of the run, which gets a fresh instance
	// (fresh memory, fresh WASI state) of the same compiled module.
	// Most of what a compiled load allocated is garbage now (decoding and
	// validating the module, reading the compiled code), and the Go heap
	// would keep its pages for the runner's whole life: given back while
	// the runner waits for its first process, a compiled runner of a Go
	// guest held 28 MiB instead of 36 (PSS, 30 alive; before its machine
	// code was shared: sharecode_linux.go), for 3-4 ms of CPU
	// on a load of 80-130 (off the way of a spare's process). An
	// interpreted runner keeps nearly all it allocated (the interpreter's
	// code).
	freeAfter := time.Duration(-1) // never
	if !cfg.Load.Interpret {
		freeAfter = 0 // at once
	}
	// argv: the run's arguments, the same for every process of the run,
	// known from the first assignment. Once known, the next process is
	// parked: its instance starts as soon as the last one ended, before
	// the host has said which process it is (see guest).
	var argv []string
	for {
		var assign *wire.Msg
		if len(argv) == 0 {
			m, ok := nextFrame(conn, cfg.Control, recv, freeAfter)
			if !ok {
				return ExitHostGone
			}
			assign, argv = m, argsOf(m) // (guest.take checks the frame)
		}
		g := &guest{mod: mod, conn: conn, control: cfg.Control, caller: caller, argv: argv, log: log, freeAfter: freeAfter, failed: cfg.Failed}
		code, reply, err := g.run(ctx, assign)
		switch {
		case errors.Is(err, errProtocol):
			log.Error("protocol error", "error", err)
			return ExitFailed
		case err != nil:
			return ExitHostGone
		}
		if !reply.Stay() {
			return code & 0xff
		}
		if !parkGuests {
			argv = nil // wait for the next assignment first
		}
		// The last guest's linear memory was unmapped once its end was
		// reported (guest.run); what else it left in the Go heap
		// is given back to the OS if no process comes soon (idleFree;
		// at once, it would cost a program that starts its children
		// one after another that much CPU each time).
		freeAfter = idleFree
	}
}

// idleFree is how long an idle runner waits before it gives its free
// memory back to the OS (a collection and the scavenger, about 1.2 ms of
// CPU). Two runners that take turns in a loop of starts (host/worker.go,
// takeIdle) each wait through the other's whole process: with 20 ms, a
// loop of 40 children of 50 ms used 0.21-0.25 s of CPU, against
// 0.17-0.20 with 250 ms, as with one runner reused at once.
const idleFree = 250 * time.Millisecond

// readWaiter is a control socket that can wait, with a bound or none, for
// the host's next frame in a system call the Go runtime knows of: the
// runner's own (control_linux.go), whose reads are raw and hold the
// runner's only P, so that neither a timer nor the collector's workers
// run while one blocks.
type readWaiter interface {
	WaitReadable(d time.Duration) bool // d < 0: no bound
}

// waiterOf returns the readWaiter of a control socket, or nil when the
// socket is read through Go's poller (a runner run in a test's process),
// where a blocked read lets the runtime work anyway.
func waiterOf(control io.Reader) readWaiter {
	if c, ok := control.(*confinedControl); ok {
		control = c.ReadWriteCloser
	}
	w, _ := control.(readWaiter)
	return w
}

// nextFrame reads the host's next frame while the runner has no process
// (its first assignment, or the next while idle), giving the heap's free
// memory back to the OS once none has come within freeAfter (0: at once,
// before waiting; < 0: never). It waits in a system call the runtime
// knows of where it can (readWaiter), so that what the runtime has
// pending, such as a collection after the load (an interpreted load runs
// with the collector off), runs now and not on the way to the guest's
// first line.
func nextFrame(conn *wire.Conn, control io.Reader, recv func() (*wire.Msg, bool), freeAfter time.Duration) (*wire.Msg, bool) {
	if conn.Buffered() > 0 {
		return recv() // the frame came with the last one read
	}
	if freeAfter == 0 {
		debug.FreeOSMemory()
	}
	w := waiterOf(control)
	switch {
	case w != nil && freeAfter > 0:
		if !w.WaitReadable(freeAfter) {
			debug.FreeOSMemory()
		}
	case w != nil:
		w.WaitReadable(-1)
	case freeAfter > 0:
		// A socket read through Go's poller (a runner run in a test's
		// process): a timer runs while recv waits.
		t := time.AfterFunc(freeAfter, debug.FreeOSMemory)
		defer t.Stop()
	}
	return recv()
}

// errProtocol: the host sent what the protocol does not allow.
var errProtocol = errors.New("protocol error")

// argsOf is the guest arguments of an Assign frame.
func argsOf(m *wire.Msg) []string {
	argv := make([]string, len(m.Bufs))
	for i, b := range m.Bufs {
		argv[i] = string(b)
	}
	return argv
}

// A guest is one guest process on this runner: one instance of the
// module, from its start to its Exit report.
//
// Parked guests. A runner that stays for another process does not wait
// for the host to assign it one before it starts the next instance: as
// soon as its last process's Exit was answered, the instance is made
// (its memory, its data, its table: about 0.65 ms for a Go guest) and runs
// (the guest's runtime and package initialization: about 0.6 ms) while
// the host is busy with the start of the process it will serve, and
// waits for its assignment at the first thing it does that someone
// could see or that must be counted: a call to the host (the sandbox
// host module), output, a sleep, a memory (initial or grown) larger than
// parkedMemory, or its end. Nothing the guest does before it is assigned can be seen
// but the clock it read: it has no pid and no name until its first
// call, and its arguments are the run's, the same for every process (a
// different one is a protocol error). Its CPU time counts as the
// process's that takes it, as the CPU time of an idle runner always did
// (host/worker.go), and toward the run's CPU time while it is not taken
// (host/usage.go); its runner's CPU limit bounds it; a runner let go
// while its guest is parked is killed by the host, not waited for. Once
// parked, the guest says so (wire.KindParked) before it waits, so that the
// host gives the next start a runner whose guest is parked over one whose
// guest is still on its way (host/worker.go, takeIdle).
// Spares (host/spare.go) do not park: they have had no assignment, and
// their CPU time is not the run's until one comes.
type guest struct {
	mod     *Module
	conn    *wire.Conn
	control io.Reader
	caller  *remote
	argv    []string
	log     hclog.Logger // the runner's; then the process's, once assigned
	// freeAfter: how long a parked guest waits for its assignment before
	// the runner gives its free memory back to the OS (nextFrame).
	freeAfter time.Duration
	failed    func() // Config.Failed

	assigned time.Time // when its process was assigned
}

// parkedMemory is how large a parked guest's linear memory may be (its
// initial memory, or grown) before it waits for its assignment: a Go
// guest's runtime starts in about 3 MiB, and the memory of an idle
// runner is counted toward no limit of the run.
const parkedMemory = 32 << 20

// gcMemoryLimit is a compiled runner's soft limit of the Go runtime's
// memory (debug.SetMemoryLimit) with Config.GCPercent: at GOGC=400 alone
// a heap of 20 MiB live could reach 100 before a collection.
const gcMemoryLimit = 64 << 20

// take makes m, an Assign frame, the guest's process.
func (g *guest) take(m *wire.Msg) error {
	if m.Kind != wire.KindAssign || len(m.Bufs) == 0 {
		return fmt.Errorf("%w: expected an assignment, got a frame of kind %d", errProtocol, m.Kind)
	}
	if !slices.EqualFunc(m.Bufs, g.argv, func(b []byte, a string) bool { return string(b) == a }) {
		return fmt.Errorf("%w: the assignment's arguments %q are not the run's %q", errProtocol, argsOf(m), g.argv)
	}
	g.log = g.log.With("handle", m.AssignHandle())
	g.caller.direct = newDirect(g.caller, m.AssignHandle())
	g.assigned = time.Now()
	return nil
}

// run runs the guest to its end, its process assigned (assign) or to be
// assigned (nil: parked), reports how it ended, and returns its exit code
// and the host's reply to the report.
func (g *guest) run(ctx context.Context, assign *wire.Msg) (int, *wire.Msg, error) {
	caller := g.caller
	if assign != nil {
		if err := g.take(assign); err != nil {
			return 0, nil, err
		}
	} else {
		caller.pending = func() error {
			// The host, which reads nothing from an idle runner, finds
			// this frame waiting and knows the guest is parked.
			if caller.send(wire.Parked()) != nil {
				return errHostGone
			}
			m, ok := nextFrame(g.conn, g.control, caller.recv, g.freeAfter)
			if !ok {
				return errHostGone
			}
			err := g.take(m)
			if err != nil && g.failed != nil {
				// Not left to the guest, which may never look at what
				// failed (a sleep, output, growth) and run on unassigned.
				g.log.Error("protocol error", "error", err)
				g.failed()
			}
			return err
		}
	}
	stderr := &output{r: caller, stream: wire.Stderr}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(g.argv...).
		WithStdin(strings.NewReader("")).
		WithStdout(&output{r: caller, stream: wire.Stdout}).
		WithStderr(stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(func(ns int64) {
			if caller.ready() == nil {
				time.Sleep(time.Duration(ns))
			}
		}).
		WithRandSource(rand.Reader).
		WithStartFunctions("_start")

	mems := linearMemories{image: g.mod.image, later: true}
	defer mems.free()
	mems.onGrow = func(size uint64) bool {
		return size <= parkedMemory || caller.ready() == nil
	}
	// A guest that calls proc_exit is reported as it calls it (procExit),
	// before wazero unwinds it; one that returns from _start or traps,
	// once it has.
	var reported bool
	var reportErr error
	caller.exiting = func(code uint32) {
		if caller.ready() != nil {
			return // (returned below)
		}
		reportErr = g.report(int(code&0xff), nil, &mems)
		reported = true // (sent or not: the host is gone then)
	}
	defer func() { caller.exiting = nil }()
	inst, err := instantiate(withLinearMemory(ctx, &mems), g.mod, mc)
	if ierr := mems.imageErr.Load(); ierr != nil && err != nil {
		err = fmt.Errorf("cannot instantiate the module: its memory image: %w", *ierr)
	}
	if inst != nil {
		inst.Close(ctx) // (a guest that exited is closed already)
	}
	if rerr := caller.ready(); rerr != nil {
		return 0, nil, rerr
	}
	log := g.log
	code, trapped := outcome(err)
	log.Trace("guest ended", "ran", time.Since(g.assigned).String(), "exit_code", code, "reported_at_exit", reported)
	if !reported {
		var trap error
		if trapped {
			// Like the traceback of an uncaught exception: part of what the
			// process printed, not a log line of the sandbox.
			fmt.Fprintf(stderr, "%s\n", strings.TrimRight(err.Error(), "\n"))
			log.Debug("guest trapped", "error", err)
			trap = err
		}
		reportErr = g.report(code, trap, &mems)
	}
	if reportErr != nil {
		return code, nil, reportErr
	}
	// The report first, then the memory back to the OS while the host
	// deals with it (the process's end, its joiners), then the answer,
	// which may come only once the process's children have ended (atExit):
	// the memory is not kept that long.
	mems.free()
	reply, err := caller.answer()
	return code, reply, err
}

// report sends the host the Exit report of the guest's end: its exit
// code, the trap that ended it (nil: none), and the runner's usage so far.
// The process's pipe ends close with it (its records go with the report).
func (g *guest) report(code int, trap error, mems *linearMemories) error {
	caller := g.caller
	caller.direct.close()
	caller.direct = nil
	cpu, peak := selfUsage()
	exit := wire.Exit(code, trap != nil, cpu, peak, mems.limited.Load())
	if trap != nil {
		exit.Bufs = [][]byte{[]byte(trapLine(trap))}
	}
	if err := caller.send(exit); err != nil {
		return fmt.Errorf("send to host: %w", err)
	}
	return nil
}

// instantiateWASI instantiates wazero's WASI host module with its
// proc_exit replaced by r's (procExit).
func instantiateWASI(ctx context.Context, rt wazero.Runtime, r *remote) error {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(r.procExit), []api.ValueType{api.ValueTypeI32}, nil).
		WithParameterNames("rval").
		Export("proc_exit") // (in place of wazero's)
	_, err := b.Instantiate(ctx)
	return err
}

// procExit is WASI's proc_exit as wazero serves it (the module closed
// with the exit code, the guest's stack unwound by a sys.ExitError
// panic), but for r.exiting, called first with the code: the guest's end
// is reported to the host before the unwinding. The unwinding's first
// time in a runner took 0.4-0.9 ms for a Go guest (wazero describes
// every function of the module for a stack trace that an exit then
// drops), which the process's joiners waited for.
func (r *remote) procExit(ctx context.Context, mod api.Module, stack []uint64) {
	code := uint32(stack[0])
	if f := r.exiting; f != nil {
		r.exiting = nil // (once: a report is the process's last frame)
		f(code)
	}
	_ = mod.CloseWithExitCode(ctx, code)
	panic(sys.NewExitError(code))
}

// instantiate instantiates and runs the guest. wazero does not check
// that an allocator gave the initial linear memory: when the runner's
// memory limit refuses it, wazero panics, which is turned into an error
// (the guest ends as if trapped, and its Exit report says the runner's
// limit refused it memory).
func instantiate(ctx context.Context, mod *Module, mc wazero.ModuleConfig) (inst api.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			inst, err = nil, fmt.Errorf("cannot instantiate the module: %v", r)
		}
	}()
	if mod.image != nil && mod.image.file == nil {
		return nil, errors.New("cannot instantiate the module: its memory image was not kept open (LoadConfig.Shared)")
	}
	return mod.Runtime.InstantiateModule(ctx, mod.Compiled, mc)
}

// selfUsage is the CPU time and peak resident memory of this runner so
// far (the host counts each process's share as the difference).
func selfUsage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss << 10
}

// outcome turns the result of running _start into an exit code.
func outcome(err error) (code int, trapped bool) {
	if err == nil {
		return 0, false
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		// As an OS process's status: the low 8 bits (exit(-1) is 255).
		return int(exit.ExitCode() & 0xff), false
	}
	return 1, true
}

// remote is the hostfuncs.Caller of a runner: it forwards each call to the
// host and reads the reply. The guest makes one call at a time (a host
// call blocks the whole guest), so replies come back in order.
type remote struct {
	conn *wire.Conn
	recv func() (*wire.Msg, bool) // the next frame; false: the host is gone
	// direct serves the process's calls on direct pipes (nil: none, or
	// no process yet); records are its records not yet sent, which go
	// before the runner's next frame.
	direct  *direct
	records []byte
	// unsynced: output or a posted call went to the host since its last
	// answer (a direct pipe's send syncs first: wire.KindSync).
	unsynced bool
	// answers counts the host's answers: a frame sent before the n-th
	// was dealt with by the host once answers >= n.
	answers uint64
	// pending, while the guest is parked, waits for its assignment and
	// takes it; pendingErr is why that failed.
	pending    func() error
	pendingErr error
	// exiting, while a guest runs, reports its end when it calls
	// proc_exit (procExit).
	exiting func(code uint32)
}

// errHostGone: the control socket ended.
var errHostGone = errors.New("host is gone")

// ready returns once the guest's process is assigned (at once unless the
// guest is parked), or why it cannot be.
func (r *remote) ready() error {
	if f := r.pending; f != nil {
		r.pending = nil
		r.pendingErr = f()
	}
	return r.pendingErr
}

var _ hostfuncs.Shortcut = (*remote)(nil)

// Shortcut serves, with no message made, a call that the process's direct
// objects serve at once (direct.shortcut); served is false when Call is
// to serve it.
func (r *remote) Shortcut(op abi.Op, args hostfuncs.IntArgs) (result int64, e abi.Errno, served bool, err error) {
	if r.direct == nil || r.pending != nil || r.pendingErr != nil {
		return 0, abi.OK, false, nil
	}
	return r.direct.shortcut(op, &args)
}

func (r *remote) Call(ctx context.Context, req *wire.Msg) (*wire.Msg, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	if r.direct != nil {
		reply, ok, err := r.direct.serve(req)
		if err != nil {
			return nil, err
		}
		if ok {
			return reply, nil
		}
	}
	if req.Kind == wire.KindPost {
		// Sent, not answered: the host serves it before this process's
		// next frame, and the guest goes on now (abi.Spec.Posts).
		if err := r.send(req); err != nil {
			return nil, fmt.Errorf("send to host: %w", err)
		}
		return &posted, nil
	}
	return r.roundTrip(req)
}

// send sends m (nil: nothing) to the host after the records waiting to
// go: every frame of the runner goes through here, so the host gets a
// process's records in order with the rest of what it sends.
func (r *remote) send(m *wire.Msg) error {
	err := r.conn.SendAfter(r.records, m)
	r.records = r.records[:0]
	if m != nil && (m.Kind == wire.KindOutput || m.Kind == wire.KindPost) {
		r.unsynced = true
	}
	return err
}

// posted is the answer a posted call gets at once: OK, no results (a
// posting import has none). Never written to.
var posted = wire.Msg{Kind: wire.KindReply}

func (r *remote) roundTrip(req *wire.Msg) (*wire.Msg, error) {
	if err := r.send(req); err != nil {
		return nil, fmt.Errorf("send to host: %w", err)
	}
	return r.answer()
}

// answer reads the host's answer to the frame sent last.
func (r *remote) answer() (*wire.Msg, error) {
	m, ok := r.recv()
	if !ok {
		return nil, errHostGone
	}
	if m.Kind != wire.KindReply {
		return nil, fmt.Errorf("host sent frame kind %d, want a reply", m.Kind)
	}
	r.unsynced = false // the host has dealt with all that came before
	r.answers++
	return m, nil
}

// output is a guest stream: every write becomes one Output frame, sent
// before the write returns, so nothing written is lost when the runner is
// killed a moment later.
type output struct {
	r      *remote
	stream int
}

func (o *output) Write(p []byte) (int, error) {
	if err := o.r.ready(); err != nil {
		return 0, err
	}
	const chunk = 1 << 20
	for off := 0; off < len(p); off += chunk {
		end := min(off+chunk, len(p))
		if err := o.r.send(wire.Output(o.stream, p[off:end])); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// wazeroPrefix is what wazero puts before a trap's own message.
var wazeroPrefix = regexp.MustCompile(`^module\[[^\]]*\] function\[[^\]]*\] failed: `)

// trapLine is the first line of a trap's message, without wazero's
// prefix: "wasm error: unreachable".
func trapLine(err error) string {
	first, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return wazeroPrefix.ReplaceAllString(first, "")
}
