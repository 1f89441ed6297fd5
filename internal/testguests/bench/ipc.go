//go:build wasip1

package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func init() {
	mp.Register(echo, pipeSink, queueSink, barrierChild, lockChild, square)
}

// echo sends back every message it receives, n times.
func echo(conn *mp.Conn, n int) error {
	for range n {
		b, err := conn.RecvBytes()
		if err != nil {
			return err
		}
		if err := conn.SendBytes(b); err != nil {
			return err
		}
	}
	return nil
}

// pipeSink tells MainProcess it runs, then receives n messages of size
// bytes from r.
func pipeSink(r *mp.Conn, n, size int, ready *mp.Semaphore) error {
	if err := ready.Release(); err != nil {
		return err
	}
	for i := range n {
		b, err := r.RecvBytes()
		if err != nil {
			return err
		}
		if len(b) != size {
			return fmt.Errorf("message %d has %d bytes, not %d", i, len(b), size)
		}
	}
	return nil
}

// queueSink tells MainProcess it runs, then takes n []byte values of size
// bytes from q.
func queueSink(q *mp.Queue, n, size int, ready *mp.Semaphore) error {
	if err := ready.Release(); err != nil {
		return err
	}
	var b []byte
	for i := range n {
		if err := q.Get(&b); err != nil {
			return err
		}
		if len(b) != size {
			return fmt.Errorf("message %d has %d bytes, not %d", i, len(b), size)
		}
	}
	return nil
}

// barrierChild waits at b n times.
func barrierChild(b *mp.Barrier, n int) error {
	for range n {
		if _, err := b.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// lockChild tells MainProcess it runs, waits for start, then acquires and
// releases l n times.
func lockChild(l *mp.Lock, start *mp.Event, n int, ready *mp.Semaphore) error {
	if err := ready.Release(); err != nil {
		return err
	}
	start.Wait(-1)
	for range n {
		if err := l.Acquire(); err != nil {
			return err
		}
		if err := l.Release(); err != nil {
			return err
		}
	}
	return nil
}

func square(x int) int { return x * x }

// pingpong: n round trips of 64 bytes over a duplex Pipe with a child that
// echoes them; the first one (the child is up) is not timed; per op = one
// round trip.
func pingpong(n, _ int) result {
	a, b := mp.Pipe(true)
	p := mp.NewProcess(echo, mp.Args(b, n))
	start(p)
	must(b.Close()) // the child's: Recv sees EOF if the child dies
	msg := bytes.Repeat([]byte("x"), 64)
	roundTrip := func() {
		must(a.SendBytes(msg))
		got, err := a.RecvBytes()
		must(err)
		if len(got) != len(msg) {
			fail(fmt.Errorf("pingpong: %d bytes came back, not %d", len(got), len(msg)))
		}
	}
	roundTrip() // the child is up
	t := time.Now()
	for range n - 1 {
		roundTrip()
	}
	per := time.Since(t) / time.Duration(n-1)
	must(p.Join())
	checkExits(p)
	return result{per: per}
}

// throughput is the per-op result of n messages of size bytes in d, with
// its mib_per_s.
func throughput(d time.Duration, n, size int) result {
	mib := float64(n) * float64(size) / (1 << 20)
	return result{
		per:   d / time.Duration(n),
		extra: fmt.Sprintf(" mib_per_s=%.3f", mib/d.Seconds()),
	}
}

// pipe: n messages of size bytes sent with SendBytes through a one-way
// Pipe to a child that receives them with RecvBytes; per op = one message
// (stream).
func pipe(n, size int) result {
	r, w := mp.Pipe(false)
	ready := mp.NewSemaphore(0)
	p := mp.NewProcess(pipeSink, mp.Args(r, n, size, ready))
	start(p)
	must(r.Close()) // the child's: Send fails if the child dies
	return stream(p, ready, n, size, w.SendBytes)
}

// queue: n []byte values of size bytes put on a Queue and taken by a
// child; per op = one message (stream).
func queue(n, size int) result {
	q := mp.NewQueue(0)
	ready := mp.NewSemaphore(0)
	p := mp.NewProcess(queueSink, mp.Args(q, n, size, ready))
	start(p)
	return stream(p, ready, n, size, func(msg []byte) error { return q.Put(msg) })
}

// stream sends n messages of size bytes with send to the started child p,
// timed from the first send (once p said it runs, on ready) to p's join.
func stream(p *mp.Process, ready *mp.Semaphore, n, size int, send func([]byte) error) result {
	must(ready.Acquire())
	msg := bytes.Repeat([]byte("x"), size)
	t := time.Now()
	for range n {
		must(send(msg))
	}
	must(p.Join())
	d := time.Since(t)
	checkExits(p)
	return throughput(d, n, size)
}

// barrier: a Barrier(4) of MainProcess and 3 children, each of which
// waits n times; timed in MainProcess from the return of its first wait
// (all four are running) to the return of its last; per op = one
// generation.
func barrier(n, _ int) result {
	b := mp.NewBarrier(4)
	ps := make([]*mp.Process, 3)
	for i := range ps {
		ps[i] = mp.NewProcess(barrierChild, mp.Args(b, n))
		start(ps[i])
	}
	_, err := b.Wait()
	must(err)
	t := time.Now()
	for range n - 1 {
		_, err := b.Wait()
		must(err)
	}
	per := time.Since(t) / time.Duration(n-1)
	for _, p := range ps {
		must(p.Join())
	}
	checkExits(ps...)
	return result{per: per}
}

// lock: 4 children wait on an Event, then each acquires and releases one
// Lock n times; timed from the Event's Set (all four are running) to the
// join of the four; per op = one acquire+release.
func lock(n, _ int) result {
	l := mp.NewLock()
	startEvent := mp.NewEvent()
	ready := mp.NewSemaphore(0)
	ps := make([]*mp.Process, 4)
	for i := range ps {
		ps[i] = mp.NewProcess(lockChild, mp.Args(l, startEvent, n, ready))
		start(ps[i])
	}
	for range ps {
		must(ready.Acquire())
	}
	t := time.Now()
	startEvent.Set()
	for _, p := range ps {
		must(p.Join())
	}
	per := time.Since(t) / time.Duration(4*n)
	checkExits(ps...)
	return result{per: per}
}

// pool: n times, Pool(4) created, Map(square, 0..99) (checked), closed and
// joined; per op = one pool.
func pool(n, _ int) result {
	xs := make([]int, 100)
	for i := range xs {
		xs[i] = i
	}
	t := time.Now()
	for range n {
		pl := mp.NewPool(4)
		ys, err := mp.Map[int](pl, square, xs)
		must(err)
		if len(ys) != len(xs) || ys[99] != 99*99 {
			fail(fmt.Errorf("pool: map returned %d results, not 100 squares", len(ys)))
		}
		pl.Close()
		must(pl.Join())
	}
	return result{per: time.Since(t) / time.Duration(n)}
}

// nullcall is n calls of the cheapest host function (event_is_set): the
// round trip of a host call and nothing else.
func nullcall(n, _ int) result {
	e := mp.NewEvent()
	t := time.Now()
	for range n {
		e.IsSet()
	}
	return result{per: time.Since(t) / time.Duration(n)}
}
