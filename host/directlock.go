package host

import (
	"errors"
	"sync"

	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct locks (Config.DirectLocks; README, "Direct locks").
//
// The state of a Lock, an RLock or a Semaphore is a 32-bit word
// (internal/lockword) in memory the host shares with the runners of the
// run (one memory file, mapped by each), and the runner of a process
// serves that process's lock_acquire and lock_release itself: an atomic
// change of the word, and, when it must wait, a futex wait on it, as
// CPython's SemLock is a POSIX semaphore in shared memory. The host keeps
// every other part of a lock as before: lock_info, a Condition's wait and
// notify, the release of a lock whose holder died (ProcessExited), the
// deadlock detector's view of holders and waiters. Those change the same
// word, atomically, so either side may act at any time; the word's flags
// say who sleeps on it, so a release wakes the runners (a futex wake) or
// tells the host (KindReleased) only when someone does. Runners report
// their calls and their waits as for direct pipes (KindRecord, KindWait,
// KindWoke).

// lockMemory is the memory the host shares with the runners for the
// words of the run's locks: a memory file, mapped here and by each runner
// that asks (KindAttach), with a slot for each lock made.
type lockMemory struct {
	mu   sync.Mutex
	fd   int
	mem  []byte
	next int // the next free slot's offset
	err  error
}

// lockMemorySize is the shared memory of a run: 8,192 locks (a direct
// queue takes two slots). A lock or a queue made past them is served by
// the host, as every one was before.
const lockMemorySize = 64 << 10

// shareLock puts obj's state into the shared memory, if there is room;
// it reports whether it did.
func (s *Supervisor) shareLock(obj ipc.Shared) bool {
	mem, off, ok := s.allocSlots(1)
	if !ok {
		return false
	}
	word, level := lockword.Slot(mem, off)
	obj.Share(word, level, func() { lockword.WakeAll(word) })
	s.mu.Lock()
	if s.lockSlots == nil {
		s.lockSlots = map[ipc.Shared]int{}
	}
	s.lockSlots[obj] = off
	s.mu.Unlock()
	return true
}

// allocSlots takes n slots of the shared memory (mapped the first time),
// if there is room, and returns the memory and the offset of the first.
func (s *Supervisor) allocSlots(n int) (mem []byte, off int, ok bool) {
	lm := &s.locks
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.mem == nil && lm.err == nil {
		lm.fd, lm.mem, lm.err = mapLockMemory(lockMemorySize)
		if lm.err != nil {
			s.log.Debug("locks and queues are served by the host: no shared memory for them", "error", lm.err)
		}
	}
	if lm.err != nil || lm.next+n*lockword.SlotSize > len(lm.mem) {
		return nil, 0, false
	}
	off = lm.next
	lm.next += n * lockword.SlotSize
	return lm.mem, off, true
}

// lockSlotOf returns the offset of a shared lock's slot; ok is false for
// a lock the host serves.
func (s *Supervisor) lockSlotOf(obj ipc.Shared) (off int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, ok = s.lockSlots[obj]
	return off, ok
}

// attachLock answers a runner's KindAttach for a lock: where its word is
// and what it is. fd is a copy of the memory file, to send with the reply
// and close.
func (s *Supervisor) attachLock(p *proc, obj ipc.Shared) (reply *wire.Msg, fd int) {
	reply = &wire.Msg{Kind: wire.KindReply, Ints: []int64{wire.AttachHost}}
	off, ok := s.lockSlotOf(obj)
	if !ok {
		return reply, -1
	}
	lm := &s.locks
	lm.mu.Lock()
	fd, err := dupFD(lm.fd)
	lm.mu.Unlock()
	if err != nil {
		return reply, -1
	}
	_, rlock := obj.(*ipc.RLock)
	reply.Ints = []int64{wire.AttachLock, int64(off), int64(obj.WordKind()), int64(obj.MaxValue()), flag(rlock), s.recordsWanted(p), lockMemorySize}
	return reply, fd
}

// released is a runner's KindReleased: its process released a lock whose
// word said the host has waiters, which may take it now, or took back the
// last unfinished task of a direct queue (a put that failed), which a
// join waits for.
func (s *Supervisor) released(m *wire.Msg) {
	if obj, _, err := lookup[ipc.Shared](s, int32(m.Int(0))); err == nil {
		obj.Released()
	}
	if q, _, err := lookup[*ipc.Queue](s, int32(m.Int(0))); err == nil {
		q.Released()
	}
}

var errRunOver = errors.New("the run is over")

// closeLockMemory unmaps the shared memory: the run is over (every
// runner is gone). The locks take their state back first: what reads
// them after the run reads their own.
func (s *Supervisor) closeLockMemory() {
	s.closeQueues() // their counts are in the memory too
	s.mu.Lock()
	shared := s.lockSlots
	s.lockSlots = nil
	s.mu.Unlock()
	for obj := range shared {
		obj.Unshare()
	}
	lm := &s.locks
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.mem != nil {
		unmapLockMemory(lm.fd, lm.mem)
		lm.mem, lm.err = nil, errRunOver
	}
}
