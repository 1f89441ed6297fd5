package mp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Process is a process of the run, as Python's multiprocessing.Process:
// create one with NewProcess (or embed it in your own type and call Init),
// then Start and Join it.
//
// A Process is a handle on a process the host keeps: its name, state, exit
// code and daemon flag are asked of the host each time, so every process
// sees the same values. The zero Process is not usable, and a Process must
// not be copied after creation.
//
// Methods that cannot return an error (Name, IsAlive, ExitCode, ...) panic
// if the host fails to answer, which means a broken run rather than a
// mistake of the program.
type Process struct {
	handle int32
	class  string // type name in the repr: Process, a Class's type name, _MainProcess, _ParentProcess
	outer  Class  // the value made a process by Init; nil for NewProcess
	sent   []byte // the arguments given to proc_new, when outer is set
}

// Option configures a new process (NewProcess, Init).
type Option func(*config)

type config struct {
	name      string
	daemon    bool
	daemonSet bool
	args      []any
	argsSet   bool
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Args sets the arguments the target is called with, as Python's args=...
// Each value is encoded as JSON in the parent and decoded into the type of
// the target's matching parameter in the child, so only what JSON carries
// arrives (exported struct fields, no channels or functions, numbers
// converted to the parameter's type).
func Args(values ...any) Option {
	return func(c *config) {
		c.args = values
		c.argsSet = true
	}
}

// Name sets the name of the process, as Python's name=... An empty name
// means the default one ("Process-N").
func Name(name string) Option {
	return func(c *config) { c.name = name }
}

// Daemon sets the daemon flag, as Python's daemon=... By default a new
// process is a daemon when the process creating it is one, as in CPython.
func Daemon(daemon bool) Option {
	return func(c *config) {
		c.daemon = daemon
		c.daemonSet = true
	}
}

// NewProcess creates a process that will call target with the arguments
// given by Args, as Python's Process(target=..., args=...). The process
// gets its handle and name now: default names (Process-1, Process-2, or
// Process-1:1 in a child) follow the order of creation, as in CPython.
//
// NewProcess panics if target was not registered with Register, if the
// number of arguments does not fit the target, or if an argument cannot
// be encoded as JSON.
func NewProcess(target any, opts ...Option) *Process {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Func || v.IsNil() {
		panic(fmt.Sprintf("mp: NewProcess: target %T is not a function", target))
	}
	name := funcName(v)
	st.mu.Lock()
	_, ok := st.funcs[name]
	st.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("mp: NewProcess: target %s is not registered: call mp.Register(%s) before mp.Main",
			name, shortName(name)))
	}
	cfg := newConfig(opts)
	if err := checkArgCount(name, v.Type(), len(cfg.args)); err != nil {
		panic("mp: NewProcess: " + err.Error())
	}
	if cfg.args == nil {
		cfg.args = []any{}
	}
	args, err := marshalArray(cfg.args)
	if err != nil {
		panic(fmt.Sprintf("mp: NewProcess: encoding the arguments of %s: %v", name, err))
	}
	p := &Process{class: "Process"}
	p.create(name, args, "", cfg)
	return p
}

// checkArgCount reports whether n arguments fit a function of type t.
func checkArgCount(name string, t reflect.Type, n int) error {
	want := t.NumIn()
	if t.IsVariadic() {
		if n < want-1 {
			return fmt.Errorf("%s takes at least %s (%d given)", name, plural(want-1, "argument"), n)
		}
		return nil
	}
	if n != want {
		return fmt.Errorf("%s takes %s (%d given)", name, plural(want, "argument"), n)
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// create calls proc_new and records p.
func (p *Process) create(target string, args []byte, class string, cfg config) {
	daemon := cfg.daemon
	if !cfg.daemonSet {
		cur, err := st.currentProcess()
		if err != nil {
			panic("mp: creating a process: " + err.Error())
		}
		daemon = cur.Daemon()
	}
	var h int32
	if err := host.procNew(target, args, cfg.name, class, daemon, &h).err(); err != nil {
		panic(fmt.Sprintf("mp: creating a process for %s: %v", target, err))
	}
	p.handle = h
	st.remember(p)
}

// mustHandle returns p's handle, panicking on a Process that was never
// created.
func (p *Process) mustHandle() int32 {
	if p == nil || p.handle == 0 {
		panic("mp: use of a Process that was not created with mp.NewProcess or mp.Init")
	}
	return p.handle
}

// info reads p's proc_info record.
func (p *Process) info() (procInfo, error) {
	var rec [infoSize]byte
	if err := host.procInfo(p.mustHandle(), &rec).err(); err != nil {
		return procInfo{}, err
	}
	return decodeInfo(&rec), nil
}

func (p *Process) mustInfo(op string) procInfo {
	i, err := p.info()
	if err != nil {
		panic(fmt.Sprintf("mp: %s: %v", op, err))
	}
	return i
}

// label names p in error messages without failing.
func (p *Process) label() string {
	if name, err := p.name(); err == nil {
		return name
	}
	return fmt.Sprintf("(handle %d)", p.handle)
}

// Handle returns the host's handle of the process, valid in every process
// of the run.
func (p *Process) Handle() int32 { return p.mustHandle() }

// Start starts the process: a new OS process runs the program, which calls
// the target (or Run) instead of Main's body. As in CPython, a process can
// be started once, only by the process that created it, and not by a
// daemon. The error wraps ErrState, ErrPermission, ErrLimit (the run's
// process limit) or ErrHost.
func (p *Process) Start() error {
	h := p.mustHandle()
	if p.outer != nil {
		// CPython pickles the process object at start: send the fields as
		// they are now if they changed since Init.
		args, err := json.Marshal(p.outer)
		if err != nil {
			return fmt.Errorf("mp: start %s: encoding its fields: %w", p.label(), err)
		}
		if !bytes.Equal(args, p.sent) {
			if e := host.procSetArgs(h, args); e != errnoOK && e != errnoState {
				return opError(e, "start", p.label(), nil)
			}
			p.sent = args
		}
	}
	e := host.procStart(h)
	msgs := map[errno]string{errnoState: "cannot start a process twice"}
	if e == errnoPerm {
		msgs[errnoPerm] = "can only start a process object created by current process"
		if cur, err := st.currentProcess(); err == nil && cur.Daemon() {
			msgs[errnoPerm] = "daemonic processes are not allowed to have children"
		}
	}
	return opError(e, "start", p.label(), msgs)
}

// Join waits until the process has stopped and all it printed has been
// written out. The error wraps ErrPermission ("can only join a child
// process") or ErrState ("can only join a started process").
func (p *Process) Join() error {
	_, err := p.join(-1)
	return err
}

// JoinTimeout is Python's join(timeout): it waits at most d for the
// process to stop. A timeout is not an error, as in Python: stopped tells
// whether the process has stopped (Python's programs ask exitcode or
// is_alive() instead). A d of 0 or less does not wait.
func (p *Process) JoinTimeout(d time.Duration) (stopped bool, err error) {
	return p.join(max(int64(d), 0))
}

func (p *Process) join(timeoutNs int64) (bool, error) {
	switch e := host.procJoin(p.mustHandle(), timeoutNs); e {
	case errnoOK:
		return true, nil
	case errnoTimedOut:
		return false, nil
	default:
		return false, opError(e, "join", p.label(), map[errno]string{
			errnoPerm:  "can only join a child process",
			errnoState: "can only join a started process",
		})
	}
}

// Terminate ends the process with SIGTERM (its exit code becomes -15). A
// process that has already stopped is left alone, without error. The
// error wraps ErrPermission (not a child) or ErrState (never started).
func (p *Process) Terminate() error {
	return p.signal("terminate", host.procTerminate)
}

// Kill ends the process with SIGKILL (its exit code becomes -9), as
// Terminate otherwise.
func (p *Process) Kill() error {
	return p.signal("kill", host.procKill)
}

func (p *Process) signal(op string, call func(int32) errno) error {
	return opError(call(p.mustHandle()), op, p.label(), map[errno]string{
		errnoPerm:  "can only " + op + " a child process",
		errnoState: "can only " + op + " a started process",
	})
}

// IsAlive reports whether the process has started and not yet stopped.
// It is true for the current process.
func (p *Process) IsAlive() bool {
	if self, _, err := st.ids(); err == nil && self == p.mustHandle() {
		return true
	}
	return p.mustInfo("is_alive").state == stateStarted
}

// ExitCode is Python's exitcode: ok is false (Python's None) while the
// process has not stopped; otherwise code is its exit code: what it passed
// to os.Exit, 0 when its target returned, 1 when it panicked, returned an
// error or trapped, -N when it was ended by signal N (-15 after Terminate,
// -9 after Kill).
func (p *Process) ExitCode() (code int, ok bool) {
	i := p.mustInfo("exitcode")
	if i.state != stateStopped {
		return 0, false
	}
	return int(i.exitCode), true
}

// Pid returns the OS pid of the process (of its runner), 0 before it was
// started (Python's None).
func (p *Process) Pid() int {
	return int(p.mustInfo("pid").pid)
}

// Ident is Pid, as Python's ident.
func (p *Process) Ident() int { return p.Pid() }

// PPid returns the OS pid of the process that created this one, 0 for
// MainProcess. (Python shows it only in the repr, as parent=...)
func (p *Process) PPid() int {
	i := p.mustInfo("parent pid")
	if i.creator == 0 {
		return 0
	}
	return int(i.ppid)
}

// Name returns the name of the process.
func (p *Process) Name() string {
	name, err := p.name()
	if err != nil {
		panic("mp: name: " + err.Error())
	}
	return name
}

func (p *Process) name() (string, error) {
	h := p.mustHandle()
	b, err := readBuffer(64, func(buf []byte, size *uint32) errno {
		return host.procName(h, buf, size)
	})
	return string(b), err
}

// SetName renames the process. A process may rename itself and the
// processes it created. Unlike Python, the name may not be empty
// (ErrInvalid), and the new name is seen by every process of the run.
func (p *Process) SetName(name string) error {
	return opError(host.procSetName(p.mustHandle(), name), "set name of", p.label(), map[errno]string{
		errnoInvalid: "name must be a non-empty string",
		errnoPerm:    "can only rename the current process or a child process",
	})
}

// Daemon reports whether the process is a daemon: daemons are terminated,
// not joined, when the process that created them ends, and may not start
// children.
func (p *Process) Daemon() bool {
	return p.mustInfo("daemon").daemon()
}

// SetDaemon sets the daemon flag before the process is started. The error
// wraps ErrState ("process has already started") or ErrPermission.
func (p *Process) SetDaemon(daemon bool) error {
	return opError(host.procSetDaemon(p.mustHandle(), daemon), "set daemon flag of", p.label(), map[errno]string{
		errnoState: "process has already started",
		errnoPerm:  "can only set the daemon flag of a child process",
	})
}

// CurrentProcess returns the Process of the calling process, as Python's
// current_process(). In a process made from a Class it is the Process
// embedded in the value whose Run method is running.
//
// It panics outside the sandbox.
func CurrentProcess() *Process {
	p, err := st.currentProcess()
	if err != nil {
		panic("mp: current process: " + err.Error())
	}
	return p
}

// ParentProcess returns the Process that created the calling process, or
// nil in MainProcess, as Python's parent_process(). Only its identity (name,
// pid, daemon, liveness) is of use: it is not a child, so it cannot be
// started, joined or ended from here.
//
// It panics outside the sandbox.
func ParentProcess() *Process {
	_, parent, err := st.ids()
	if err != nil {
		panic("mp: parent process: " + err.Error())
	}
	if parent == 0 {
		return nil
	}
	return st.object(parent, parentClass)
}

// ActiveChildren returns the children of the calling process that were
// started and are still alive, as Python's active_children(). They are the
// values NewProcess and Init made.
//
// It panics outside the sandbox.
func ActiveChildren() []*Process {
	hs, err := readBuffer(16, host.procChildren)
	if err != nil {
		panic("mp: active children: " + err.Error())
	}
	children := make([]*Process, len(hs))
	for i, h := range hs {
		children[i] = st.object(h, "Process")
	}
	return children
}
