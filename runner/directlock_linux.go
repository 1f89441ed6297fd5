package runner

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// Direct locks (host/directlock.go says why and what the host keeps): a
// Lock's, an RLock's or a Semaphore's state is a word in memory the host
// shares with the runners, and lock_acquire and lock_release are atomic
// changes of it (package lockword), with a futex wait when the process
// must wait: no frame to the host unless it must be told (a release that
// finds the host's own waiters: KindReleased) or asked (a wait longer
// than shortWait, reported as for pipes).

// lockRef is a direct lock the process used.
type lockRef struct {
	word, level *atomic.Uint32
	kind        lockword.Kind
	max         uint32 // the count a release cannot pass
	rlock       bool
}

// serveLock serves lock_acquire or lock_release on handle h if it is a
// direct lock; ok is false when the host is to serve it.
func (d *direct) serveLock(req *wire.Msg, h int32) (reply *wire.Msg, ok bool, err error) {
	if d.self <= 0 || d.self > lockword.MaxValue {
		return nil, false, nil
	}
	l, err := d.lock(h)
	if l == nil || err != nil {
		return nil, false, err
	}
	c := d.begin(req, nil)
	if req.Op == abi.OpLockAcquire {
		err = c.acquire(l, time.Duration(req.Int(1)))
	} else {
		err = c.release(l, h)
	}
	if err != nil {
		return nil, false, err
	}
	c.record()
	return &c.reply, true, nil
}

// lock returns the direct lock behind handle h, asking the host for it
// (and for the memory, the first time) on first use; nil when the host
// serves it.
func (d *direct) lock(h int32) (*lockRef, error) {
	if l, ok := d.locks[h]; ok {
		return l, nil
	}
	reply, fds, err := d.attach(h)
	if err != nil {
		return nil, err
	}
	defer closeFDs(fds)
	if reply.Int(0) != wire.AttachLock {
		// A lock the host serves, or not a lock (a condition, whose lock
		// the host acts on; a pipe end; no object): the host answers its
		// calls.
		d.locks[h] = nil
		return nil, nil
	}
	if len(fds) != 1 || !d.mapMemory(fds[0], int(reply.Int(6))) {
		return nil, nil
	}
	off := int(reply.Int(1))
	if off < 0 || off+lockword.SlotSize > len(d.mem) {
		return nil, nil
	}
	word, level := lockword.Slot(d.mem, off)
	l := &lockRef{
		word:  word,
		level: level,
		kind:  lockword.Kind(reply.Int(2)),
		max:   uint32(min(max(reply.Int(3), 0), lockword.MaxValue)),
		rlock: reply.Int(4) != 0,
	}
	d.want = reply.Int(5)
	d.locks[h] = l
	return l, nil
}

// mapMemory maps the memory of the run's lock words (and queues'
// counts) from fd, size bytes, unless it is mapped already; false if it
// cannot be (the host then serves the object).
func (d *direct) mapMemory(fd, size int) bool {
	if d.mem == nil {
		mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return false
		}
		d.mem = mem
	}
	return true
}

// shortcutLock serves lock_acquire or lock_release of a direct lock the
// process has used when that needs neither a wait nor a record
// (remote.Shortcut): an acquire that takes the lock at once, or is not to
// wait; a release that needs no sync (the release makes it). served is
// false when serveLock is to serve it.
func (d *direct) shortcutLock(op abi.Op, args *hostfuncs.IntArgs) (result int64, e abi.Errno, served bool, err error) {
	if d.want != 0 || args.N == 0 {
		return 0, abi.OK, false, nil
	}
	h := int32(args.Int(0))
	l := d.locks[h]
	if l == nil {
		// Not used yet, or the host's. (A lock in d.locks passed
		// serveLock's check of d.self when it was first used.)
		return 0, abi.OK, false, nil
	}
	if op == abi.OpLockAcquire {
		if d.takeNow(l) {
			return 1, abi.OK, true, nil
		}
		return 0, abi.OK, args.N > 1 && args.Int(1) == 0, nil // (a wait: serveLock's)
	}
	if d.r.unsynced {
		return 0, abi.OK, false, nil
	}
	e, _, err = d.releaseLock(l, h)
	return 0, e, true, err
}

// taker is who process self takes l's word for: itself (a Lock's or an
// RLock's holder), or no one (a semaphore's unit).
func (l *lockRef) taker(self int32) uint32 {
	if l.kind == lockword.Count {
		return 0
	}
	return uint32(self)
}

// took records that the process has just taken l's word: an RLock's
// first level.
func (l *lockRef) took() {
	if l.rlock {
		l.level.Store(1)
	}
}

// takeNow takes the lock for the process (or one more level of an RLock
// it owns) if it can at once.
func (d *direct) takeNow(l *lockRef) bool {
	if l.rlock && lockword.Value(l.word.Load()) == uint32(d.self) {
		l.level.Add(1)
		return true
	}
	if ok, _ := lockword.TryAcquire(l.word, l.kind, l.taker(d.self), 0); !ok {
		return false
	}
	l.took()
	return true
}

// acquire takes the lock (or one more level of an RLock the process
// owns), waiting up to timeout (negative: no bound).
func (c *call) acquire(l *lockRef, timeout time.Duration) error {
	if c.d.takeNow(l) {
		c.result = 1
	} else if timeout != 0 {
		ok, err := c.waitWord(l, l.taker(c.d.self), timeout)
		if err != nil {
			return err
		}
		if ok {
			l.took()
			c.result = 1
		}
	}
	c.answer(c.result)
	return nil
}

// waitWord takes l's word for who, waiting, as wait, up to timeout.
func (c *call) waitWord(l *lockRef, who uint32, timeout time.Duration) (bool, error) {
	return c.wait(func(d time.Duration) bool { return lockword.Take(l.word, l.kind, who, d) }, timeout)
}

// release gives the lock back (one level of an RLock), and wakes who
// sleeps on it: runners by a futex wake, the host by KindReleased.
func (c *call) release(l *lockRef, h int32) error {
	d := c.d
	if d.r.unsynced {
		// What the process printed or posted while it held the lock
		// reaches the host before whoever takes the lock next can print.
		if _, err := d.r.roundTrip(&wire.Msg{Kind: wire.KindSync}); err != nil {
			return err
		}
	}
	e, reason, err := d.releaseLock(l, h)
	if err == nil && e != abi.OK {
		return c.fail(e, reason)
	}
	return err
}

// releaseLock gives the lock back (one level of an RLock), and wakes who
// sleeps on it: runners by a futex wake, the host by KindReleased. e and
// reason say why it cannot (the lock is as it was); err is a failure to
// tell the host.
func (d *direct) releaseLock(l *lockRef, h int32) (e abi.Errno, reason string, err error) {
	self := uint32(d.self)
	var sleepers uint32
	switch {
	case l.rlock:
		if lockword.Value(l.word.Load()) != self || l.level.Load() == 0 {
			return abi.ENOTOWNER, "attempt to release recursive lock not owned by thread", nil
		}
		if l.level.Add(^uint32(0)) != 0 {
			return abi.OK, "", nil
		}
		sleepers, _ = lockword.ReleaseHeld(l.word, self)
	default:
		var ok bool
		if sleepers, ok = lockword.Release(l.word, l.kind, l.max); !ok {
			return abi.EVALUE, "semaphore or lock released too many times", nil
		}
	}
	if sleepers&lockword.RunnersWait != 0 {
		lockword.WakeTakers(l.word, l.kind)
	}
	if sleepers&lockword.HostWaits != 0 {
		return abi.OK, "", d.r.send(&wire.Msg{Kind: wire.KindReleased, Ints: []int64{int64(h)}})
	}
	return abi.OK, "", nil
}
