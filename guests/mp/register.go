package mp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
)

// classPrefix starts the target of a process made by Init: the rest is the
// key of a registered class. No Go function's runtime name can start with
// it, since import paths may not contain a colon.
const classPrefix = "class:"

var errorType = reflect.TypeFor[error]()

// Register registers functions as process targets. Every process runs the
// same program from its start, so a child finds its target by name in the
// registry: call Register with every function you pass to NewProcess,
// before Main, unconditionally (not inside the body given to Main).
//
// Register also registers the functions a Pool calls (Map, Apply, ...)
// and the action of a Barrier.
//
// A function may take any parameters that encoding/json can decode (a
// variadic last parameter takes the remaining arguments) and may return
// nothing, an error, a value, or a value and an error. A process target's
// value is ignored, as Python ignores what run() returns; a Pool function's
// value is its result. A non-nil error is the target's failure (the
// process ends with exit code 1) or the Pool function's (the caller gets
// it). Top-level functions are the safe choice: a closure is found by its
// compiler-given name and does not carry what it captured to the child.
//
// Register panics if fn is not such a function.
func Register(fns ...any) {
	for _, fn := range fns {
		v := reflect.ValueOf(fn)
		if v.Kind() != reflect.Func || v.IsNil() {
			panic(fmt.Sprintf("mp: Register: %T is not a function", fn))
		}
		name := funcName(v)
		if err := checkTarget(name, v.Type()); err != nil {
			panic("mp: Register: " + err.Error())
		}
		st.mu.Lock()
		st.funcs[name] = v
		st.mu.Unlock()
	}
}

// funcName is the runtime name of the function v, such as "main.worker".
func funcName(v reflect.Value) string {
	if f := runtime.FuncForPC(v.Pointer()); f != nil {
		return f.Name()
	}
	return fmt.Sprintf("func@%#x", v.Pointer())
}

// shortName drops the package path of a runtime name: "main.worker" gives
// "worker", "example.com/x.f" gives "f".
func shortName(name string) string {
	name = name[strings.LastIndexByte(name, '/')+1:]
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// checkTarget reports why a function of type t cannot be a target.
func checkTarget(name string, t reflect.Type) error {
	switch {
	case t.NumOut() > 2, t.NumOut() == 2 && t.Out(1) != errorType:
		return fmt.Errorf("function %s must return nothing, an error, a value, or a value and an error, not %s",
			name, t.String())
	case t.NumOut() >= 1 && t.Out(0) != errorType && !jsonCarries(t.Out(0)):
		return fmt.Errorf("the result of function %s has type %s, which JSON cannot carry", name, t.Out(0))
	}
	for i := range t.NumIn() {
		in := t.In(i)
		if i == t.NumIn()-1 && t.IsVariadic() {
			in = in.Elem()
		}
		if !jsonCarries(in) {
			return fmt.Errorf("parameter %d of function %s has type %s, which JSON cannot carry", i+1, name, in)
		}
	}
	return nil
}

// jsonCarries is a shallow test of whether values of type t survive a
// round trip through encoding/json.
func jsonCarries(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return jsonCarries(t.Elem())
	}
	return true
}

// Class is implemented by a pointer to a struct type that embeds Process
// and has a Run method: Python's subclass of multiprocessing.Process.
//
//	type Worker struct {
//		mp.Process
//		Jobs []string // exported fields are the process's arguments
//	}
//
//	func (w *Worker) Run() { ... }
//
// Register the type with RegisterClass, make each value a process with
// Init, then use the methods of Process it embeds (Start, Join, ...). In
// the child, a fresh value is decoded from the exported fields as they
// were at Start and its Run method is called.
type Class interface {
	// Run is the body of the process, as Python's Process.run.
	Run()
	// process returns the embedded Process: only a type that embeds
	// Process has it.
	process() *Process
}

// process returns p itself; it is promoted to every type that embeds
// Process and so marks those types as a Class.
func (p *Process) process() *Process { return p }

// RegisterClass registers the types of the given values (pointers to
// structs embedding Process, such as &Worker{}) as process classes, by
// their type name. Like Register, call it before Main, unconditionally.
//
// RegisterClass panics if the struct embeds *Process rather than Process,
// or is not a named struct type.
func RegisterClass(classes ...Class) {
	for _, c := range classes {
		t := reflect.TypeOf(c)
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().Name() == "" {
			panic(fmt.Sprintf("mp: RegisterClass: %s is not a pointer to a named struct type", t))
		}
		if reflect.New(t.Elem()).Interface().(Class).process() == nil {
			panic(fmt.Sprintf("mp: RegisterClass: %s must embed mp.Process, not *mp.Process", t.Elem()))
		}
		st.mu.Lock()
		st.classes[classKey(t.Elem())] = t.Elem()
		st.mu.Unlock()
	}
}

// classKey is the registry key of the struct type t, such as
// "main.Worker".
func classKey(t reflect.Type) string {
	return t.PkgPath() + "." + t.Name()
}

// Init makes c a new process, as Python's Process.__init__ in a subclass:
// the process gets a handle and a name now, in construction order (the
// default name is the type's name and a number, such as "Worker-3"), and
// starts when c.Start is called. Only the Name and Daemon options apply.
//
// The exported fields of c are its arguments: they are encoded as JSON
// when c.Start is called, as CPython pickles the process object at start,
// so they may be set after Init, as Python sets them after
// Process.__init__:
//
//	w := &Worker{}
//	mp.Init(w)
//	w.Jobs = []string{"a", "b"} // seen by the child
//	w.Start()
//
// Init panics if the type of c was not registered with RegisterClass, if
// c was already initialized, if its fields cannot be encoded as JSON, or
// if the Args option is given.
func Init(c Class, opts ...Option) {
	t := reflect.TypeOf(c)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("mp: Init: %s is not a pointer to a struct", t))
	}
	p := c.process()
	if p == nil {
		panic(fmt.Sprintf("mp: Init: %s must embed mp.Process, not *mp.Process", t.Elem()))
	}
	if p.handle != 0 {
		panic(fmt.Sprintf("mp: Init: %s was already initialized", p.class))
	}
	key := classKey(t.Elem())
	st.mu.Lock()
	_, ok := st.classes[key]
	st.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("mp: Init: class %s is not registered: call mp.RegisterClass(&%s{}) before mp.Main",
			key, t.Elem().Name()))
	}
	cfg := newConfig(opts)
	if cfg.argsSet {
		panic(fmt.Sprintf("mp: Init: %s takes no mp.Args: its exported fields are its arguments", t.Elem().Name()))
	}
	args, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("mp: Init: encoding the fields of %s: %v", t.Elem().Name(), err))
	}
	p.class = t.Elem().Name()
	p.outer = c
	p.sent = args
	p.create(classPrefix+key, args, p.class, cfg)
}

// registered returns the function registered under name.
func registered(name string) (reflect.Value, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn, ok := st.funcs[name]
	return fn, ok
}
