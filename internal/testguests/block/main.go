//go:build wasip1

// Command block is the guest of the host's tests of who waits on what
// (host.Supervisor.Waits): each scenario, chosen by the first argument,
// leaves its processes blocked for ever, each in one kind of wait, so that
// a test can list the waits through the real host and then end the run.
//
//	sandbox run block.wasm -- lock
//
// Every scenario prints "blocking" once its processes are set up; an
// unknown scenario exits with code 2.
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func main() {
	mp.Register(waitEvent, takeLock, takeRLock, waitBarrier)
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
}

func waitEvent(e *mp.Event) { e.Wait(-1) }

func takeLock(l *mp.Lock) { check(l.Acquire()) }

func takeRLock(l *mp.RLock) { check(l.Acquire()) }

func waitBarrier(b *mp.Barrier) {
	_, err := b.Wait()
	check(err)
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
