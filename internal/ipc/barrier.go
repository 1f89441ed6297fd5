package ipc

import (
	"context"
	"fmt"
	"time"
)

// generation states of a Barrier.
const (
	genFilling  = iota // waiting for parties
	genAction          // every party arrived; the action is running
	genReleased        // tripped: every waiter returns its index
	genBroken          // broken: every waiter gets ErrBroken
)

// generation is one trip of a Barrier.
type generation struct {
	state     int
	count     int            // parties currently in this generation
	used      map[int]bool   // used[i]: index i is taken by a waiter (sized by waiters, not parties)
	members   map[int32]int  // process -> calls waiting in this generation
	withdrawn map[int32]bool // processes whose wait was cancelled here
	actionBy  int32          // the process running the action (genAction)
	n         uint64         // the generation's number, 1 for the barrier's first
}

func newGeneration(parties int) *generation {
	return &generation{used: make(map[int]bool), members: make(map[int32]int)}
}

// take gives who the smallest free index. Without cancelled waiters that
// is the arrival order, as CPython's `index = self._count`.
func (g *generation) take(who int32) int {
	i := 0
	for g.used[i] {
		i++
	}
	g.used[i] = true
	g.count++
	g.members[who]++
	return i
}

// leave gives back the index of a cancelled waiter.
func (g *generation) leave(who int32, index int) {
	delete(g.used, index)
	g.count--
	if g.members[who]--; g.members[who] == 0 {
		delete(g.members, who)
	}
	if g.withdrawn == nil {
		g.withdrawn = make(map[int32]bool)
	}
	g.withdrawn[who] = true
}

// Barrier is multiprocessing.Barrier (CPython's threading.Barrier logic).
// Wait returns an index distinct within a generation: the first arriver
// gets 0 and the last parties-1 (threading.py: `index = self._count;
// self._count += 1`). The last arriver trips the barrier, or, when the
// barrier has an action, is told to run it and the generation is released
// only when it reports back with ActionDone.
type Barrier struct {
	m         monitor
	parties   int
	timeout   time.Duration // default for Wait; negative: none
	hasAction bool
	gen       *generation // current generation
	made      uint64      // generations made so far
	action    *generation // generation waiting for ActionDone, or nil
}

var _ Object = (*Barrier)(nil)

// NewBarrier returns a barrier for parties processes. timeout is the
// default for Wait calls that give none (negative: no default). hasAction
// makes the last arriver of each generation run the action. parties < 1
// is ErrValue.
func NewBarrier(parties int, timeout time.Duration, hasAction bool) (*Barrier, error) {
	if parties < 1 {
		return nil, fmt.Errorf("%w: parties must be >= 1, not %d", ErrValue, parties)
	}
	b := &Barrier{parties: parties, timeout: timeout, hasAction: hasAction}
	b.next()
	return b, nil
}

// next starts the barrier's next generation.
func (b *Barrier) next() {
	b.made++
	b.gen = newGeneration(b.parties)
	b.gen.n = b.made
}

// Kind returns "barrier".
func (b *Barrier) Kind() string { return "barrier" }

// Inherit does nothing: a barrier holds no per-process resource.
func (b *Barrier) Inherit(parent, child int32) {}

// ProcessExited breaks the barrier if who was waiting in the current
// generation (or its wait there was cancelled and not replaced by another
// arrival): the dead process can never arrive again, so the others would
// wait forever. It also breaks it if who was running the action.
func (b *Barrier) ProcessExited(who int32) {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	b.m.broadcast()
	g := b.gen
	if g.state == genFilling && (g.members[who] > 0 || g.withdrawn[who]) {
		b.breakGen(g)
	}
	if a := b.action; a != nil && a.actionBy == who {
		b.action = nil
		b.breakGen(a)
	}
}

// Wait waits until parties processes have called Wait, then returns this
// caller's index. timeout (negative: the barrier's default, if any, else
// forever; zero: do not block) bounds the wait; when it runs out the
// barrier breaks and every waiter, this one included, gets ErrBroken, as
// in CPython. runAction is true for the caller that must run the barrier's
// action and then call ActionDone; the others stay blocked until it does.
//
// A waiter whose ctx is cancelled gives its slot back (the barrier does not
// break unless the process has exited, see ProcessExited). While an action
// runs, new callers wait for that generation to finish first and waiters'
// timeouts no longer break it (CPython holds the condition's lock during
// the action).
func (b *Barrier) Wait(ctx context.Context, who int32, timeout time.Duration) (index int, runAction bool, err error) {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	if ended(ctx) {
		return 0, false, ErrExited
	}
	// CPython's _enter: block while the previous generation drains.
	if err := b.m.await(ctx, b, -1, func() bool { return b.gen.state != genAction }); err != nil {
		return 0, false, err
	}
	g := b.gen
	if g.state == genBroken {
		return 0, false, fmt.Errorf("barrier wait: %w", ErrBroken)
	}
	index = g.take(who)
	callerOf(ctx).Seq(g.n)
	if g.count == b.parties {
		if b.hasAction {
			g.state = genAction
			g.actionBy = who
			b.action = g
			return index, true, nil
		}
		b.release(g)
		return index, false, nil
	}

	if timeout < 0 {
		timeout = b.timeout
	}
	done := func() bool { return g.state == genReleased || g.state == genBroken }
	err = b.m.await(ctx, b, timeout, done)
	if err == errTimedOut {
		if g.state == genFilling {
			b.breakGen(g)
			return 0, false, fmt.Errorf("barrier wait timed out: %w", ErrBroken)
		}
		// The generation is complete and its action is running.
		err = b.m.await(ctx, b, -1, done)
	}
	if err != nil {
		if g.state == genFilling {
			g.leave(who, index)
			if ended(ctx) {
				b.breakGen(g)
			}
		}
		return 0, false, err
	}
	if g.state == genBroken {
		return 0, false, fmt.Errorf("barrier wait: %w", ErrBroken)
	}
	return index, false, nil
}

// ActionDone reports that who finished the barrier action Wait asked it to
// run. ok=false (the action raised) breaks the barrier; otherwise the
// generation is released. ErrNotOwner if who has no action pending;
// ErrBroken if the barrier was aborted or reset while the action ran.
func (b *Barrier) ActionDone(who int32, ok bool) error {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	g := b.action
	if g == nil || g.actionBy != who {
		return fmt.Errorf("%w: no barrier action pending for this process", ErrNotOwner)
	}
	b.action = nil
	if g.state != genAction {
		return fmt.Errorf("barrier action: %w", ErrBroken)
	}
	if ok {
		b.release(g)
	} else {
		b.breakGen(g)
	}
	return nil
}

// Abort breaks the barrier: current and future waiters get ErrBroken
// until Reset.
func (b *Barrier) Abort() {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	b.breakGen(b.gen)
}

// Reset breaks the current generation (its waiters get ErrBroken) and
// makes the barrier usable again.
func (b *Barrier) Reset() {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	b.breakGen(b.gen)
	b.next()
	b.m.broadcast()
}

// DefaultTimeout is the timeout of a Wait that gives none (negative: none).
func (b *Barrier) DefaultTimeout() time.Duration { return b.timeout }

// Parties returns the number of processes needed to trip the barrier.
func (b *Barrier) Parties() int { return b.parties }

// NWaiting returns the number of processes waiting in the current
// generation (0 when broken), like CPython's n_waiting.
func (b *Barrier) NWaiting() int {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	if g := b.gen; g.state == genFilling || g.state == genAction {
		return g.count
	}
	return 0
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	return b.gen.state == genBroken
}

// release trips g and starts the next generation. b.m.mu held.
func (b *Barrier) release(g *generation) {
	g.state = genReleased
	if b.gen == g {
		b.next()
	}
	b.m.broadcast()
}

// breakGen breaks g unless it already tripped. b.m.mu held.
func (b *Barrier) breakGen(g *generation) {
	if g.state == genReleased || g.state == genBroken {
		return
	}
	g.state = genBroken
	b.m.broadcast()
}
