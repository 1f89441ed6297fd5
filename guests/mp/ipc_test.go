//go:build !wasip1

package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The shared objects against the fake host, whose objects are the host's
// own (internal/ipc). One goroutine plays every process, so blocking calls
// are made only when they return at once.

func TestObjectJSON(t *testing.T) {
	useFake(t)
	r, w := Pipe(false)
	lock := NewLock()
	objects := []struct {
		v    any
		kind string
		into any
	}{
		{r, "Connection", &Conn{}},
		{w, "Connection", &Conn{}},
		{NewQueue(3), "Queue", &Queue{}},
		{NewJoinableQueue(0), "JoinableQueue", &JoinableQueue{}},
		{NewBarrier(2), "Barrier", &Barrier{}},
		{lock, "Lock", &Lock{}},
		{NewRLock(), "RLock", &RLock{}},
		{NewSemaphore(2), "Semaphore", &Semaphore{}},
		{NewBoundedSemaphore(2), "BoundedSemaphore", &BoundedSemaphore{}},
		{NewEvent(), "Event", &Event{}},
		{NewCondition(lock), "Condition", &Condition{}},
		{Manager().Namespace(), "Namespace", &Namespace{}},
		{Manager().Dict(), "Dict", &Dict{}},
		{Manager().List(), "List", &List{}},
	}
	type handler interface{ Handle() int32 }
	for _, o := range objects {
		t.Run(o.kind, func(t *testing.T) {
			b, err := json.Marshal(o.v)
			mustOK(t, err)
			if !strings.Contains(string(b), `"mp":"`+o.kind+`"`) {
				t.Errorf("JSON %s has no kind %s", b, o.kind)
			}
			mustOK(t, json.Unmarshal(b, o.into))
			if got, want := o.into.(handler).Handle(), o.v.(handler).Handle(); got != want {
				t.Errorf("handle %d after a round trip, want %d", got, want)
			}
			// The wrong kind is refused.
			var e Event
			if o.kind != "Event" {
				if err := json.Unmarshal(b, &e); err == nil || !strings.Contains(err.Error(), "got a "+o.kind) {
					t.Errorf("decoding a %s as an Event: %v", o.kind, err)
				}
			}
		})
	}
	var c Conn
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, r)), &c))
	if !c.Readable() || c.Writable() {
		t.Errorf("decoded read end: readable %v writable %v", c.Readable(), c.Writable())
	}
	var cond Condition
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, NewCondition(nil))), &cond))
	if _, ok := cond.Lock().(*RLock); !ok {
		t.Errorf("a Condition(None) decodes with lock %T, want *RLock", cond.Lock())
	}
	// Handles travel in process arguments and class fields.
	type holder struct {
		Q *Queue
		C *Conn
	}
	q := NewQueue(0)
	var h holder
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, holder{q, w})), &h))
	if h.Q.Handle() != q.Handle() || h.C.Handle() != w.Handle() || !h.C.Writable() {
		t.Errorf("fields decoded as %+v", h)
	}
	if _, err := json.Marshal(&Queue{}); err == nil {
		t.Error("a zero Queue encodes")
	}
	if err := json.Unmarshal([]byte(`5`), &Queue{}); err == nil {
		t.Error("5 decodes as a Queue")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	mustOK(t, err)
	return string(b)
}

func TestPipe(t *testing.T) {
	useFake(t)
	r, w := Pipe(false)
	mustOK(t, w.Send(map[string]int{"a": 1}))
	big := strings.Repeat("x", 3*minRecvBuffer)
	mustOK(t, w.Send(big))
	ready, err := r.Poll(0)
	if !ready || err != nil {
		t.Errorf("Poll = %v, %v", ready, err)
	}
	var m map[string]int
	mustOK(t, r.Recv(&m))
	if m["a"] != 1 {
		t.Errorf("recv %v", m)
	}
	var s string
	mustOK(t, r.Recv(&s)) // larger than the first buffer: taken whole
	if s != big {
		t.Errorf("big message of %d bytes, want %d", len(s), len(big))
	}
	if r.in.hint.Load() != uint32(len(big)+1) { // the string and its tag byte
		t.Errorf("size hint %d", r.in.hint.Load())
	}

	err = r.Send(1)
	if !errors.Is(err, ErrDirection) || err.Error() != "connection is read-only" {
		t.Errorf("send on the read end: %v", err)
	}
	if _, err := w.RecvBytes(); !errors.Is(err, ErrDirection) || err.Error() != "connection is write-only" {
		t.Errorf("recv on the write end: %v", err)
	}

	mustOK(t, w.SendBytes([]byte("last")))
	mustOK(t, w.Close())
	mustOK(t, w.Close()) // a second close does nothing
	if err := w.Send(1); !errors.Is(err, ErrClosed) || err.Error() != "handle is closed" {
		t.Errorf("send after close: %v", err)
	}
	b, err := r.RecvBytes()
	if string(b) != "last" || err != nil {
		t.Errorf("recv after the writer closed = %q, %v", b, err)
	}
	err = r.Recv(&s)
	if !errors.Is(err, ErrEOF) || !errors.Is(err, io.EOF) {
		t.Errorf("recv at end: %v, want EOF", err)
	}

	a, c := Pipe(true)
	mustOK(t, c.Close())
	if err := a.Send(1); !errors.Is(err, ErrBrokenPipe) {
		t.Errorf("send to a closed end: %v", err)
	}
}

func TestQueue(t *testing.T) {
	useFake(t)
	q := NewQueue(2)
	mustOK(t, q.Put(1))
	mustOK(t, q.PutNowait("two"))
	if q.Qsize() != 2 || !q.Full() || q.Empty() || q.Maxsize() != 2 {
		t.Errorf("qsize %d full %v empty %v maxsize %d", q.Qsize(), q.Full(), q.Empty(), q.Maxsize())
	}
	if err := q.PutNowait(3); err != ErrFull {
		t.Errorf("put_nowait on a full queue: %v", err)
	}
	start := time.Now()
	if err := q.PutTimeout(3, 20*time.Millisecond); err != ErrFull || time.Since(start) < 20*time.Millisecond {
		t.Errorf("put with timeout on a full queue: %v after %v", err, time.Since(start))
	}
	var n int
	var s string
	mustOK(t, q.Get(&n))
	mustOK(t, q.GetNowait(&s))
	if n != 1 || s != "two" {
		t.Errorf("got %d, %q", n, s)
	}
	if err := q.GetNowait(&n); err != ErrEmpty {
		t.Errorf("get_nowait on an empty queue: %v", err)
	}
	if err := q.GetTimeout(&n, 20*time.Millisecond); err != ErrEmpty {
		t.Errorf("get with timeout on an empty queue: %v", err)
	}
	mustOK(t, q.Put("x"))
	if err := q.Get(&n); err == nil {
		t.Error("a string decoded into an int")
	}
	if !q.Empty() {
		t.Error("a value that did not decode was not consumed")
	}
	mustOK(t, q.Close())
	if err := q.Put(1); !errors.Is(err, ErrClosed) {
		t.Errorf("put after close: %v", err)
	}

	j := NewJoinableQueue(0)
	mustOK(t, j.Put("job"))
	if done, err := j.JoinTimeout(0); done || err != nil || j.Unfinished() != 1 {
		t.Errorf("join with a task unfinished = %v, %v (unfinished %d)", done, err, j.Unfinished())
	}
	mustOK(t, j.Get(nil))
	mustOK(t, j.TaskDone())
	mustOK(t, j.Join())
	if err := j.TaskDone(); !errors.Is(err, ErrValue) || err.Error() != "task_done() called too many times" {
		t.Errorf("task_done too often: %v", err)
	}
}

func TestLocks(t *testing.T) {
	useFake(t)
	l := NewLock()
	if err := l.Release(); !errors.Is(err, ErrValue) || err.Error() != "semaphore or lock released too many times" {
		t.Errorf("release of an unheld Lock: %v", err)
	}
	if got := l.String(); got != "<Lock(owner=None)>" {
		t.Errorf("repr %s", got)
	}
	mustOK(t, l.Acquire())
	if ok, err := l.TryAcquire(); ok || err != nil {
		t.Errorf("try_acquire of a held Lock = %v, %v", ok, err)
	}
	if ok, err := l.AcquireTimeout(10 * time.Millisecond); ok || err != nil {
		t.Errorf("acquire with timeout of a held Lock = %v, %v", ok, err)
	}
	if got := l.String(); !l.Locked() || got != "<Lock(owner=MainProcess)>" {
		t.Errorf("held: locked %v repr %s", l.Locked(), got)
	}
	mustOK(t, l.Release())

	r := NewRLock()
	if err := r.Release(); !errors.Is(err, ErrNotOwner) ||
		err.Error() != "attempt to release recursive lock not owned by thread" {
		t.Errorf("release of an unheld RLock: %v", err)
	}
	mustOK(t, r.Acquire())
	mustOK(t, r.Acquire())
	if got := r.String(); got != "<RLock(MainProcess, 2)>" {
		t.Errorf("repr %s", got)
	}
	mustOK(t, r.Release())
	mustOK(t, r.Release())
	if got := r.String(); got != "<RLock(None, 0)>" {
		t.Errorf("repr %s", got)
	}

	s := NewSemaphore(1)
	mustOK(t, s.Release())
	if s.Value() != 2 || s.String() != "<Semaphore(value=2)>" {
		t.Errorf("semaphore value %d repr %s", s.Value(), s)
	}
	b := NewBoundedSemaphore(1)
	if err := b.Release(); !errors.Is(err, ErrValue) {
		t.Errorf("release of a BoundedSemaphore at its initial value: %v", err)
	}
	if got := b.String(); got != "<BoundedSemaphore(value=1, maxvalue=1)>" {
		t.Errorf("repr %s", got)
	}
	var back BoundedSemaphore
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, b)), &back))
	if back.String() != b.String() {
		t.Errorf("decoded repr %s", back.String())
	}
	if msg := mustPanic(t, func() { NewSemaphore(-1) }); !strings.Contains(msg, "must be >= 0") {
		t.Errorf("NewSemaphore(-1) panic %q", msg)
	}
}

func TestEventCondition(t *testing.T) {
	useFake(t)
	e := NewEvent()
	if e.IsSet() || e.Wait(0) || e.Wait(5*time.Millisecond) {
		t.Error("a new Event is set")
	}
	e.Set()
	if !e.IsSet() || !e.Wait(-1) {
		t.Error("Set did not set")
	}
	e.Clear()
	if e.IsSet() {
		t.Error("Clear did not clear")
	}

	c := NewCondition(nil)
	if _, err := c.Wait(0); !errors.Is(err, ErrNotOwner) || err.Error() != "must acquire() condition before using wait()" {
		t.Errorf("wait without the lock: %v", err)
	}
	if err := c.Notify(1); !errors.Is(err, ErrNotOwner) || err.Error() != "lock is not owned" {
		t.Errorf("notify without the lock: %v", err)
	}
	mustOK(t, c.Acquire())
	if n, err := c.Wait(5 * time.Millisecond); n || err != nil {
		t.Errorf("wait with nobody to notify = %v, %v", n, err)
	}
	if ok, err := c.WaitFor(func() bool { return true }, -1); !ok || err != nil {
		t.Errorf("wait_for a true predicate = %v, %v", ok, err)
	}
	calls := 0
	ok, err := c.WaitFor(func() bool { calls++; return false }, 20*time.Millisecond)
	if ok || err != nil || calls < 2 {
		t.Errorf("wait_for a false predicate = %v, %v after %d calls", ok, err, calls)
	}
	mustOK(t, c.NotifyAll())
	mustOK(t, c.Release())
}

var actions int

func countAction()        { actions++ }
func failAction() error   { return errors.New("action failed") }
func panicAction()        { panic("action panicked") }
func unregisteredAction() {}

func TestBarrier(t *testing.T) {
	useFake(t)
	Register(countAction, failAction, panicAction)
	b := NewBarrier(1, BarrierAction(countAction))
	for round := range 2 {
		i, err := b.Wait()
		if i != 0 || err != nil || actions != round+1 {
			t.Errorf("round %d: wait = %d, %v; actions %d", round, i, err, actions)
		}
	}
	if b.Parties() != 1 || b.NWaiting() != 0 || b.Broken() {
		t.Errorf("parties %d n_waiting %d broken %v", b.Parties(), b.NWaiting(), b.Broken())
	}

	f := NewBarrier(1, BarrierAction(failAction))
	if _, err := f.Wait(); err == nil || err.Error() != "action failed" {
		t.Errorf("wait with a failing action: %v", err)
	}
	if !f.Broken() {
		t.Error("a failed action left the barrier whole")
	}
	if _, err := f.Wait(); !errors.Is(err, ErrBrokenBarrier) {
		t.Errorf("wait on a broken barrier: %v", err)
	}
	mustOK(t, f.Reset())
	if f.Broken() {
		t.Error("still broken after Reset")
	}

	p := NewBarrier(1, BarrierAction(panicAction))
	if msg := mustPanic(t, func() { p.Wait() }); msg != "action panicked" {
		t.Errorf("the action's panic became %q", msg)
	}
	if !p.Broken() {
		t.Error("a panicking action left the barrier whole")
	}

	two := NewBarrier(2)
	if _, err := two.WaitTimeout(5 * time.Millisecond); !errors.Is(err, ErrBrokenBarrier) || !two.Broken() {
		t.Errorf("a wait that timed out: %v, broken %v", err, two.Broken())
	}
	mustOK(t, two.Reset())
	mustOK(t, two.Abort())
	if _, err := two.Wait(); !errors.Is(err, ErrBrokenBarrier) {
		t.Errorf("wait after abort: %v", err)
	}

	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"unregistered action", func() { NewBarrier(2, BarrierAction(unregisteredAction)) }, "is not registered"},
		{"action with arguments", func() { NewBarrier(2, BarrierAction(func(int) {})) }, "must be a func() or a func() error"},
		{"no parties", func() { NewBarrier(0) }, "parties must be at least 1"},
	}
	for _, tt := range tests {
		if msg := mustPanic(t, tt.fn); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: panic %q does not mention %q", tt.name, msg, tt.want)
		}
	}
}

func TestManager(t *testing.T) {
	useFake(t)
	Register(noop)
	m := Manager()
	if m.Name() != "SyncManager-1" {
		t.Errorf("manager name %s", m.Name())
	}
	if p := NewProcess(noop); p.Name() != "Process-2" {
		t.Errorf("first process after Manager() is %s, want Process-2 as in CPython", p.Name())
	}

	ns := m.Namespace()
	if ns.String() != "Namespace()" {
		t.Errorf("empty repr %s", ns)
	}
	mustOK(t, ns.Set("b", "x"))
	mustOK(t, ns.Set("a", 1))
	mustOK(t, ns.Set("_private", 2))
	mustOK(t, ns.Set("a1", []any{true, nil, 2.5, map[string]int{"k": 1}}))
	if got, want := ns.String(), "Namespace(a1=[True, None, 2.5, {'k': 1}], a=1, b='x')"; got != want {
		t.Errorf("repr %s, want %s (CPython sorts the 'name=value' strings)", got, want)
	}
	var a int
	mustOK(t, ns.Get("a", &a))
	if a != 1 || !ns.Has("a") || ns.Has("zz") {
		t.Errorf("a=%d has a %v has zz %v", a, ns.Has("a"), ns.Has("zz"))
	}
	err := ns.Get("zz", &a)
	if !errors.Is(err, ErrNoKey) || err.Error() != "'Namespace' object has no attribute 'zz'" {
		t.Errorf("missing attribute: %v", err)
	}
	mustOK(t, ns.Delete("b"))
	if err := ns.Delete("b"); !errors.Is(err, ErrNoKey) {
		t.Errorf("delete of a missing attribute: %v", err)
	}
	if got := strings.Join(ns.Names(), ","); got != "_private,a,a1" {
		t.Errorf("names %s", got)
	}

	d := m.Dict()
	mustOK(t, d.Set(1, "one"))
	mustOK(t, d.Set("1", 1.5))
	mustOK(t, d.Set(true, nil))
	if got, want := d.String(), "{1: 'one', '1': 1.5, True: None}"; got != want {
		t.Errorf("repr %s, want %s", got, want)
	}
	var s string
	mustOK(t, d.Get(1, &s))
	if s != "one" || !d.Contains("1") || d.Contains(2) || d.Len() != 3 {
		t.Errorf("d[1]=%q contains '1' %v contains 2 %v len %d", s, d.Contains("1"), d.Contains(2), d.Len())
	}
	if err := d.Get("k", &s); !errors.Is(err, ErrNoKey) || err.Error() != "KeyError: 'k'" {
		t.Errorf("missing key: %v", err)
	}
	var keys []any
	mustOK(t, d.Keys(&keys))
	if len(keys) != 3 || keys[0] != 1.0 || keys[1] != "1" || keys[2] != true {
		t.Errorf("keys %#v", keys)
	}
	items, err := d.Items()
	if err != nil || len(items) != 3 || string(items[0].Key) != "1" || string(items[0].Value) != `"one"` {
		t.Errorf("items %v, %v", items, err)
	}

	l := m.List(1, "a")
	mustOK(t, l.Append(nil))
	if got := l.String(); got != "[1, 'a', None]" || l.Len() != 3 {
		t.Errorf("repr %s len %d", got, l.Len())
	}
	mustOK(t, l.Set(-1, 3))
	var n int
	mustOK(t, l.Get(-1, &n))
	if n != 3 {
		t.Errorf("l[-1] = %d", n)
	}
	if err := l.Get(3, &n); !errors.Is(err, ErrIndex) || err.Error() != "list index out of range" {
		t.Errorf("get out of range: %v", err)
	}
	if err := l.Set(5, 0); err == nil || err.Error() != "list assignment index out of range" {
		t.Errorf("set out of range: %v", err)
	}
	big := strings.Repeat("y", 2*minRecvBuffer)
	mustOK(t, l.Append(big))
	mustOK(t, l.Pop(-1, &s)) // larger than the first buffer: popped once, whole
	if s != big || l.Len() != 3 {
		t.Errorf("pop of a big value: %d bytes, len now %d", len(s), l.Len())
	}
	var all []any
	mustOK(t, l.All(&all))
	if len(all) != 3 {
		t.Errorf("all %v", all)
	}
	empty := m.List()
	if err := empty.Pop(-1, nil); err == nil || err.Error() != "pop from empty list" {
		t.Errorf("pop of an empty list: %v", err)
	}
}

func TestPyReprValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{`null`, "None"},
		{`true`, "True"},
		{`false`, "False"},
		{`12`, "12"},
		{`-2.5`, "-2.5"},
		{`1e+21`, "1e+21"},
		{`"it's"`, `"it's"`},
		{`"a\nb"`, `'a\nb'`},
		{`[]`, "[]"},
		{`{}`, "{}"},
		{`[1,[2,"x"],{"a":null}]`, "[1, [2, 'x'], {'a': None}]"},
		{`{"b":1,"a":2}`, "{'b': 1, 'a': 2}"},
		{`not json`, "b'not json'"},
		{`1 2`, "b'1 2'"},
		{"\x02\xff'", `b"\x02\xff'"`}, // raw bytes, not tagged
		{"\x00", "b''"},
		{"\x00\x00\xff'x\n", `b"\x00\xff'x\n"`},
		{"\x00{}", "b'{}'"},
		{"\x01", "''"},
		{"\x01it's", `"it's"`},
		{"\x01a\tb\u00e9\x00", `'a\tbé\x00'`},
		{"\x01null", "'null'"},
	}
	for _, tt := range tests {
		if got := pyReprValue([]byte(tt.in)); got != tt.want {
			t.Errorf("pyReprValue(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTimeouts(t *testing.T) {
	if waitArg(-time.Second) != -1 || waitArg(0) != 0 || waitArg(time.Second) != int64(time.Second) {
		t.Error("waitArg")
	}
	if atMostArg(-time.Second) != 0 || atMostArg(time.Millisecond) != int64(time.Millisecond) {
		t.Error("atMostArg")
	}
}

func TestReceive(t *testing.T) {
	t.Run("retry keeps the deadline", func(t *testing.T) {
		var timeouts []int64
		b, e := receive(nil, int64(time.Hour), func(timeoutNs int64, buf []byte) (uint32, errno) {
			timeouts = append(timeouts, timeoutNs)
			return filled(make([]byte, 2*minRecvBuffer), buf)
		})
		if e != errnoOK || len(b) != 2*minRecvBuffer || len(timeouts) != 2 ||
			timeouts[1] > timeouts[0] || timeouts[1] <= 0 {
			t.Errorf("receive = %d bytes, %d; timeouts %v", len(b), e, timeouts)
		}
	})
	t.Run("host asks for less", func(t *testing.T) {
		_, e := receive(nil, -1, func(int64, []byte) (uint32, errno) { return 1, errnoTooSmall })
		if e != errnoIO {
			t.Errorf("errno %d, want EIO", e)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, e := receive(nil, 0, func(int64, []byte) (uint32, errno) { return 0, errnoEmpty })
		if e != errnoEmpty {
			t.Errorf("errno %d", e)
		}
	})
	t.Run("inbox", func(t *testing.T) {
		// A receive offers the scratch buffer; messages of a stream are
		// then cut one after another from a chunk of carvedPerChunk times
		// the larger of the message and the one before, each its own
		// length as capacity; empty ones, those over maxCarved, and ones
		// of minRecvBuffer or less after one over it, are copies of their
		// own that leave the chunk as it was; a chunk too large for the
		// stream is made again; a message over scratchSize is asked for
		// again with room for it, and the next one then first so.
		var in inbox
		var bufs []int // the length of every buffer offered
		recvErr := func(msg string, e errno) []byte {
			t.Helper()
			bufs = bufs[:0]
			b, got := receive(&in, 0, func(_ int64, buf []byte) (uint32, errno) {
				bufs = append(bufs, len(buf))
				if e != errnoOK {
					return 0, e
				}
				return filled([]byte(msg), buf)
			})
			if got != e || (e == errnoOK && (string(b) != msg || cap(b) != len(b))) {
				t.Fatalf("receive = %q (cap %d), %d; want %q, %d", b, cap(b), got, msg, e)
			}
			return b
		}
		recv := func(msg string) []byte { t.Helper(); return recvErr(msg, errnoOK) }
		after := func(a, b []byte) bool { // b begins where a ends
			return unsafe.Add(unsafe.Pointer(unsafe.SliceData(a)), len(a)) == unsafe.Pointer(unsafe.SliceData(b))
		}
		offered := func(want ...int) {
			t.Helper()
			if !slices.Equal(bufs, want) {
				t.Errorf("buffers offered %v, want %v", bufs, want)
			}
		}
		msg := strings.Repeat("x", 4000)
		first := recv(msg)
		offered(scratchSize)
		if in.size != min(carvedPerChunk*4000, maxChunk) || len(in.chunk)+len(first) != in.size {
			t.Errorf("chunk of %d bytes (%d left) for messages of 4000", in.size, len(in.chunk))
		}
		second := recv(strings.Repeat("y", 4000))
		if !after(first, second) {
			t.Error("the second message is not cut right after the first")
		}
		left := len(in.chunk)
		recvErr("", errnoEmpty)
		if len(in.chunk) != left {
			t.Error("a receive that took nothing moved the chunk")
		}
		short := recv(strings.Repeat("s", 600)) // (after one of 4000: the chunk stays)
		if !after(second, short) {
			t.Error("a message of 600 is not cut after the one before")
		}
		if string(second) != strings.Repeat("y", 4000) || string(short) != strings.Repeat("s", 600) {
			t.Error("a message changed")
		}
		_ = append(second, 'z') // (its capacity is its length: a copy)
		if string(short) != strings.Repeat("s", 600) {
			t.Error("appending to a message overwrote the next")
		}
		// Two of 600 in a row: the 64 KiB chunk is too large for them.
		next := recv(strings.Repeat("n", 600))
		if in.size != carvedPerChunk*600 || after(short, next) {
			t.Errorf("chunk of %d bytes for messages of 600", in.size)
		}
		small := recv(strings.Repeat("m", 600))
		if !after(next, small) {
			t.Error("the chunk did not move by the message's length")
		}
		left = len(in.chunk)
		tiny := recv("tiny") // (after one of 600: a copy, the chunk stays)
		if after(small, tiny) || len(in.chunk) != left {
			t.Error("a message of 4 after one of 600 was cut from its chunk")
		}
		// Two of 4 in a row: a chunk of 16 times 4.
		tiny2 := recv("tin2")
		tiny3 := recv("tin3")
		if in.size != carvedPerChunk*4 || after(tiny, tiny2) || !after(tiny2, tiny3) {
			t.Errorf("chunk of %d bytes for messages of 4", in.size)
		}
		if string(tiny)+string(tiny2)+string(tiny3) != "tinytin2tin3" {
			t.Error("a message changed")
		}
		// One of 2 after them: cut after them (16 times the larger of 2
		// and 4).
		if two := recv("tw"); !after(tiny3, two) || in.size != carvedPerChunk*4 {
			t.Errorf("a message of 2 after ones of 4 not cut after them (chunk of %d)", in.size)
		}
		// At minRecvBuffer's edge: one of minRecvBuffer+1 is cut, one of
		// minRecvBuffer after it copied out, one more after that cut from a
		// chunk made for them.
		over := recv(strings.Repeat("o", minRecvBuffer+1))
		left = len(in.chunk)
		edge := recv(strings.Repeat("e", minRecvBuffer))
		if after(over, edge) || len(in.chunk) != left {
			t.Error("a message of minRecvBuffer after a larger one was cut from the chunk")
		}
		edge2 := recv(strings.Repeat("f", minRecvBuffer))
		if in.size != carvedPerChunk*minRecvBuffer || len(in.chunk) != in.size-minRecvBuffer {
			t.Errorf("a message of minRecvBuffer after one as small: chunk of %d, %d left", in.size, len(in.chunk))
		}
		if string(over) != strings.Repeat("o", minRecvBuffer+1) || string(edge)+string(edge2) != strings.Repeat("e", minRecvBuffer)+strings.Repeat("f", minRecvBuffer) {
			t.Error("a message changed")
		}
		left = len(in.chunk)
		if empty := recv(""); len(in.chunk) != left || empty == nil {
			t.Errorf("an empty message moved the chunk, or is nil (%v)", empty)
		}
		big := strings.Repeat("b", maxCarved+1)
		b := recv(big)
		if b2 := recv(big); after(b, b2) || len(in.chunk) != left {
			t.Error("messages over maxCarved cut from a chunk")
		}
		huge := strings.Repeat("h", scratchSize+1)
		recv(huge)
		offered(scratchSize, scratchSize+1)
		recv(huge)
		offered(scratchSize + 1) // (the hint: no scratch first)
		if len(in.chunk) != left {
			t.Error("a message over scratchSize moved the chunk")
		}
		recv("after a huge one") // (a copy its size: recv checks its capacity)
		offered(scratchSize + 1)
		// Another goroutine's receive holds the scratch buffer: a buffer
		// of the hint's size, then the message cut from the chunk.
		in.hint.Store(4000)
		scratchBusy.Store(true)
		t.Cleanup(func() { scratchBusy.Store(false) }) // (should a check stop the test)
		m := recv(msg)
		scratchBusy.Store(false)
		offered(4000)
		if cap(m) != 4000 {
			t.Errorf("a message cut from the chunk has capacity %d", cap(m))
		}
		// A message shorter than its buffer (the scratch buffer held)
		// moves the chunk by its length.
		in.hint.Store(5000)
		in.drop()
		scratchBusy.Store(true)
		recv(strings.Repeat("x", 5000)) // a chunk of maxChunk
		m1 := recv(strings.Repeat("1", 4500))
		offered(5000)
		m2 := recv(strings.Repeat("2", 4500))
		scratchBusy.Store(false)
		if !after(m1, m2) {
			t.Error("the chunk did not move by the length of a message shorter than its buffer")
		}
		in.drop()
		if in.chunk != nil {
			t.Error("drop kept the chunk")
		}
	})
}

// TestQueueBoundDecoded: a Queue decoded from JSON (a child's argument,
// or a field of a value taken from a queue) forgets what it knew of the
// bound of the queue it was before: a put into a full bounded queue must
// still say ErrFull, not be posted and lost.
func TestQueueBoundDecoded(t *testing.T) {
	useFake(t)
	unbounded, bounded := NewQueue(0), NewQueue(1)
	for _, tc := range []struct {
		name string
		into *Queue
	}{
		{"into a fresh Queue", &Queue{}},
		{"into an unbounded queue's Queue", unbounded}, // as json.Unmarshal reuses a *Queue field
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustOK(t, json.Unmarshal([]byte(mustJSON(t, bounded)), tc.into))
			mustOK(t, tc.into.PutNowait(1))
			if err := tc.into.PutNowait(2); err != ErrFull {
				t.Errorf("put into the full bounded queue: %v, want ErrFull", err)
			}
			mustOK(t, bounded.Get(nil))
		})
	}
	var j JoinableQueue
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, NewJoinableQueue(0))), &j))
	j.bound.Store(boundNone)
	mustOK(t, json.Unmarshal([]byte(mustJSON(t, NewJoinableQueue(1))), &j))
	mustOK(t, j.PutNowait(1))
	if err := j.PutNowait(2); err != ErrFull {
		t.Errorf("put into the full bounded JoinableQueue: %v, want ErrFull", err)
	}
}

// TestSendBuf: a Send or a Put of a []byte or a string writes it into the
// one send buffer, given back once sent, and messages sent one after
// another through it come out whole; a held buffer (another goroutine's
// send) or a large message makes a buffer of its own.
func TestSendBuf(t *testing.T) {
	useFake(t)
	r, w := Pipe(false)
	q := NewQueue(0)
	for i, v := range []any{[]byte("first"), "second", []byte("third"), strings.Repeat("l", maxSendBuf+1), 7} {
		mustOK(t, w.Send(v))
		mustOK(t, q.Put(v))
		if sendBusy.Load() {
			t.Fatalf("send %d kept the send buffer", i)
		}
	}
	mustOK(t, w.SendBytes(nil)) // (an empty message, received last)
	mustOK(t, w.Send([]byte("again")))
	kept := unsafe.SliceData(sendBuf)
	mustOK(t, q.Put("AGAIN")) // (no longer than the one before)
	if unsafe.SliceData(sendBuf) != kept {
		t.Error("a second send did not reuse the send buffer")
	}
	if cap(sendBuf) > maxSendBuf || cap(sendBuf) == 0 {
		t.Errorf("send buffer of capacity %d", cap(sendBuf))
	}
	got := func(v any) string {
		switch x := v.(type) {
		case *[]byte:
			return string(*x)
		case *string:
			return *x
		}
		return fmt.Sprint(*v.(*int))
	}
	for _, want := range []string{"first", "second", "third", strings.Repeat("l", maxSendBuf+1), "7"} {
		var into any
		switch want {
		case "first", "third":
			into = new([]byte)
		case "7":
			into = new(int)
		default:
			into = new(string)
		}
		mustOK(t, r.Recv(into))
		if got(into) != want {
			t.Errorf("pipe: %.20q, want %.20q", got(into), want)
		}
		mustOK(t, q.Get(into))
		if got(into) != want {
			t.Errorf("queue: %.20q, want %.20q", got(into), want)
		}
	}
	// (the two sends above, and the empty message)
	if b, err := r.RecvBytes(); err != nil || len(b) != 0 {
		t.Errorf("pipe: %q, %v, want the empty message", b, err)
	}
	var b []byte
	mustOK(t, r.Recv(&b))
	if string(b) != "again" {
		t.Errorf("pipe: %q, want again", b)
	}
	sendBusy.Store(true)
	var sent []byte
	err := sendValue([]byte("x"), func(b []byte) error { sent = b; return nil })
	sendBusy.Store(false)
	if err != nil || string(sent) != "\x00x" || unsafe.SliceData(sent) == unsafe.SliceData(sendBuf) {
		t.Errorf("with the buffer held: %q, %v", sent, err)
	}
}
