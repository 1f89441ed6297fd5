package runner

import (
	"net"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/lockword"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestShortcutLock: a direct lock's acquire and release served with no
// message made (direct.shortcutLock) do what serveLock does for a call
// that needs no wait: a free Lock taken, a held one declined (a wait:
// serveLock's) or answered 0 at timeout 0; an RLock's levels; a
// semaphore's count and its bound; a release that is refused leaves the
// word as it was; one that finds the host waiting tells it
// (KindReleased). It declines a lock not used yet, every call when the
// host wants records, and a release when output is to be synced first.
func TestShortcutLock(t *testing.T) {
	const self, other = 7, 9
	type step struct {
		op       abi.Op
		timeout  int64
		served   bool
		result   int64
		errno    abi.Errno
		word     uint32 // after the call
		level    uint32
		released bool // a KindReleased frame was sent
	}
	acquire := func(timeout int64, served bool, result int64, word, level uint32) step {
		return step{op: abi.OpLockAcquire, timeout: timeout, served: served, result: result, word: word, level: level}
	}
	release := func(served bool, errno abi.Errno, word, level uint32) step {
		return step{op: abi.OpLockRelease, served: served, errno: errno, word: word, level: level}
	}
	held := lockword.Make(self)
	tests := []struct {
		name     string
		kind     lockword.Kind
		rlock    bool
		max      uint32
		word     uint32
		level    uint32
		want     int64 // records wanted
		unsynced bool
		unknown  bool // the handle was not used yet
		steps    []step
	}{
		{name: "lock", kind: lockword.Holder, steps: []step{
			acquire(-1, true, 1, held, 0),
			acquire(0, true, 0, held, 0), // (held by self: no wait, not taken)
			acquire(-1, false, 0, held, 0),
			release(true, abi.OK, 0, 0),
			release(true, abi.EVALUE, 0, 0),
		}},
		{name: "held by another", kind: lockword.Holder, word: lockword.Make(other), steps: []step{
			acquire(0, true, 0, lockword.Make(other), 0),
			acquire(1000, false, 0, lockword.Make(other), 0),
		}},
		{name: "rlock", kind: lockword.Holder, rlock: true, steps: []step{
			release(true, abi.ENOTOWNER, 0, 0),
			acquire(-1, true, 1, held, 1),
			acquire(-1, true, 1, held, 2),
			release(true, abi.OK, held, 1),
			release(true, abi.OK, 0, 0),
		}},
		{name: "rlock of another", kind: lockword.Holder, rlock: true, word: lockword.Make(other), level: 1, steps: []step{
			release(true, abi.ENOTOWNER, lockword.Make(other), 1),
			acquire(0, true, 0, lockword.Make(other), 1),
		}},
		{name: "bounded semaphore", kind: lockword.Count, max: 1, steps: []step{
			acquire(0, true, 0, 0, 0),
			release(true, abi.OK, lockword.Make(1), 0),
			release(true, abi.EVALUE, lockword.Make(1), 0),
			acquire(-1, true, 1, 0, 0),
		}},
		{name: "host waits", kind: lockword.Holder, word: held | lockword.HostWaits, steps: []step{
			{op: abi.OpLockRelease, served: true, word: 0, released: true},
		}},
		{name: "runners wait", kind: lockword.Holder, word: held | lockword.RunnersWait, steps: []step{
			release(true, abi.OK, 0, 0), // (a futex wake that finds no one)
		}},
		{name: "records wanted", kind: lockword.Holder, want: 1, steps: []step{
			acquire(-1, false, 0, 0, 0),
			release(false, abi.OK, 0, 0),
		}},
		{name: "unsynced", kind: lockword.Holder, unsynced: true, steps: []step{
			acquire(-1, true, 1, held, 0),
			release(false, abi.OK, held, 0),
		}},
		{name: "not used yet", kind: lockword.Holder, unknown: true, steps: []step{
			acquire(-1, false, 0, 0, 0),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hostEnd, runnerEnd := net.Pipe()
			defer hostEnd.Close()
			defer runnerEnd.Close()
			frames := make(chan *wire.Msg, 4)
			go func() {
				c := wire.NewConn(hostEnd)
				for {
					m, err := c.Recv()
					if err != nil {
						close(frames)
						return
					}
					frames <- m
				}
			}()
			r := &remote{conn: wire.NewConn(runnerEnd), unsynced: tt.unsynced}
			d := newDirect(r, self)
			d.want = tt.want
			d.mem = make([]byte, lockword.SlotSize)
			word, level := lockword.Slot(d.mem, 0)
			word.Store(tt.word)
			level.Store(tt.level)
			const h = 3
			if !tt.unknown {
				d.locks[h] = &lockRef{word: word, level: level, kind: tt.kind, max: tt.max, rlock: tt.rlock}
			}
			for i, s := range tt.steps {
				args := hostfuncs.IntArgs{N: 1}
				args.Ints[0] = h
				if s.op == abi.OpLockAcquire {
					args.Ints[1], args.N = s.timeout, 2
				}
				result, e, served, err := d.shortcut(s.op, &args)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if served != s.served || (served && (result != s.result || e != s.errno)) {
					t.Errorf("step %d (op %d): served %v, result %d, errno %d; want %v, %d, %d", i, s.op, served, result, e, s.served, s.result, s.errno)
				}
				if w, l := word.Load(), level.Load(); w != s.word || l != s.level {
					t.Errorf("step %d (op %d): word %#x level %d, want %#x, %d", i, s.op, w, l, s.word, s.level)
				}
				if s.released {
					select {
					case m := <-frames:
						if m == nil || m.Kind != wire.KindReleased || m.Int(0) != h {
							t.Errorf("step %d: frame %+v, want KindReleased of %d", i, m, h)
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("step %d: no KindReleased sent", i)
					}
				}
			}
			runnerEnd.Close()
			if m, ok := <-frames; ok {
				t.Errorf("an unexpected frame: %+v", m)
			}
		})
	}
}

// TestRemoteShortcut: a runner offers a call to its process's direct
// objects only once the process is assigned (no parked guest waiting
// for its assignment, none that failed to take it).
func TestRemoteShortcut(t *testing.T) {
	const h = 3
	tests := []struct {
		name   string
		remote func(d *direct) *remote
		served bool
	}{
		{"assigned", func(d *direct) *remote { return d.r }, true},
		{"no process yet", func(d *direct) *remote { d.r.direct = nil; return d.r }, false},
		{"parked", func(d *direct) *remote { d.r.pending = func() error { return nil }; return d.r }, false},
		{"assignment failed", func(d *direct) *remote { d.r.pendingErr = errProtocol; return d.r }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &remote{}
			d := newDirect(r, 7)
			r.direct = d
			d.mem = make([]byte, lockword.SlotSize)
			word, level := lockword.Slot(d.mem, 0)
			d.locks[h] = &lockRef{word: word, level: level, kind: lockword.Holder}
			args := hostfuncs.IntArgs{N: 2}
			args.Ints[0], args.Ints[1] = h, -1
			result, e, served, err := tt.remote(d).Shortcut(abi.OpLockAcquire, args)
			if err != nil || served != tt.served || (served && (result != 1 || e != abi.OK)) {
				t.Errorf("Shortcut = %d, %d, %v, %v; want served %v", result, e, served, err, tt.served)
			}
			if taken := word.Load() != 0; taken != tt.served {
				t.Errorf("the lock taken: %v, want %v", taken, tt.served)
			}
		})
	}
}
