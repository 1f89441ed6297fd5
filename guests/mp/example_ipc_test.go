package mp_test

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// These examples compile everywhere but run only in the sandbox (they
// have no Output comment, so `go test` does not run them). Each shows one
// shared object as a program's main function would use it.

func writer(w *mp.Conn) {
	for i := range 3 {
		w.Send(i)
	}
	w.Close()
}

// A child writes on a one-way pipe and ends; the parent reads until end of
// file. The parent closes its own copy of the write end, or EOF never
// comes.
func ExamplePipe() {
	mp.Register(writer)
	mp.Main(func() {
		r, w := mp.Pipe(false)
		p := mp.NewProcess(writer, mp.Args(w))
		p.Start()
		w.Close()
		for {
			var v int
			if err := r.Recv(&v); errors.Is(err, io.EOF) {
				break
			}
			fmt.Println(v) // 0, 1, 2
		}
		p.Join()
	})
}

func produce(q *mp.Queue, n int) {
	for i := range n {
		q.Put(i)
	}
}

// A bounded queue: Put waits while it is full; GetTimeout gives up with
// ErrEmpty.
func ExampleNewQueue() {
	mp.Register(produce)
	mp.Main(func() {
		q := mp.NewQueue(2)
		p := mp.NewProcess(produce, mp.Args(q, 5))
		p.Start()
		for {
			var v int
			if err := q.GetTimeout(&v, time.Second); errors.Is(err, mp.ErrEmpty) {
				break
			}
			fmt.Println(v)
		}
		p.Join()
	})
}

func consume(q *mp.JoinableQueue) {
	for {
		var job string
		q.Get(&job)
		fmt.Println("done", job)
		q.TaskDone()
	}
}

// A JoinableQueue: Join returns when every job put was marked done.
func ExampleNewJoinableQueue() {
	mp.Register(consume)
	mp.Main(func() {
		q := mp.NewJoinableQueue(0)
		mp.NewProcess(consume, mp.Args(q), mp.Daemon(true)).Start()
		q.Put("a")
		q.Put("b")
		q.Join()
	})
}

func allArrived() { fmt.Println("all arrived") }

func racer(b *mp.Barrier) {
	i, err := b.Wait()
	fmt.Println(mp.CurrentProcess().Name(), i, err)
}

// Three processes meet at a barrier; the last to arrive runs the action
// before any is released.
func ExampleNewBarrier() {
	mp.Register(racer, allArrived)
	mp.Main(func() {
		b := mp.NewBarrier(3, mp.BarrierAction(allArrived), mp.BarrierTimeout(10*time.Second))
		var ps []*mp.Process
		for range 3 {
			p := mp.NewProcess(racer, mp.Args(b))
			p.Start()
			ps = append(ps, p)
		}
		for _, p := range ps {
			p.Join()
		}
	})
}

func printer(l *mp.Lock, i int) {
	l.Acquire()
	defer l.Release()
	fmt.Println("hello world", i)
}

// The lock example of Python's documentation.
func ExampleNewLock() {
	mp.Register(printer)
	mp.Main(func() {
		l := mp.NewLock()
		for i := range 10 {
			mp.NewProcess(printer, mp.Args(l, i)).Start()
		}
		err := mp.NewLock().Release()
		fmt.Println(err) // semaphore or lock released too many times
	})
}

// An RLock may be taken again by the process holding it.
func ExampleNewRLock() {
	mp.Main(func() {
		r := mp.NewRLock()
		r.Acquire()
		r.Acquire()
		fmt.Println(r) // <RLock(MainProcess, 2)>
		r.Release()
		r.Release()
	})
}

// A semaphore lets at most two processes in at once.
func ExampleNewSemaphore() {
	mp.Main(func() {
		s := mp.NewSemaphore(2)
		ok, _ := s.AcquireTimeout(time.Second)
		fmt.Println(ok, s.Value()) // true 1
		s.Release()
		b := mp.NewBoundedSemaphore(1)
		fmt.Println(b.Release()) // semaphore or lock released too many times
	})
}

func waitForGo(e *mp.Event) {
	e.Wait(-1)
	fmt.Println("go!")
}

// Children wait for an event that the parent sets.
func ExampleNewEvent() {
	mp.Register(waitForGo)
	mp.Main(func() {
		e := mp.NewEvent()
		p := mp.NewProcess(waitForGo, mp.Args(e))
		p.Start()
		e.Set()
		p.Join()
	})
}

func waitReady(c *mp.Condition, ns *mp.Namespace) {
	c.Acquire()
	defer c.Release()
	c.WaitFor(func() bool {
		var ready bool
		ns.Get("ready", &ready)
		return ready
	}, -1)
	fmt.Println("ready")
}

// A condition over a shared flag.
func ExampleNewCondition() {
	mp.Register(waitReady)
	mp.Main(func() {
		c := mp.NewCondition(nil)
		ns := mp.Manager().Namespace()
		ns.Set("ready", false)
		p := mp.NewProcess(waitReady, mp.Args(c, ns))
		p.Start()
		c.Acquire()
		ns.Set("ready", true)
		c.NotifyAll()
		c.Release()
		p.Join()
	})
}

func fill(ns *mp.Namespace, d *mp.Dict, l *mp.List) {
	ns.Set("y", "from "+mp.CurrentProcess().Name())
	d.Set(1, "one")
	l.Append(3)
}

// Manager objects shared with a child, printed as Python prints them.
func ExampleManager() {
	mp.Register(fill)
	mp.Main(func() {
		m := mp.Manager()
		ns, d, l := m.Namespace(), m.Dict(), m.List(1, 2)
		ns.Set("x", 1)
		p := mp.NewProcess(fill, mp.Args(ns, d, l))
		p.Start()
		p.Join()
		fmt.Println(ns) // Namespace(x=1, y='from Process-2')
		fmt.Println(d)  // {1: 'one'}
		fmt.Println(l)  // [1, 2, 3]
		var z int
		fmt.Println(ns.Get("z", &z)) // 'Namespace' object has no attribute 'z'
	})
}

func square(x int) int { return x * x }

func checked(x int) (int, error) {
	if x < 0 {
		return 0, errors.New("negative")
	}
	return x * x, nil
}

// A pool of four workers: results in order, in any order, one at a time,
// and a worker's error in the caller.
func ExampleNewPool() {
	mp.Register(square, checked)
	mp.Main(func() {
		pool := mp.NewPool(4)
		defer pool.Terminate()
		xs := []int{1, 2, 3, 4}
		squares, err := mp.Map[int](pool, square, xs)
		fmt.Println(squares, err) // [1 4 9 16] <nil>
		for v, err := range mp.Imap[int](pool, square, xs) {
			fmt.Println(v, err) // 1, 4, 9, 16, in order
		}
		for v, err := range mp.ImapUnordered[int](pool, square, xs) {
			fmt.Println(v, err) // in the order they finish
		}
		_, err = mp.Map[int](pool, checked, []int{1, -1})
		fmt.Println(err) // negative
		r := mp.ApplyAsync[int](pool, square, 7)
		v, err := r.Get(time.Second)
		fmt.Println(v, err) // 49 <nil>
		pool.Close()
		pool.Join()
	})
}
