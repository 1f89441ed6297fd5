package mp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
)

// stderr is where Main reports failures (a variable for tests).
var stderr io.Writer = os.Stderr

// Main runs the program's role in the run. In MainProcess it calls body
// and returns when body returns. In any other process it calls the
// process's registered target (or the Run method of its registered class)
// and exits, without calling body, and never returns.
//
// Every process runs the program from its start, so everything before
// Main runs in every process: keep it to Register and RegisterClass.
//
// Failures end the process with exit code 1, Python's code for an uncaught
// exception, after a report on stderr as Python prints a traceback: a
// panic in body prints "panic: VALUE" and the stack; a panic or a non-nil
// error in a target or Run prints "Process NAME:" first. A call to os.Exit
// ends the process with its code, as sys.exit does in Python. A panic in
// another goroutine is not recovered: Go ends the process with code 2.
func Main(body func()) {
	if code, exit := run(body); exit {
		os.Exit(code)
	}
}

// run is Main without os.Exit: it returns the exit code and whether the
// process must exit now (false: MainProcess's body returned normally).
func run(body func()) (code int, exit bool) {
	target, err := readBuffer(64, host.procTarget)
	if err != nil {
		fmt.Fprintf(stderr, "mp: reading the target of this process: %v\n", err)
		return 1, true
	}
	if len(target) == 0 {
		if !call(nil, body) {
			return 1, true
		}
		return 0, false
	}
	args, err := readBuffer(256, host.procArgs)
	if err != nil {
		fmt.Fprintf(stderr, "mp: reading the arguments of this process: %v\n", err)
		return 1, true
	}
	fn, err := bootstrap(string(target), args)
	if err != nil {
		report(fmt.Sprintf("mp: %v\n", err))
		return 1, true
	}
	if !call(report, fn) {
		return 1, true
	}
	return 0, true
}

// bootstrap makes, from a child's target and arguments, the function that
// runs it, and binds the current process.
func bootstrap(target string, args []byte) (func(), error) {
	if key, ok := strings.CutPrefix(target, classPrefix); ok {
		return bootstrapClass(key, args)
	}
	switch target {
	case poolWorkerTarget:
		return bootstrapPoolWorker(args)
	case managerTarget:
		return nil, fmt.Errorf("a manager's placeholder process cannot run")
	}
	st.mu.Lock()
	fn, ok := st.funcs[target]
	st.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("target %s is not registered in this program: call mp.Register(%s) before mp.Main",
			target, shortName(target))
	}
	in, err := decodeArgs(target, fn.Type(), args)
	if err != nil {
		return nil, err
	}
	if body := direct(fn, in); body != nil {
		return body, nil
	}
	return func() {
		if err := resultError(fn.Call(in)); err != nil {
			panic(targetError{err})
		}
	}, nil
}

// direct returns the call of a target of the commonest signatures without
// reflect.Value.Call (nil for another): its first call in a process lays
// out the frame of the function's type, about 90 µs of each child's start.
func direct(fn reflect.Value, in []reflect.Value) func() {
	orPanic := func(err error) {
		if err != nil {
			panic(targetError{err})
		}
	}
	switch f := fn.Interface().(type) {
	case func():
		return f
	case func() error:
		return func() { orPanic(f()) }
	case func(int):
		n := int(in[0].Int())
		return func() { f(n) }
	case func(string):
		s := in[0].String()
		return func() { f(s) }
	}
	return nil
}

func bootstrapClass(key string, args []byte) (func(), error) {
	st.mu.Lock()
	t, ok := st.classes[key]
	st.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("class %s is not registered in this program: call mp.RegisterClass before mp.Main", key)
	}
	v := reflect.New(t)
	if err := json.Unmarshal(args, v.Interface()); err != nil {
		return nil, fmt.Errorf("decoding the fields of %s: %w", t.Name(), err)
	}
	c := v.Interface().(Class)
	p := c.process()
	p.class = t.Name()
	p.outer = c
	p.sent = args
	if err := st.bindCurrent(p); err != nil {
		return nil, err
	}
	return c.Run, nil
}

// decodeArgs decodes args, a JSON array, into the parameters of a
// function of type t.
func decodeArgs(target string, t reflect.Type, args []byte) ([]reflect.Value, error) {
	raw, err := splitArray(args) // (each element is checked as it is decoded)
	if string(trimSpace(args)) == "null" {
		raw, err = nil, nil // (as encoding/json decoded it: no arguments)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding the arguments of %s: %w", target, err)
	}
	if err := checkArgCount(target, t, len(raw)); err != nil {
		return nil, err
	}
	in := make([]reflect.Value, len(raw))
	for i, r := range raw {
		var pt reflect.Type
		if t.IsVariadic() && i >= t.NumIn()-1 {
			pt = t.In(t.NumIn() - 1).Elem()
		} else {
			pt = t.In(i)
		}
		v := reflect.New(pt)
		if err := unmarshal(r, v.Interface()); err != nil {
			return nil, fmt.Errorf("decoding argument %d of %s: %w", i+1, target, err)
		}
		in[i] = v.Elem()
	}
	return in, nil
}

// resultError returns the error a registered function returned: its last
// result when that is a non-nil error.
func resultError(out []reflect.Value) error {
	if len(out) == 0 {
		return nil
	}
	last := out[len(out)-1]
	if last.Type() != errorType || last.IsNil() {
		return nil
	}
	return last.Interface().(error)
}

// targetError is how a target's returned error travels to call's report.
type targetError struct{ err error }

// report writes msg to stderr under the "Process NAME:" header Python
// prints before the traceback of a child.
func report(msg string) {
	name := "?"
	if p, err := st.currentProcess(); err == nil {
		name = p.label()
	}
	fmt.Fprintf(stderr, "Process %s:\n%s", name, msg)
}

// call calls fn and reports whether it returned normally. A panic is
// recovered and printed, with the stack, by out (nil: straight to stderr).
func call(out func(msg string), fn func()) (ok bool) {
	if out == nil {
		out = func(msg string) { io.WriteString(stderr, msg) }
	}
	defer func() {
		if ok {
			return
		}
		r := recover()
		if te, isErr := r.(targetError); isErr {
			out(fmt.Sprintf("error: %v\n", te.err))
			return
		}
		out(fmt.Sprintf("panic: %s\n\n%s", panicValue(r), trimStack(debug.Stack())))
	}()
	fn()
	return true
}

// panicValue prints a recovered value as the Go runtime prints a panic's.
func panicValue(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	case string:
		return v
	default:
		return fmt.Sprintf("%#v", v)
	}
}

// trimStack drops the frames of debug.Stack and of call's deferred
// function from a goroutine dump, so that it starts at the panic as the
// Go runtime's own report does.
func trimStack(stack []byte) string {
	s := string(stack)
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	if i := strings.Index(rest, "\npanic("); i >= 0 {
		return first + rest[i:]
	}
	return s
}
