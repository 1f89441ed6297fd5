package ipc

import (
	"sync/atomic"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

// runnerSide is what a runner does to a shared word (runner/directlock_linux.go),
// done here by the test: lockword's changes, and the host told of a
// release that found its waiters.
type runnerSide struct {
	word, level *atomic.Uint32
	obj         Shared
}

func (r runnerSide) acquire(who uint32) bool {
	ok, _ := lockword.TryAcquire(r.word, r.obj.WordKind(), who, lockword.RunnersWait)
	return ok
}

func (r runnerSide) release() {
	sleepers, ok := lockword.Release(r.word, r.obj.WordKind(), uint32(r.obj.MaxValue()))
	if !ok {
		panic("runner release refused")
	}
	if sleepers&lockword.HostWaits != 0 {
		r.obj.Released()
	}
}

// share shares obj's state with a runnerSide; wakes counts the host's
// futex wakes.
func share(obj Shared) (runnerSide, *atomic.Int32) {
	var word, level atomic.Uint32
	wakes := new(atomic.Int32)
	obj.Share(&word, &level, func() { wakes.Add(1) })
	return runnerSide{&word, &level, obj}, wakes
}

// TestSharedLock: a Lock whose word a runner changes too. The state moves
// into the shared word; a host caller waiting for a lock a runner holds
// takes it when the runner releases it (told by Released); a release by
// the host wakes the runners that sleep on the word; a holder's death
// frees it; Unshare takes the state back.
func TestSharedLock(t *testing.T) {
	ctx := t.Context()
	l := NewLock()
	if ok, _ := l.Acquire(ctx, 1, 0); !ok {
		t.Fatal("acquire before sharing")
	}
	r, wakes := share(l)
	if who, ok := l.Owner(); !ok || who != 1 || lockword.Value(r.word.Load()) != 1 {
		t.Fatalf("after Share: owner %d %v, word %#x", who, ok, r.word.Load())
	}
	// A runner (process 5) waits: its flag is set. The host's release
	// wakes it.
	if r.acquire(5) {
		t.Fatal("runner took a held lock")
	}
	if err := l.Release(1); err != nil || wakes.Load() != 1 {
		t.Fatalf("host release: %v, %d wakes", err, wakes.Load())
	}
	if !r.acquire(5) {
		t.Fatal("runner could not take the free lock")
	}
	// The host waits for the runner's lock.
	got := async(func() bool { ok, _ := l.Acquire(ctx, 2, -1); return ok })
	eventually(t, "the host's waiter flagged", func() bool { return r.word.Load()&lockword.HostWaits != 0 })
	pending(t, "host acquire", got)
	r.release()
	if !await(t, "host acquire after the runner's release", got) {
		t.Fatal("not acquired")
	}
	if who, _ := l.Owner(); who != 2 {
		t.Fatalf("owner %d, want 2", who)
	}
	// The holder dies: released, abandoned.
	l.ProcessExited(2)
	if by, ok := l.Abandoned(); !ok || by != 2 || l.Locked() {
		t.Fatalf("after the holder's death: abandoned %d %v, locked %v", by, ok, l.Locked())
	}
	if !r.acquire(5) {
		t.Fatal("runner could not take the lock its dead holder left")
	}
	l.Unshare()
	r.word.Store(0) // the memory is gone: the lock no longer reads it
	if who, ok := l.Owner(); !ok || who != 5 {
		t.Fatalf("after Unshare: owner %d %v, want 5", who, ok)
	}
}

// TestSharedRLockAndSemaphore: an RLock's level and a semaphore's value
// are in the shared memory too; the host's view follows the runner's
// changes.
func TestSharedRLockAndSemaphore(t *testing.T) {
	ctx := t.Context()
	rl := NewRLock()
	r, _ := share(rl)
	if !r.acquire(4) {
		t.Fatal("runner could not take a free RLock")
	}
	r.level.Store(3) // the runner's process took it three times
	if who, count, ok := rl.Owner(); !ok || who != 4 || count != 3 {
		t.Fatalf("owner %d count %d %v", who, count, ok)
	}
	if err := rl.Release(1); err == nil {
		t.Fatal("a process that does not own the RLock released it")
	}
	if ok, _ := rl.Acquire(ctx, 1, 0); ok {
		t.Fatal("the host gave an owned RLock to another process")
	}
	rl.ProcessExited(4)
	if ok, _ := rl.Acquire(ctx, 1, 0); !ok || r.level.Load() != 1 {
		t.Fatalf("after the owner's death: acquire %v, level %d", ok, r.level.Load())
	}

	s, err := NewBoundedSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	rs, semWakes := share(s)
	if !rs.acquire(0) || !rs.acquire(0) || rs.acquire(0) {
		t.Fatal("runner took other than two units of a semaphore of 2")
	}
	// A process's end wakes the runners sleeping on the word, whatever
	// the flags say: a runner killed between its release (which cleared
	// them) and its futex wake leaves sleepers that only this wakes.
	s.ProcessExited(9)
	if semWakes.Load() != 1 {
		t.Fatalf("%d futex wakes at a process's end, want 1", semWakes.Load())
	}
	got := async(func() bool { ok, _ := s.Acquire(ctx, 1, -1); return ok })
	eventually(t, "the host's waiter flagged", func() bool { return rs.word.Load()&lockword.HostWaits != 0 })
	rs.release()
	if !await(t, "host acquire after the runner's release", got) || s.Value() != 0 {
		t.Fatalf("value %d after", s.Value())
	}
	if err := s.Release(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(1); err == nil {
		t.Fatal("a bounded semaphore released past its bound")
	}
}
