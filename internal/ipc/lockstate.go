package ipc

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

// lockState is the state of a Lock, an RLock or a Semaphore: a lock word
// (package lockword) and an RLock's recursion level, in the object itself
// or, once Share is called, in memory the host shares with the runners,
// which then change the word too (host/directlock.go). Every change is
// atomic on the word; the object's monitor only puts the host's own
// waiters to sleep, and lockword's flags say who must be woken. The word
// is read, too, with the monitor's mutex held: Unshare moves it under
// that mutex, and the shared memory may go once it has.
type lockState struct {
	own, ownLevel atomic.Uint32
	word, level   *atomic.Uint32 // nil: own, ownLevel
	wake          func()         // wakes the runners sleeping on a shared word
}

func (s *lockState) w() *atomic.Uint32 {
	if s.word == nil {
		return &s.own
	}
	return s.word
}

func (s *lockState) l() *atomic.Uint32 {
	if s.level == nil {
		return &s.ownLevel
	}
	return s.level
}

// share moves the state to word and level (zero) and keeps wake for the
// releases the host makes. It is called before anyone else uses the
// object.
func (s *lockState) share(word, level *atomic.Uint32, wake func()) {
	word.Store(s.w().Load())
	level.Store(s.l().Load())
	s.word, s.level, s.wake = word, level, wake
}

// unshare takes the state back from the shared memory, which is about to
// go: the run is over.
func (s *lockState) unshare() {
	if s.word != nil {
		s.own.Store(s.word.Load())
		s.ownLevel.Store(s.level.Load())
		s.word, s.level, s.wake = nil, nil, nil
	}
}

// woken wakes the sleepers a release found: the runners (through wake)
// and the host's own (m's broadcast). m.mu held.
func (s *lockState) woken(m *monitor, sleepers uint32) {
	if sleepers&lockword.RunnersWait != 0 && s.wake != nil {
		s.wake()
	}
	m.broadcast()
}

// exited wakes every sleeper, runners too, as a process ends: a runner
// killed between its release of the word (which cleared RunnersWait) and
// its futex wake, or after a release woke it alone and before it took the
// word (lockword.Take), would otherwise leave the others asleep on a free
// word.
// m.mu held.
func (s *lockState) exited(m *monitor) { s.woken(m, lockword.RunnersWait) }

// lockBase is what a Lock, an RLock and a Semaphore share: the monitor
// the host's own waiters sleep on, and the state, with the methods of
// Shared that do not depend on the kind.
type lockBase struct {
	m    monitor
	st   lockState
	kind lockword.Kind // what the word holds (the zero value: a holder)
}

// WordKind says what the word holds: a holder or a count.
func (b *lockBase) WordKind() lockword.Kind { return b.kind }

// Available reports whether an acquire would succeed now: a free lock, a
// positive count.
func (b *lockBase) Available() bool {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	return lockword.Available(b.kind, b.st.w().Load())
}

// HeldBy reports whether process who holds the lock (never, for a
// semaphore: it has no owner).
func (b *lockBase) HeldBy(who int32) bool {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	return b.heldBy(who)
}

// heldBy is HeldBy with b.m.mu held.
func (b *lockBase) heldBy(who int32) bool {
	return b.kind == lockword.Holder && who > 0 && lockword.Value(b.st.w().Load()) == uint32(who)
}

// acquire waits up to timeout to take the word for who (a holder) or one
// of its count, with b.m.mu held; obj is the object b is part of (the
// Caller is told it sleeps on obj). It returns false when the time runs
// out, ErrExited when who's context ends first.
func (b *lockBase) acquire(ctx context.Context, obj Object, who int32, timeout time.Duration) (bool, error) {
	h, err := holder(who)
	if err != nil {
		return false, err
	}
	if b.kind == lockword.Count {
		h = 0
	}
	waiting := lockword.HostWaits
	if timeout == 0 {
		waiting = 0
	}
	took := false
	err = b.m.await(ctx, obj, timeout, func() bool {
		if ended(ctx) {
			return true
		}
		took, _ = lockword.TryAcquire(b.st.w(), b.kind, h, waiting)
		return took
	})
	switch {
	case took:
		return true, nil
	case err == errTimedOut:
		return false, nil
	case err != nil:
		return false, err
	}
	return false, ErrExited
}

// Share moves the state into shared memory (see Shared).
func (b *lockBase) Share(word, level *atomic.Uint32, wake func()) { b.st.share(word, level, wake) }

// Unshare takes the state back from shared memory (see Shared).
func (b *lockBase) Unshare() {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	b.st.unshare()
}

// Released wakes the host's waiters after a runner's release.
func (b *lockBase) Released() {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	b.m.broadcast()
}

// holder is who as a lock word holds it.
func holder(who int32) (uint32, error) {
	if who <= 0 || who > lockword.MaxValue {
		return 0, fmt.Errorf("%w: process handle %d does not fit a lock", ErrValue, who)
	}
	return uint32(who), nil
}

// Shared is a Lock, an RLock or a Semaphore whose state the host may
// share with the runners.
type Shared interface {
	Object
	// Share moves the state into word and level, memory the runners
	// change too; wake wakes the runners sleeping on word.
	Share(word, level *atomic.Uint32, wake func())
	// Unshare takes the state back into the object: the shared memory is
	// about to go, and nobody changes the words any more.
	Unshare()
	// WordKind says what the word holds: a holder or a count.
	WordKind() lockword.Kind
	// MaxValue is the count a release cannot pass (semaphores).
	MaxValue() int
	// Released wakes the host's sleepers: a runner released the word and
	// found lockword.HostWaits set.
	Released()
	// Available reports whether an acquire would succeed now.
	Available() bool
	// HeldBy reports whether process who holds the lock.
	HeldBy(who int32) bool
}

var (
	_ Shared = (*Lock)(nil)
	_ Shared = (*RLock)(nil)
	_ Shared = (*Semaphore)(nil)
)
