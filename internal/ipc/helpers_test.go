package ipc

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// long bounds every wait of a test for something that must happen; it is
// never reached when the code is right.
const long = 10 * time.Second

// short is a timeout that is meant to expire.
const short = 20 * time.Millisecond

// async runs f in a goroutine and delivers its result.
func async[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// await returns the value ch delivers, failing the test if it takes too long.
func await[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(long):
		t.Fatalf("%s: no result after %v", what, long)
		panic("unreachable")
	}
}

// pending fails the test if ch already has a result.
func pending[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: returned %v, want it still blocked", what, v)
	default:
	}
}

// eventually polls cond until it is true, failing the test at the deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after %v", what, long)
		}
		time.Sleep(time.Millisecond) // poll interval, not synchronisation
	}
}

// res2 and res3 carry multiple results through a channel.
type res2[A, B any] struct {
	a A
	b B
}

type res3[A, B, C any] struct {
	a A
	b B
	c C
}

// procTable plays the host's process table for the objects: it says which
// processes have ended, and counts the sleeps and wakes calls report.
type procTable struct {
	mu     sync.Mutex
	ended  map[int32]bool
	sleeps map[int32]int
	wakes  map[int32]int
	on     map[int32][]string // kind and timeout of each sleep
	seqs   map[int32][]uint64 // what Seq told, in order
}

func newProcTable() *procTable {
	return &procTable{ended: map[int32]bool{}, sleeps: map[int32]int{}, wakes: map[int32]int{}, on: map[int32][]string{}, seqs: map[int32][]uint64{}}
}

// end marks who as ended.
func (pt *procTable) end(who int32) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.ended[who] = true
}

// ctx returns a context for calls made by who.
func (pt *procTable) ctx(parent context.Context, who int32) context.Context {
	return WithCaller(parent, tableCaller{pt, who})
}

// counts returns how often who's calls went to sleep and woke.
func (pt *procTable) counts(who int32) (sleeps, wakes int) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.sleeps[who], pt.wakes[who]
}

type tableCaller struct {
	pt  *procTable
	who int32
}

func (c tableCaller) Ended() bool {
	c.pt.mu.Lock()
	defer c.pt.mu.Unlock()
	return c.pt.ended[c.who]
}

func (c tableCaller) Sleeping(obj Object, timeout time.Duration) {
	c.pt.mu.Lock()
	defer c.pt.mu.Unlock()
	c.pt.sleeps[c.who]++
	c.pt.on[c.who] = append(c.pt.on[c.who], fmt.Sprintf("%s %v", obj.Kind(), timeout))
}

// sleptOn returns the kind and timeout of each of who's sleeps.
func (pt *procTable) sleptOn(who int32) []string {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return append([]string(nil), pt.on[who]...)
}

func (c tableCaller) Seq(n uint64) {
	c.pt.mu.Lock()
	defer c.pt.mu.Unlock()
	c.pt.seqs[c.who] = append(c.pt.seqs[c.who], n)
}

// seqsOf returns the numbers who's calls were given (Caller.Seq), and
// forgets them.
func (pt *procTable) seqsOf(who int32) []uint64 {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	s := pt.seqs[who]
	delete(pt.seqs, who)
	return s
}

func (c tableCaller) Woke() {
	c.pt.mu.Lock()
	defer c.pt.mu.Unlock()
	c.pt.wakes[c.who]++
}
