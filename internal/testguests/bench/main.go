//go:build wasip1

// Command bench is the sandbox side of the benchmark (bench/main.go): the
// shapes of bench/bench.py, timed inside MainProcess with time.Now, so the
// sandbox's and the guest's start-up are not counted.
//
//	sandbox run bench.wasm -- SHAPE N [SIZE]
//
// It prints one line, "ns_per_op=INTEGER" followed by the shape's extra
// key=value pairs, or, on any failure, a message on stderr and no number
// (exit status 1; 2 for a usage error). The shapes:
//
//	spawn N        start+join of a process with an empty target, N times one after another; per op = one start+join
//	first N        wall clock from just before Start to the first instruction of the child's target, N times; per op = the mean
//	spawn8 N       8 processes started then the 8 joined, N times; per op = one batch of 8
//	pingpong N     64-byte round trips over a duplex Pipe; per op = one round trip
//	pipe N SIZE    N messages of SIZE bytes through a one-way Pipe (SendBytes/RecvBytes); per op = one message; mib_per_s=
//	queue N SIZE   N []byte values of SIZE bytes through a Queue (Put/Get); per op = one message; mib_per_s=
//	barrier N      a Barrier(4) of MainProcess and 3 children, each waiting N times; per op = one generation
//	lock N         4 children released by an Event, each acquiring and releasing one Lock N times; per op = one acquire+release
//	pool N         Pool(4) created, Map(square, 0..99), closed and joined, N times; per op = one pool
//	alive N        N children started, all alive at once waiting on one Event, held alive aliveHold once all run; per op = start time per process; alive=N
//	hello N        prints "ready" first (start-up measured from outside), then ns_per_op=0; N is ignored
//	null N         N calls of event_is_set, the cheapest host call; per op = one call (a diagnostic of the call path, run by hand: bench/main.go has no such shape, CPython no such call)
//
// Where a shape needs its children up before its clock starts (pipe,
// queue, lock), each child releases a Semaphore when it is running, and
// MainProcess acquires it before it takes the time, as bench.py does.
// MainProcess closes its copy of the child's pipe end (pingpong, pipe) so
// that a child that dies makes a send or receive fail instead of hang.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// result is what a shape measured: the time per operation and the extra
// key=value pairs of its line (" key=value ...", or "").
type result struct {
	per   time.Duration
	extra string
}

// shapeFunc runs a shape with its N and SIZE (0 when it takes none).
type shapeFunc func(n, size int) result

// shapeInfo is a shape and its arguments' requirements.
type shapeInfo struct {
	run      shapeFunc
	minN     int  // the least N that makes sense
	needSize bool // SIZE is required (and only then allowed)
}

var shapes = map[string]shapeInfo{
	"spawn":    {spawn, 1, false},
	"first":    {first, 1, false},
	"spawn8":   {spawn8, 1, false},
	"pingpong": {pingpong, 2, false},
	"pipe":     {pipe, 1, true},
	"queue":    {queue, 1, true},
	"barrier":  {barrier, 2, false},
	"lock":     {lock, 1, false},
	"pool":     {pool, 1, false},
	"alive":    {alive, 1, false},
	"null":     {nullcall, 1, false},
}

func noop() {}

func main() {
	mp.Register(noop, firstChild, aliveChild)
	mp.Main(func() {
		if len(os.Args) > 1 && os.Args[1] == "hello" {
			// Before anything else: the harness times the run up to this line.
			fmt.Println("ready")
			fmt.Println("ns_per_op=0")
			return
		}
		if len(os.Args) < 3 || len(os.Args) > 4 {
			usage("usage: bench SHAPE N [SIZE]")
		}
		name := os.Args[1]
		s, ok := shapes[name]
		if !ok {
			usage("bench: unknown shape " + name)
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < s.minN {
			usage(fmt.Sprintf("bench: %s: N must be a number >= %d, not %q", name, s.minN, os.Args[2]))
		}
		size := 0
		switch {
		case s.needSize && len(os.Args) != 4:
			usage(fmt.Sprintf("bench: %s needs a SIZE: bench %s N SIZE", name, name))
		case !s.needSize && len(os.Args) != 3:
			usage(fmt.Sprintf("bench: %s takes no SIZE", name))
		case s.needSize:
			if size, err = strconv.Atoi(os.Args[3]); err != nil || size < 1 {
				usage(fmt.Sprintf("bench: %s: SIZE must be a number >= 1, not %q", name, os.Args[3]))
			}
		}
		r := s.run(n, size)
		fmt.Printf("ns_per_op=%d%s\n", r.per.Nanoseconds(), r.extra)
	})
}

func usage(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

// fail reports err, kills the children still alive (so that none is left
// waiting on an object for ever) and exits 1, before any number is printed.
func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	for _, p := range mp.ActiveChildren() {
		p.Kill()
	}
	os.Exit(1)
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

// start starts p, or fails.
func start(p *mp.Process) {
	if err := p.Start(); err != nil {
		fail(err)
	}
}

// checkExits fails unless every one of ps, all joined, exited with 0. The
// shapes call it after their clock has stopped.
func checkExits(ps ...*mp.Process) {
	for _, p := range ps {
		if code, ok := p.ExitCode(); !ok || code != 0 {
			fail(fmt.Errorf("%s ended with exit code %d (stopped: %v)", p.Name(), code, ok))
		}
	}
}

// spawn: n processes with an empty target started and joined one after
// another; per op = one NewProcess+Start+Join.
func spawn(n, _ int) result {
	ps := make([]*mp.Process, n)
	t := time.Now()
	for i := range ps {
		ps[i] = mp.NewProcess(noop)
		start(ps[i])
		must(ps[i].Join())
	}
	per := time.Since(t) / time.Duration(n)
	checkExits(ps...)
	return result{per: per}
}

// firstChild sends its wall clock, taken first thing, to q.
func firstChild(q *mp.Queue) error {
	now := time.Now().UnixNano()
	return q.Put(now)
}

// first: n times, the wall clock just before Start and the wall clock the
// child's target reads first thing (sent back through a Queue); the child
// is joined before the next. Per op = the mean difference: how long a
// start takes until the child's code runs.
func first(n, _ int) result {
	q := mp.NewQueue(0)
	var total int64
	ps := make([]*mp.Process, n)
	for i := range ps {
		ps[i] = mp.NewProcess(firstChild, mp.Args(q))
		before := time.Now().UnixNano()
		start(ps[i])
		var childNow int64
		must(q.Get(&childNow))
		must(ps[i].Join())
		total += childNow - before
	}
	checkExits(ps...)
	return result{per: time.Duration(total / int64(n))}
}

// spawn8: n times, 8 processes with an empty target started, then all 8
// joined; per op = one batch of 8.
func spawn8(n, _ int) result {
	ps := make([]*mp.Process, 0, 8*n)
	t := time.Now()
	for range n {
		batch := make([]*mp.Process, 8)
		for j := range batch {
			batch[j] = mp.NewProcess(noop)
			start(batch[j])
		}
		for _, p := range batch {
			must(p.Join())
		}
		ps = append(ps, batch...)
	}
	per := time.Since(t) / time.Duration(n)
	checkExits(ps...)
	return result{per: per}
}

// aliveChild tells MainProcess it runs, then waits for go.
func aliveChild(ready *mp.Semaphore, goEvent *mp.Event) error {
	if err := ready.Release(); err != nil {
		return err
	}
	goEvent.Wait(-1)
	return nil
}

// aliveHold is how long alive keeps its children alive once all run (the
// same in bench.py).
const aliveHold = time.Second

// alive: n children started one after another, each of which waits on one
// Event, so that all n are alive at once; per op = the time to create and
// start all n, divided by n. Then MainProcess waits until every child
// runs (each releases a Semaphore), keeps them all alive for aliveHold
// while the harness samples their memory from /proc, sets the Event and
// joins them all.
func alive(n, _ int) result {
	ready := mp.NewSemaphore(0)
	goEvent := mp.NewEvent()
	ps := make([]*mp.Process, n)
	t := time.Now()
	for i := range ps {
		ps[i] = mp.NewProcess(aliveChild, mp.Args(ready, goEvent))
		start(ps[i])
	}
	per := time.Since(t) / time.Duration(n)
	for range n {
		must(ready.Acquire())
	}
	time.Sleep(aliveHold) // all alive: the harness samples their memory
	goEvent.Set()
	for _, p := range ps {
		must(p.Join())
	}
	checkExits(ps...)
	return result{per: per, extra: fmt.Sprintf(" alive=%d", n)}
}
