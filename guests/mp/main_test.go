//go:build !wasip1

package mp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// startChild creates and starts a process for target in the fake host and
// makes the test that process's runner.
func startChild(t *testing.T, f *fakeHost, target any, opts ...Option) *Process {
	t.Helper()
	p := NewProcess(target, opts...)
	mustOK(t, p.Start())
	f.becomeChild(t, p.Handle())
	return p
}

func captureStderr(t *testing.T) *strings.Builder {
	t.Helper()
	var b strings.Builder
	stderr = &b
	return &b
}

func TestRunMain(t *testing.T) {
	useFake(t)
	out := captureStderr(t)
	called := false
	code, exit := run(func() { called = true })
	if !called || code != 0 || exit {
		t.Errorf("run = %d, %v, called %v; want 0, false, true", code, exit, called)
	}
	if out.Len() != 0 {
		t.Errorf("stderr %q", out)
	}
}

func TestRunMainPanic(t *testing.T) {
	useFake(t)
	out := captureStderr(t)
	code, exit := run(func() { panic(errors.New("boom")) })
	if code != 1 || !exit {
		t.Errorf("run = %d, %v; want 1, true", code, exit)
	}
	// Python prints no "Process MainProcess:" header for the main program.
	if !strings.HasPrefix(out.String(), "panic: boom\n\ngoroutine ") {
		t.Errorf("stderr does not start with the panic: %q", out)
	}
	if !strings.Contains(out.String(), "\npanic(") || !strings.Contains(out.String(), "TestRunMainPanic") {
		t.Errorf("stderr lacks the stack from the panic: %q", out)
	}
	if strings.Contains(out.String(), "runtime/debug.Stack") {
		t.Errorf("stderr shows the SDK's own frames: %q", out)
	}
}

func TestRunChildArgs(t *testing.T) {
	f := useFake(t)
	Register(recordArgs)
	startChild(t, f, recordArgs, Args(7, "s", point{1, 2, "o"}, []int{3, 4}, "x", "y"))
	gotArgs = nil
	code, exit := run(func() { t.Error("body ran in a child") })
	if code != 0 || !exit {
		t.Errorf("run = %d, %v; want 0, true", code, exit)
	}
	want := []any{7, "s", point{1, 2, "o"}, []int{3, 4}, []string{"x", "y"}}
	if !reflect.DeepEqual(gotArgs, want) {
		t.Errorf("target got %#v, want %#v", gotArgs, want)
	}
}

func TestRunChildFailures(t *testing.T) {
	tests := []struct {
		name   string
		target any
		args   []any
		want   string // prefix of stderr
	}{
		{"panic", panicking, []any{"boom"}, "Process Process-1:\npanic: boom\n\ngoroutine "},
		{"error", failing, []any{"bad thing"}, "Process Process-1:\nerror: bad thing\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := useFake(t)
			Register(tt.target)
			out := captureStderr(t)
			startChild(t, f, tt.target, Args(tt.args...))
			code, exit := run(nil)
			if code != 1 || !exit {
				t.Errorf("run = %d, %v; want 1, true", code, exit)
			}
			if !strings.HasPrefix(out.String(), tt.want) {
				t.Errorf("stderr %q\nwant prefix %q", out, tt.want)
			}
		})
	}
}

func TestRunChildNilError(t *testing.T) {
	f := useFake(t)
	Register(failing)
	startChild(t, f, failing, Args(""))
	if code, exit := run(nil); code != 0 || !exit {
		t.Errorf("run = %d, %v; want 0, true", code, exit)
	}
}

func TestRunChildBadArgs(t *testing.T) {
	f := useFake(t)
	Register(recordArgs)
	out := captureStderr(t)
	p := startChild(t, f, recordArgs, Args(7, "s", point{}, []int{}))
	f.get(p.Handle()).args = []byte(`["seven","s",{},[]]`)
	if code, _ := run(nil); code != 1 {
		t.Errorf("code %d, want 1", code)
	}
	if want := "Process Process-1:\nmp: decoding argument 1 of"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("stderr %q, want prefix %q", out, want)
	}
}

func TestRunChildUnregistered(t *testing.T) {
	f := useFake(t)
	Register(noop)
	out := captureStderr(t)
	startChild(t, f, noop)
	st.funcs = map[string]reflect.Value{} // a program that does not register it
	if code, _ := run(nil); code != 1 {
		t.Errorf("code %d, want 1", code)
	}
	if !strings.Contains(out.String(), "is not registered in this program") {
		t.Errorf("stderr %q", out)
	}
}

func TestRunChildClass(t *testing.T) {
	f := useFake(t)
	RegisterClass(&worker{})
	w := &worker{Jobs: []string{"a"}, Count: 1}
	Init(w)
	mustOK(t, w.Start())
	f.becomeChild(t, w.Handle())
	ranWorker = nil
	if code, exit := run(nil); code != 0 || !exit {
		t.Errorf("run = %d, %v; want 0, true", code, exit)
	}
	if ranWorker == nil || ranWorker == w {
		t.Fatalf("Run was not called on a fresh value (got %p, parent's %p)", ranWorker, w)
	}
	if !reflect.DeepEqual(ranWorker.Jobs, []string{"a"}) || ranWorker.Count != 1 {
		t.Errorf("fields %+v", ranWorker)
	}
	if CurrentProcess() != &ranWorker.Process {
		t.Error("CurrentProcess is not the embedded Process of the running value")
	}
	if got, want := ranWorker.String(), "<worker name='worker-1' parent=100 started>"; got != want {
		t.Errorf("repr %s, want %s", got, want)
	}
}

func TestCallStack(t *testing.T) {
	useFake(t)
	var got string
	ok := call(func(msg string) { got = msg }, func() { var m map[string]int; m["x"] = 1 })
	if ok {
		t.Fatal("call reported success")
	}
	if !strings.HasPrefix(got, "panic: assignment to entry in nil map\n\ngoroutine ") {
		t.Errorf("report %q", got)
	}
}

// TestDirect: a target of the commonest signatures is called without
// reflect.Value.Call, with its argument, its error panicking as the
// reflective call's does; another signature is left to reflection.
func TestDirect(t *testing.T) {
	var got []any
	boom := errors.New("boom")
	tests := []struct {
		fn      any
		args    []any
		want    []any
		wantErr error
	}{
		{func() { got = append(got, "called") }, nil, []any{"called"}, nil},
		{func() error { got = append(got, "e"); return nil }, nil, []any{"e"}, nil},
		{func() error { return boom }, nil, nil, boom},
		{func(n int) { got = append(got, n) }, []any{7}, []any{7}, nil},
		{func(s string) { got = append(got, s) }, []any{"x"}, []any{"x"}, nil},
	}
	for i, tt := range tests {
		got = nil
		in := make([]reflect.Value, len(tt.args))
		for j, a := range tt.args {
			in[j] = reflect.ValueOf(a)
		}
		body := direct(reflect.ValueOf(tt.fn), in)
		if body == nil {
			t.Errorf("%d: %T not called directly", i, tt.fn)
			continue
		}
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					te, ok := r.(targetError)
					if !ok {
						panic(r)
					}
					err = te.err
				}
			}()
			body()
		}()
		if !reflect.DeepEqual(got, tt.want) || err != tt.wantErr {
			t.Errorf("%d: %T called: %v, %v; want %v, %v", i, tt.fn, got, err, tt.want, tt.wantErr)
		}
	}
	if direct(reflect.ValueOf(func(int, int) {}), nil) != nil || direct(reflect.ValueOf(func(...int) {}), nil) != nil {
		t.Error("another signature called directly")
	}
}
