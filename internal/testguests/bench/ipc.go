//go:build wasip1

package main

import (
	"bytes"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func init() { mp.Register(echo, consume, square) }

// echo sends back every message it receives, n times.
func echo(conn *mp.Conn, n int) error {
	for i := 0; i < n; i++ {
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

// consume takes n items from q.
func consume(q *mp.Queue, n int) error {
	var b []byte
	for i := 0; i < n; i++ {
		if err := q.Get(&b); err != nil {
			return err
		}
	}
	return nil
}

func square(x int) int { return x * x }

// ipcShape runs a shape that needs IPC objects; -1 for an unknown shape.
func ipcShape(shape string, n int) time.Duration {
	switch shape {
	case "pingpong":
		// n round trips of 64 bytes over a duplex pipe; per op = one round trip.
		a, b := mp.Pipe(true)
		p := mp.NewProcess(echo, mp.Args(b, n))
		must(p.Start())
		msg := bytes.Repeat([]byte("x"), 64)
		roundTrip := func() {
			must(a.SendBytes(msg))
			_, err := a.RecvBytes()
			must(err)
		}
		roundTrip() // the child is up
		start := time.Now()
		for i := 0; i < n-1; i++ {
			roundTrip()
		}
		per := time.Since(start) / time.Duration(n-1)
		must(p.Join())
		return per
	case "queue":
		// n MiB as 4 KiB messages to a consumer; per op = per MiB.
		q := mp.NewQueue(0)
		count := n * 256
		p := mp.NewProcess(consume, mp.Args(q, count))
		msg := bytes.Repeat([]byte("x"), 4096)
		must(p.Start())
		start := time.Now() // as bench.py: from the return of start()
		for i := 0; i < count; i++ {
			must(q.Put(msg))
		}
		must(p.Join())
		return time.Since(start) / time.Duration(n)
	case "pool":
		// Pool(4) created, map(square, range(100)), closed and joined.
		xs := make([]int, 100)
		for i := range xs {
			xs[i] = i
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			pool := mp.NewPool(4)
			_, err := mp.Map[int](pool, square, xs)
			must(err)
			pool.Close()
			must(pool.Join())
		}
		return time.Since(start) / time.Duration(n)
	}
	return -1
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
