//go:build !wasip1

package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Targets used by the tests.

func noop() {}

func sleepy(d time.Duration) { time.Sleep(d) }

type point struct {
	X, Y  int
	Label string
}

var gotArgs []any

func recordArgs(i int, s string, p point, xs []int, rest ...string) {
	gotArgs = []any{i, s, p, xs, rest}
}

func failing(msg string) error {
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}

func panicking(msg string) { panic(msg) }

type worker struct {
	Process
	Jobs  []string
	Count int
}

var ranWorker *worker

func (w *worker) Run() { ranWorker = w }

type pointerEmbed struct {
	*Process
}

func (*pointerEmbed) Run() {}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// mustPanic returns the message of the panic fn raises.
func mustPanic(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	fn()
	return ""
}

func TestNames(t *testing.T) {
	f := useFake(t)
	Register(noop)
	RegisterClass(&worker{})

	if got := CurrentProcess().Name(); got != "MainProcess" {
		t.Errorf("current name %q, want MainProcess", got)
	}
	p1 := NewProcess(noop)
	p2 := NewProcess(noop)
	w := &worker{Count: 2}
	Init(w)
	named := NewProcess(noop, Name("custom"))
	p5 := NewProcess(noop, Name(""))
	for p, want := range map[*Process]string{
		p1: "Process-1", p2: "Process-2", &w.Process: "worker-3", named: "custom", p5: "Process-5",
	} {
		if got := p.Name(); got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
	if got := w.Name(); got != "worker-3" {
		t.Errorf("promoted Name() = %q, want worker-3", got)
	}
	mustOK(t, p2.SetName("renamed"))
	if got := p2.Name(); got != "renamed" {
		t.Errorf("after SetName: %q", got)
	}
	if err := p2.SetName(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetName(\"\") = %v, want ErrInvalid", err)
	}
	long := strings.Repeat("n", 1000) // longer than the first buffer
	mustOK(t, p1.SetName(long))
	if got := p1.Name(); got != long {
		t.Errorf("long name came back with %d bytes", len(got))
	}

	// In worker-3's runner: its children are worker-3's identity plus a count.
	f.becomeChild(t, w.Handle())
	if got := NewProcess(noop).Name(); got != "Process-3:1" {
		t.Errorf("grandchild name %q, want Process-3:1", got)
	}
	if got := NewProcess(noop).Name(); got != "Process-3:2" {
		t.Errorf("grandchild name %q, want Process-3:2", got)
	}
}

func TestProcessLifecycle(t *testing.T) {
	useFake(t)
	Register(sleepy)
	p := NewProcess(sleepy, Args(time.Minute))
	if p.IsAlive() || p.Pid() != 0 {
		t.Errorf("initial: alive %v pid %d", p.IsAlive(), p.Pid())
	}
	if _, ok := p.ExitCode(); ok {
		t.Error("initial: exit code is not None")
	}
	if err := p.Join(); !errors.Is(err, ErrState) || err.Error() != "can only join a started process" {
		t.Errorf("Join before start: %v", err)
	}
	if err := p.Terminate(); !errors.Is(err, ErrState) {
		t.Errorf("Terminate before start: %v", err)
	}
	mustOK(t, p.Start())
	if err := p.Start(); !errors.Is(err, ErrState) || err.Error() != "cannot start a process twice" {
		t.Errorf("second Start: %v", err)
	}
	if err := p.SetDaemon(true); !errors.Is(err, ErrState) || err.Error() != "process has already started" {
		t.Errorf("SetDaemon after start: %v", err)
	}
	if !p.IsAlive() || p.Pid() != 101 || p.Ident() != 101 || p.PPid() != 100 {
		t.Errorf("started: alive %v pid %d ident %d ppid %d", p.IsAlive(), p.Pid(), p.Ident(), p.PPid())
	}
	if got := ActiveChildren(); len(got) != 1 || got[0] != p {
		t.Errorf("ActiveChildren = %v, want [p] (the same value)", got)
	}
	stopped, err := p.JoinTimeout(100 * time.Millisecond)
	if stopped || err != nil {
		t.Errorf("JoinTimeout = %v, %v; want false, nil", stopped, err)
	}
	mustOK(t, p.Terminate())
	stopped, err = p.JoinTimeout(-time.Second)
	if !stopped || err != nil {
		t.Errorf("JoinTimeout after Terminate = %v, %v; want true, nil", stopped, err)
	}
	if code, ok := p.ExitCode(); !ok || code != -15 {
		t.Errorf("ExitCode = %d, %v; want -15, true", code, ok)
	}
	mustOK(t, p.Kill()) // a stopped process is left alone
	if code, _ := p.ExitCode(); code != -15 {
		t.Errorf("ExitCode after Kill of a stopped process = %d", code)
	}
	if p.IsAlive() || len(ActiveChildren()) != 0 {
		t.Error("still alive after Terminate")
	}
	if !CurrentProcess().IsAlive() || CurrentProcess().PPid() != 0 || ParentProcess() != nil {
		t.Error("MainProcess: want alive, PPid 0, no parent")
	}
	if err := CurrentProcess().Join(); !errors.Is(err, ErrPermission) || err.Error() != "can only join a child process" {
		t.Errorf("joining self: %v", err)
	}
}

func TestJoinTimeoutClampsNegative(t *testing.T) {
	f := useFake(t)
	Register(noop)
	p := NewProcess(noop)
	mustOK(t, p.Start())
	f.calls = nil
	p.JoinTimeout(-time.Second)
	p.Join()
	want := []string{fmt.Sprintf("proc_join %d 0", p.Handle()), fmt.Sprintf("proc_join %d -1", p.Handle())}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

func TestDaemon(t *testing.T) {
	f := useFake(t)
	Register(noop)
	d := NewProcess(noop, Daemon(true))
	if !d.Daemon() {
		t.Fatal("Daemon(true) not set")
	}
	mustOK(t, d.SetDaemon(false))
	mustOK(t, d.SetDaemon(true))
	mustOK(t, d.Start())

	// In the daemon: children inherit the flag, as in CPython, and cannot start.
	f.becomeChild(t, d.Handle())
	if !CurrentProcess().Daemon() {
		t.Error("current process is not a daemon")
	}
	c := NewProcess(noop)
	if !c.Daemon() {
		t.Error("child of a daemon is not a daemon by default")
	}
	err := c.Start()
	if !errors.Is(err, ErrPermission) || err.Error() != "daemonic processes are not allowed to have children" {
		t.Errorf("Start in a daemon: %v", err)
	}
	if NewProcess(noop, Daemon(false)).Daemon() {
		t.Error("Daemon(false) ignored")
	}
}

func TestNotCreator(t *testing.T) {
	f := useFake(t)
	Register(noop)
	a := NewProcess(noop)
	b := NewProcess(noop)
	mustOK(t, a.Start())
	f.becomeChild(t, a.Handle())
	other := st.object(b.Handle(), "Process")
	if err := other.Start(); !errors.Is(err, ErrPermission) ||
		err.Error() != "can only start a process object created by current process" {
		t.Errorf("Start of a sibling: %v", err)
	}
	parent := ParentProcess()
	for _, tc := range []struct {
		op   string
		err  error
		want string
	}{
		{"join", parent.Join(), "can only join a child process"},
		{"terminate", parent.Terminate(), "can only terminate a child process"},
		{"kill", parent.Kill(), "can only kill a child process"},
	} {
		if !errors.Is(tc.err, ErrPermission) || tc.err.Error() != tc.want {
			t.Errorf("%s of the parent: %v, want %q", tc.op, tc.err, tc.want)
		}
	}
	if parent.Name() != "MainProcess" || parent.Pid() != 100 || parent.PPid() != 0 {
		t.Errorf("parent: name %s pid %d ppid %d", parent.Name(), parent.Pid(), parent.PPid())
	}
}

func TestNewProcessPanics(t *testing.T) {
	useFake(t)
	Register(recordArgs)
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"unregistered", func() { NewProcess(noop) }, "mp.Register(noop) before mp.Main"},
		{"not a func", func() { NewProcess(42) }, "not a function"},
		{"too few", func() { NewProcess(recordArgs, Args(1)) }, "takes at least 4 arguments (1 given)"},
		{"bad arg", func() { NewProcess(recordArgs, Args(1, "s", point{}, []int{}, make(chan int))) }, "json"},
		{"args to Init", func() { RegisterClass(&worker{}); Init(&worker{}, Args(1)) }, "takes no mp.Args"},
		{"unregistered class", func() { Init(&pointerEmbed{Process: &Process{}}) }, "mp.RegisterClass(&pointerEmbed{})"},
		{"init twice", func() { w := &worker{}; Init(w); Init(w) }, "already initialized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := mustPanic(t, tt.fn); !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q does not mention %q", msg, tt.want)
			}
		})
	}
}

func TestRegisterPanics(t *testing.T) {
	useFake(t)
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"not a func", func() { Register("x") }, "not a function"},
		{"nil func", func() { Register((func())(nil)) }, "not a function"},
		{"two results", func() { Register(func() (int, int) { return 0, 0 }) }, "must return nothing, an error, a value"},
		{"three results", func() { Register(func() (int, int, error) { return 0, 0, nil }) }, "must return nothing, an error, a value"},
		{"chan result", func() { Register(func() chan int { return nil }) }, "JSON cannot carry"},
		{"chan param", func() { Register(func(chan int) {}) }, "parameter 1"},
		{"variadic func param", func() { Register(func(int, ...func()) {}) }, "parameter 2"},
		{"pointer embed", func() { RegisterClass(&pointerEmbed{}) }, "must embed mp.Process, not *mp.Process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := mustPanic(t, tt.fn); !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q does not mention %q", msg, tt.want)
			}
		})
	}
}

func TestClassArgs(t *testing.T) {
	f := useFake(t)
	RegisterClass(&worker{})
	w := &worker{Jobs: []string{"a", "b"}, Count: 2}
	Init(w, Name("w"), Daemon(true))
	fp := f.get(w.Handle())
	if fp.target != "class:github.com/sandbox-dev/sandbox/guests/mp.worker" || fp.class != "worker" ||
		string(fp.args) != `{"Jobs":["a","b"],"Count":2}` || fp.name != "w" || !fp.daemon {
		t.Errorf("proc_new got target %q class %q args %s name %q daemon %v", fp.target, fp.class, fp.args, fp.name, fp.daemon)
	}
	if got := w.String(); got != "<worker name='w' parent=100 initial daemon>" {
		t.Errorf("repr %s", got)
	}
	// Fields set after Init (as Python sets them after __init__) are sent
	// at Start with proc_set_args.
	w.Count = 3
	f.calls = nil
	mustOK(t, w.Start())
	if got, want := string(fp.args), `{"Jobs":["a","b"],"Count":3}`; got != want {
		t.Errorf("args at start %s, want %s", got, want)
	}
	if len(f.calls) != 2 || !strings.HasPrefix(f.calls[0], "proc_set_args") {
		t.Errorf("calls %q, want proc_set_args then proc_start", f.calls)
	}
	if got := ActiveChildren(); len(got) != 1 || got[0] != &w.Process {
		t.Errorf("ActiveChildren = %v, want the embedded Process", got)
	}
	// Unchanged fields are not sent again.
	w2 := &worker{Count: 1}
	Init(w2)
	f.calls = nil
	mustOK(t, w2.Start())
	if len(f.calls) != 1 {
		t.Errorf("calls %q, want proc_start alone", f.calls)
	}
}

func TestArgsEncoding(t *testing.T) {
	f := useFake(t)
	Register(recordArgs, noop)
	p := NewProcess(recordArgs, Args(7, "s", point{1, 2, "o"}, []int{3}, "x", "y"))
	if got, want := string(f.get(p.Handle()).args), `[7,"s",{"X":1,"Y":2,"Label":"o"},[3],"x","y"]`; got != want {
		t.Errorf("args %s, want %s", got, want)
	}
	q := NewProcess(noop)
	if got := string(f.get(q.Handle()).args); got != "[]" {
		t.Errorf("no args encoded as %s, want []", got)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(f.get(q.Handle()).args, &raw); err != nil {
		t.Error(err)
	}
}
