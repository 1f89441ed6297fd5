package host

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// Wait is one process blocked, waiting for another: in a call (a receive
// on an empty pipe, a get on an empty queue, a barrier, a lock, a join…)
// or, at the end of its life, for its children to end.
//
// By and Anyone say who could end the wait. Together with the process
// table they answer the deadlock question cheaply: a run is stuck when
// every live process waits without a timeout and no process that could
// end any of those waits is alive and not itself waiting.
type Wait struct {
	// Process is the waiting process's handle, Name its name and PID the
	// OS pid of its runner.
	Process int32
	Name    string
	PID     int
	// Op is the import waiting, or "exit" for a process whose guest has
	// returned and that waits for its children (CPython's at-exit join).
	Op string
	// Object is the handle waited on: an object, or the process joined;
	// 0 for "exit". Kind is its kind ("pipe", "queue", "lock",
	// "process", "children", …).
	Object int32
	Kind   string
	// Timeout bounds the wait; negative means none.
	Timeout time.Duration
	// Since is when the process went to sleep.
	Since time.Time
	// By lists the live processes the object knows could end the wait:
	// the holders of a pipe's other end, a lock's owner, the process being
	// joined, the children still running. Sorted.
	By []int32
	// Anyone says any live process could end it (a put, a set, a notify,
	// an arrival at a barrier, a release of a plain Lock).
	Anyone bool
	// Missing is, for a barrier, how many parties have still to arrive.
	Missing int
}

// OpExit is the Op of a Wait at the end of a process's life, for its
// children.
const OpExit = "exit"

// waitOn is what a process is about to wait on, set by a handler (or the
// at-exit duty) before it may block; it becomes a Wait if it does.
type waitOn struct {
	op      string
	handle  int32
	obj     ipc.Object // the object waited on; nil for a process wait
	end     int        // the pipe end received on
	procs   []*proc    // a process wait: the processes whose end ends it
	timeout time.Duration
	// A wait a runner reported on a direct pipe: the pipe's sockets, and
	// whether it waits to send (else to receive).
	sockets *pipeSockets
	send    bool
	// A wait a runner reported on a direct queue: its socket (send: a put
	// waiting for room, else a get).
	queue *queueSocket
	// runner: the wait is one a runner reported (KindWait); pid is that
	// runner's OS pid.
	runner bool
	pid    int
}

// waiting is an entry of the supervisor's table of waits.
type waiting struct {
	w  Wait
	on waitOn
}

// caller is what the objects of package ipc know of the process making a
// call: whether it has ended (in the process table) and the sleep and wake
// of its waits.
type caller struct {
	s *Supervisor
	p *proc
}

var _ ipc.Caller = caller{}

func (c caller) Ended() bool { return c.p.ended.Load() }
func (c caller) Woke()       { c.s.wake(c.p) }

// Seq is called on the process's serve goroutine, in the call.
func (c caller) Seq(n uint64) {
	if cur := c.p.cur; cur != nil {
		cur.Seq = n
	}
}

func (c caller) Sleeping(obj ipc.Object, timeout time.Duration) { c.s.sleep(c.p, obj, timeout) }

// waitOn notes what the call is about to wait on: object obj (handle h,
// pipe end end) for at most timeout.
func (c *Call) waitOn(h int32, obj ipc.Object, end int, timeout time.Duration) {
	c.p.on = waitOn{op: c.Op.String(), handle: h, obj: obj, end: end, timeout: timeout}
}

// sleep enters p's wait in the table of waits: what the handler said it
// would wait on (p.on), made exact by what the object says it sleeps on
// (obj, for at most timeout; nil for the host's own waits). Called on p's
// serve goroutine when a wait goes to sleep.
func (s *Supervisor) sleep(p *proc, obj ipc.Object, timeout time.Duration) {
	defer survive(p, "entering a wait")
	on := p.on
	if on.op == "" && p.cur != nil {
		on.op = p.cur.Op.String()
	}
	if obj != nil {
		if obj != on.obj {
			// Another object than the one called: the lock a condition
			// takes back.
			on.obj, on.handle, on.end = obj, s.handleOf(obj), 0
		}
		on.timeout = timeout
	}
	now := time.Now()
	w := Wait{Process: p.handle, Op: on.op, Object: on.handle, Kind: kindOf(on), Timeout: on.timeout, Since: now}
	s.waitMu.Lock()
	if old := s.waits[p.handle]; old != nil && old.w.Timeout < 0 {
		s.forever-- // replaced (a wake missed by a bug): count it once
	}
	s.waits[p.handle] = &waiting{w: w, on: on}
	if w.Timeout < 0 {
		s.forever++
	}
	s.waitMu.Unlock()
	s.moved()
	defer s.checkStuck()
	if c := p.cur; c != nil {
		if c.Blocked.IsZero() {
			c.Blocked = now
		}
		if c.On == nil {
			c.On = &w
		}
	}
	if p.log.IsTrace() {
		s.resolve(&w, on)
		p.log.Trace("    blocked: " + s.describe(&w))
	}
}

// wake removes p's wait from the table. An object's lock may be held.
func (s *Supervisor) wake(p *proc) {
	defer survive(p, "leaving a wait")
	now := time.Now()
	s.waitMu.Lock()
	e := s.waits[p.handle]
	delete(s.waits, p.handle)
	if e != nil && e.w.Timeout < 0 {
		s.forever--
	}
	s.waitMu.Unlock()
	s.moved()
	if c := p.cur; c != nil {
		c.Woke = now
	}
	if e != nil && p.log.IsTrace() {
		p.log.Trace(fmt.Sprintf("    woke after %v", now.Sub(e.w.Since).Round(time.Microsecond)))
	}
}

// Waits lists every process blocked at this moment and what it waits on,
// ordered by process handle. It may be called at any time from any
// goroutine.
func (s *Supervisor) Waits() []Wait {
	s.waitMu.Lock()
	entries := make([]waiting, 0, len(s.waits))
	for _, e := range s.waits {
		entries = append(entries, *e)
	}
	s.waitMu.Unlock()
	out := make([]Wait, len(entries))
	for i, e := range entries {
		out[i] = e.w
		s.resolve(&out[i], e.on)
	}
	slices.SortFunc(out, func(a, b Wait) int { return int(a.Process) - int(b.Process) })
	return out
}

// resolve fills in what changes while a wait lasts: the process's name and
// who could end the wait now.
func (s *Supervisor) resolve(w *Wait, on waitOn) {
	switch o := on.obj.(type) {
	case nil:
		s.mu.Lock()
		for _, k := range on.procs {
			if k.state == stateStarting || k.state == stateStarted {
				w.By = append(w.By, k.handle)
			}
		}
		s.mu.Unlock()
	case *ipc.Pipe:
		w.By = o.Holders(1 - on.end)
	case *ipc.Lock:
		if owner, ok := o.Owner(); ok {
			w.By = []int32{owner}
		}
		w.Anyone = true // a plain Lock may be released by any process
	case *ipc.RLock:
		if owner, _, ok := o.Owner(); ok {
			w.By = []int32{owner}
		}
	case *ipc.Barrier:
		w.Anyone = true
		w.Missing = o.Parties() - o.NWaiting()
	default: // queue, semaphore, event, condition: a put, release, set or notify by anyone
		w.Anyone = true
	}
	s.mu.Lock()
	if p := s.procs[w.Process]; p != nil {
		w.Name, w.PID = p.name, p.pid
	}
	if on.obj != nil {
		// Only the living can act on an object. (A process waited on
		// stays in By until the host has finished with its end.)
		w.By = slices.DeleteFunc(w.By, func(h int32) bool {
			p := s.procs[h]
			return p == nil || p.ended.Load()
		})
	}
	s.mu.Unlock()
	slices.Sort(w.By)
}

// kindOf names what a wait is on.
func kindOf(on waitOn) string {
	switch {
	case on.obj != nil:
		return on.obj.Kind()
	case on.op == OpExit:
		return "children"
	}
	return "process"
}

// describe is the trace log's line for a wait: "pipe 3 (end 0), by
// [Process-1], timeout=none".
func (s *Supervisor) describe(w *Wait) string {
	var b strings.Builder
	b.WriteString(w.Kind)
	if w.Object != 0 {
		fmt.Fprintf(&b, " %d", w.Object)
	}
	var names []string
	s.mu.Lock()
	for _, h := range w.By {
		if p := s.procs[h]; p != nil {
			names = append(names, p.name)
		}
	}
	s.mu.Unlock()
	switch {
	case len(names) > 0 && w.Anyone:
		fmt.Fprintf(&b, ", by [%s] or anyone", strings.Join(names, " "))
	case len(names) > 0:
		fmt.Fprintf(&b, ", by [%s]", strings.Join(names, " "))
	case w.Anyone:
		b.WriteString(", by anyone")
	default:
		b.WriteString(", by nobody alive")
	}
	if w.Missing > 0 {
		fmt.Fprintf(&b, ", parties missing: %d", w.Missing)
	}
	b.WriteString(", timeout=" + abi.FormatTimeout(w.Timeout))
	return b.String()
}

// waitStopped waits, as p, until every process of p.on.procs has stopped,
// for at most p.on.timeout, or until p ends. It reports whether they all
// stopped. Its sleep is entered in the table of waits like any other.
func (s *Supervisor) waitStopped(p *proc) bool {
	on := p.on
	var expiry <-chan time.Time
	if on.timeout > 0 {
		t := time.NewTimer(on.timeout)
		defer t.Stop()
		expiry = t.C
	}
	asleep := false
	defer func() {
		if asleep {
			s.wake(p)
		}
	}()
	for _, k := range on.procs {
		select {
		case <-k.done:
			continue
		default:
		}
		if on.timeout == 0 {
			return false
		}
		if !asleep {
			asleep = true
			s.sleep(p, nil, on.timeout)
		}
		select {
		case <-k.done:
		case <-expiry:
			return false
		case <-p.ctx.Done():
			return false
		}
	}
	return true
}

// ProcessName returns the name of process h, or "" if there is none.
func (s *Supervisor) ProcessName(h int32) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[h]; p != nil {
		return p.name
	}
	return ""
}

// survive keeps a bug in the host's bookkeeping of waits from taking the
// host down: sleep and wake run inside an ipc object's wait, where a panic
// would leave the object's lock in a state no recover can mend.
func survive(p *proc, what string) {
	if r := recover(); r != nil {
		p.log.Error("host failure "+what, "panic", r, "stack", string(debug.Stack()))
	}
}

// handleOf returns the handle of obj (the lowest, for a pipe), or 0.
func (s *Supervisor) handleOf(obj ipc.Object) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h int32
	for k, o := range s.objects {
		if o.obj == obj && (h == 0 || k < h) {
			h = k
		}
	}
	return h
}
