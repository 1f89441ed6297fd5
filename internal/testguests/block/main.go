//go:build wasip1

// Command block is the guest of the host's tests of who waits on what
// (host.Supervisor.Waits): each scenario, chosen by the first argument,
// leaves its processes blocked for ever, each in one kind of wait, so that
// a test can list the waits through the real host and then end the run.
//
//	sandbox run block.wasm -- lock
//
// Every scenario prints "blocking" once its processes are set up; an
// unknown scenario exits with code 2. The scenarios "sleeper", "busy" and
// "timed" are not deadlocks: every process waits at some moment, but one
// of them sleeps, computes, or waits with a timeout, and the run ends by
// itself with "done".
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func main() {
	mp.Register(sendMany, waitEvent, takeLock, takeRLock, waitBarrier, sleepThenSet, spinThenPut, takeBoth)
	mp.Main(func() {
		if len(os.Args) < 2 {
			fmt.Fprintln(os.Stderr, "usage: block SCENARIO")
			os.Exit(2)
		}
		f, ok := scenarios[os.Args[1]]
		if !ok {
			fmt.Fprintf(os.Stderr, "block: unknown scenario %q\n", os.Args[1])
			os.Exit(2)
		}
		f()
	})
}

var scenarios = map[string]func(){
	// MainProcess receives on a one-way pipe whose send end only its
	// child holds; the child waits for an event nobody sets.
	"recv": func() {
		r, w := mp.Pipe(false)
		start(waitEvent, mp.NewEvent())
		check(w.Close())
		fmt.Println("blocking")
		var v int
		check(r.Recv(&v))
	},
	// A child sends 1,000 messages of 1 KiB on a pipe that MainProcess
	// reads only after joining it: with a direct pipe (whose socket holds
	// about 200 KiB) the child waits in send, MainProcess in join. (The
	// host's own pipes take every message: then the run ends, "done".)
	"send-full": func() {
		r, w := mp.Pipe(false)
		p := start(sendMany, w, 1000)
		check(w.Close())
		fmt.Println("blocking")
		check(p.Join())
		var b []byte
		for range 1000 {
			b, _ = r.RecvBytes()
		}
		fmt.Println("done", len(b))
	},
	// MainProcess gets from an empty queue.
	"queue-get": func() {
		q := mp.NewQueue(0)
		fmt.Println("blocking")
		var v int
		check(q.Get(&v))
	},
	// MainProcess puts into a full queue.
	"queue-put": func() {
		q := mp.NewQueue(1)
		check(q.Put(1))
		fmt.Println("blocking")
		check(q.Put(2))
	},
	// MainProcess joins a joinable queue whose item nobody takes.
	"queue-join": func() {
		q := mp.NewJoinableQueue(0)
		check(q.Put(1))
		fmt.Println("blocking")
		check(q.Join())
	},
	// MainProcess and a child wait at a barrier of three.
	"barrier": func() {
		b := mp.NewBarrier(3)
		start(waitBarrier, b)
		fmt.Println("blocking")
		_, err := b.Wait()
		check(err)
	},
	// MainProcess holds a Lock and joins its child, which waits for it.
	"lock": func() {
		l := mp.NewLock()
		check(l.Acquire())
		p := start(takeLock, l)
		fmt.Println("blocking")
		check(p.Join())
	},
	// The same with an RLock, which only its owner may release.
	"rlock": func() {
		l := mp.NewRLock()
		check(l.Acquire())
		p := start(takeRLock, l)
		fmt.Println("blocking")
		check(p.Join())
	},
	// MainProcess acquires a Lock it holds (not recursive: for ever).
	"lock-self": func() {
		l := mp.NewLock()
		check(l.Acquire())
		fmt.Println("blocking")
		check(l.Acquire())
	},
	// MainProcess acquires a semaphore of value 0.
	"semaphore": func() {
		s := mp.NewSemaphore(0)
		fmt.Println("blocking")
		check(s.Acquire())
	},
	// MainProcess waits for an event nobody sets.
	"event": func() {
		e := mp.NewEvent()
		fmt.Println("blocking")
		e.Wait(-1)
	},
	// MainProcess waits on a condition nobody notifies.
	"condition": func() {
		c := mp.NewCondition(nil)
		check(c.Acquire())
		fmt.Println("blocking")
		_, err := c.Wait(-1)
		check(err)
	},
	// MainProcess returns while its child waits for ever: the host's
	// end-of-process duty waits for the child.
	"exit": func() {
		start(waitEvent, mp.NewEvent())
		fmt.Println("blocking")
	},

	// MainProcess waits for an event its child sets after sleeping 1 s.
	"sleeper": func() {
		e := mp.NewEvent()
		p := start(sleepThenSet, e)
		fmt.Println("blocking")
		e.Wait(-1)
		check(p.Join())
		fmt.Println("done")
	},
	// MainProcess gets from a queue its child puts to after computing
	// for 1 s.
	"busy": func() {
		q := mp.NewQueue(0)
		p := start(spinThenPut, q)
		fmt.Println("blocking")
		var v int
		check(q.Get(&v))
		check(p.Join())
		fmt.Println("done")
	},
	// The child waits for ever for an event; MainProcess waits 1 s for a
	// queue, then sets the event.
	"timed": func() {
		e, q := mp.NewEvent(), mp.NewQueue(0)
		p := start(waitEvent, e)
		fmt.Println("blocking")
		var v int
		if err := q.GetTimeout(&v, time.Second); !errors.Is(err, mp.ErrEmpty) {
			check(fmt.Errorf("get with a timeout from an empty queue: %v", err))
		}
		e.Set()
		check(p.Join())
		fmt.Println("done")
	},
}

// Two children take two RLocks in opposite orders and deadlock; MainProcess
// sleeps on (in the guest, not in a call): part of the run is stuck.
var _ = register("partial", func() {
	l1, l2 := mp.NewRLock(), mp.NewRLock()
	e1, e2 := mp.NewEvent(), mp.NewEvent()
	start(takeBoth, l1, l2, e1, e2)
	start(takeBoth, l2, l1, e2, e1)
	fmt.Println("blocking")
	for {
		time.Sleep(time.Hour)
	}
})

func register(name string, f func()) bool {
	scenarios[name] = f
	return true
}

// takeBoth takes first, says so with mine, waits for the other process to
// have taken its first lock (theirs), then takes second.
func takeBoth(first, second *mp.RLock, mine, theirs *mp.Event) {
	check(first.Acquire())
	mine.Set()
	theirs.Wait(-1)
	check(second.Acquire())
}

// Hostile scenarios, each stopped by a limit of the run.
var _ = register("hoard", func() { // puts 1 MiB messages nobody reads
	q := mp.NewQueue(0)
	fmt.Println("blocking")
	for msg := make([]byte, 1<<20); ; {
		check(q.Put(msg))
	}
})

var _ = register("hoard-empty", func() { // puts empty messages nobody reads
	q := mp.NewQueue(0)
	fmt.Println("blocking")
	for {
		check(q.Put([]byte{}))
	}
})

var _ = register("objects", func() { // creates objects without end
	fmt.Println("blocking")
	for {
		mp.NewEvent()
	}
})

var _ = register("huge", func() { // one message of 32 MiB
	q := mp.NewQueue(0)
	fmt.Println("blocking")
	check(q.Put(make([]byte, 32<<20)))
})

var _ = register("spin-closed", func() { // closes its stdout, then spins
	fmt.Println("blocking")
	os.Stdout.Close()
	for n := 0; ; n++ {
	}
})

func sleepThenSet(e *mp.Event) {
	time.Sleep(time.Second)
	e.Set()
}

func spinThenPut(q *mp.Queue) {
	n := 0
	for t := time.Now(); time.Since(t) < time.Second; {
		n++
	}
	check(q.Put(n))
}

func waitEvent(e *mp.Event) { e.Wait(-1) }

func takeLock(l *mp.Lock) { check(l.Acquire()) }

func takeRLock(l *mp.RLock) { check(l.Acquire()) }

func waitBarrier(b *mp.Barrier) {
	_, err := b.Wait()
	check(err)
}

// sendMany sends n messages of 1 KiB on w.
func sendMany(w *mp.Conn, n int) {
	b := make([]byte, 1024)
	for range n {
		check(w.SendBytes(b))
	}
}

func start(target any, args ...any) *mp.Process {
	p := mp.NewProcess(target, mp.Args(args...))
	check(p.Start())
	return p
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "block: %v\n", err)
		os.Exit(3)
	}
}
