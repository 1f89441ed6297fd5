//go:build !wasip1

package mp

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func sq(x int) int { return x * x }

func sqOrFail(x int) (int, error) {
	switch x {
	case 2:
		return 0, errors.New("two is bad")
	case 3:
		panic("three panics")
	}
	return x * x, nil
}

func sum(xs ...int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

var initTag string

func setTag(tag string) { initTag = tag }

func tagOf(int) string { return initTag }

// runWorker plays worker w of the fake: it runs the worker's body until
// the sentinel Close put, then comes back to MainProcess.
func runWorker(t *testing.T, f *fakeHost, w *Process) {
	t.Helper()
	mainState, mainSelf := st, f.self
	f.becomeChild(t, w.Handle())
	defer func() { st, f.self = mainState, mainSelf }()
	fn, err := bootstrap(string(f.get(w.Handle()).target), f.get(w.Handle()).args)
	mustOK(t, err)
	fn()
	if got := CurrentProcess().String(); !strings.HasPrefix(got, "<ForkProcess name='ForkPoolWorker-1'") {
		t.Errorf("the worker sees itself as %s", got)
	}
}

func TestPool(t *testing.T) {
	f := useFake(t)
	Register(sq, sqOrFail, sum, setTag, tagOf)
	p := NewPool(1, Initializer(setTag, "tagged"))
	ws := p.Workers()
	if len(ws) != 1 || ws[0].Name() != "ForkPoolWorker-1" || !ws[0].Daemon() || !ws[0].IsAlive() {
		t.Fatalf("workers %v", ws)
	}
	if got := ws[0].String(); !strings.HasPrefix(got, "<ForkProcess name='ForkPoolWorker-1' pid=") {
		t.Errorf("worker repr %s", got)
	}
	if got := p.String(); got != "<multiprocessing.pool.Pool state=RUN pool_size=1>" {
		t.Errorf("repr %s", got)
	}

	apply := ApplyAsync[int](p, sq, 7)
	if apply.Ready() {
		t.Error("ready before any worker ran")
	}
	if _, err := apply.Successful(); !errors.Is(err, ErrValue) {
		t.Errorf("successful before ready: %v", err)
	}
	if _, err := apply.Get(0); !errors.Is(err, ErrTimeout) {
		t.Errorf("get before ready: %v", err)
	}
	mapped := MapAsync[int](p, sq, []int{1, 2, 3, 4, 5}, Chunksize(2))
	failing := MapAsync[int](p, sqOrFail, []int{1, 2, 3, 4}, Chunksize(1))
	star := StarmapAsync[int](p, sum, [][]any{{1, 2, 3}, {}, {4}})
	imap := Imap[int](p, sqOrFail, []int{4, 2, 5})
	unordered := ImapUnordered[int](p, sq, []int{1, 2, 3})
	tag := ApplyAsync[string](p, tagOf, 0)
	arity := ApplyAsync[int](p, sq, 1, 2)

	p.Close()
	if _, err := Map[int](p, sq, []int{1}); !errors.Is(err, ErrValue) || err.Error() != "Pool not running" {
		t.Errorf("map after close: %v", err)
	}
	runWorker(t, f, ws[0])

	if v, err := apply.Get(0); v != 49 || err != nil {
		t.Errorf("apply = %d, %v", v, err)
	}
	if ok, err := apply.Successful(); !ok || err != nil {
		t.Errorf("successful = %v, %v", ok, err)
	}
	if v, err := mapped.Get(0); !slices.Equal(v, []int{1, 4, 9, 16, 25}) || err != nil {
		t.Errorf("map = %v, %v", v, err)
	}
	_, err := failing.Get(0)
	var re *RemoteError
	if !errors.As(err, &re) || err.Error() != "two is bad" || re.Func != "github.com/sandbox-dev/sandbox/guests/mp.sqOrFail" ||
		re.Worker != "ForkPoolWorker-1" || re.Panic {
		t.Errorf("map with failures: %v (%+v)", err, re)
	}
	if ok, _ := failing.Successful(); ok {
		t.Error("a failed map is successful")
	}
	if v, err := star.Get(0); !slices.Equal(v, []int{6, 0, 4}) || err != nil {
		t.Errorf("starmap = %v, %v", v, err)
	}
	var got []string
	for v, err := range imap {
		if err != nil {
			got = append(got, err.Error())
		} else {
			got = append(got, string(rune('0'+v/10))+string(rune('0'+v%10)))
		}
	}
	if strings.Join(got, ",") != "16,two is bad,25" {
		t.Errorf("imap yielded %q", got)
	}
	var un []int
	for v, err := range unordered {
		mustOK(t, err)
		un = append(un, v)
	}
	slices.Sort(un)
	if !slices.Equal(un, []int{1, 4, 9}) {
		t.Errorf("imap_unordered yielded %v", un)
	}
	if v, err := tag.Get(0); v != "tagged" || err != nil {
		t.Errorf("the initializer did not run: %q, %v", v, err)
	}
	if _, err := arity.Get(0); err == nil || !strings.Contains(err.Error(), "takes 1 argument (2 given)") {
		t.Errorf("wrong arity: %v", err)
	}
	mustOK(t, p.Join())
}

func TestPoolPanicAndTerminate(t *testing.T) {
	f := useFake(t)
	Register(sqOrFail, sq)
	p := NewPool(1)
	r := ApplyAsync[int](p, sqOrFail, 3)
	p.Close()
	runWorker(t, f, p.Workers()[0])
	_, err := r.Get(0)
	var re *RemoteError
	if !errors.As(err, &re) || !re.Panic || err.Error() != "panic: three panics" || !strings.Contains(re.Stack, "sqOrFail") {
		t.Errorf("a panic came back as %v (%+v)", err, re)
	}

	q := NewPool(2)
	pending := ApplyAsync[int](q, sq, 2)
	q.Terminate()
	if _, err := pending.Get(0); !errors.Is(err, ErrState) {
		t.Errorf("a result pending at Terminate: %v", err)
	}
	for _, w := range q.Workers() {
		if code, ok := w.ExitCode(); !ok || code != -15 {
			t.Errorf("worker %s exit code %d, %v", w.Name(), code, ok)
		}
	}
	if got := q.String(); got != "<multiprocessing.pool.Pool state=TERMINATE pool_size=2>" {
		t.Errorf("repr %s", got)
	}
}

func TestPoolPanics(t *testing.T) {
	useFake(t)
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"no processes", func() { NewPool(0) }, "Number of processes must be at least 1"},
		{"unregistered", func() { Map[int](NewPool(1), sq, []int{1}) }, "is not registered"},
		{"unregistered initializer", func() { NewPool(1, Initializer(setTag, "x")) }, "is not registered"},
	}
	for _, tt := range tests {
		if msg := mustPanic(t, tt.fn); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: panic %q does not mention %q", tt.name, msg, tt.want)
		}
	}
}
