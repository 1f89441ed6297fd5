// Package ipc holds the host-side state of every interprocess object of a
// sandbox run: pipes, queues, barriers, locks, semaphores, events,
// conditions and the Manager's namespace, dict and list.
//
// Every guest process is a separate OS process, but none of them keeps a
// copy of shared state: the supervising host owns every object and serves
// each guest call by calling a method here, passing the calling process's
// handle (who), a context cancelled when that process dies or the run ends,
// and a timeout (negative: wait forever; zero: do not block; positive: at
// most that long). So this package is pure Go and knows nothing of OS
// processes, sockets or wazero; a "process" is just an int32 handle, and a
// blocked guest call is a goroutine of the host asleep in one of these
// methods. Messages and values are opaque bytes (the guest SDK encodes
// them); objects keep copies, never the caller's slices.
//
// Semantics follow CPython's multiprocessing (Linux, fork start method).
// Each method's comment says where it checks a CPython fact, and
// deviations are stated there.
//
// Every object is safe for concurrent use. Blocking methods sleep on a
// channel that is closed on each state change (or a per-waiter channel),
// with a time.Timer for the timeout: no busy waiting and no goroutine of
// this package outlives a call. A blocking call tells the Caller of its ctx
// when it goes to sleep and when it wakes, so that the host can list who
// waits on what at any moment. A call whose ctx is cancelled returns
// ctx.Err() promptly and leaves nothing behind: it consumes no message,
// takes no barrier slot, and never returns holding a lock.
//
// # When a process dies
//
// Objects keep no record of which processes have ended: each call's ctx
// carries its Caller (WithCaller), which the host's process table answers.
// Once the Caller says it has ended, every object refuses it (ErrExited),
// so a call still in flight for a dead process can never take anything,
// whatever the order in which the host cancels the ctx and calls
// ProcessExited. The host calls ProcessExited(who) on every object once the
// process has died or ended, to give back what who held and to wake its
// waiters:
//
//   - Pipe: every copy of either end who held is closed. When the last
//     holder of an end goes, a receiver on the other end gets ErrEOF once
//     its buffer is empty, and a sender on the other end ErrBrokenPipe.
//   - Lock, RLock: if who held the lock it is released (every level of an
//     RLock) and who is recorded; Abandoned reports the last such process
//     so the host can report it. The next acquirer simply gets the lock.
//     (CPython would leave the lock held forever, deadlocking the others.)
//   - Condition: who's waits are dropped and the exit is passed on to the
//     lock.
//   - Barrier: if who was waiting in the current generation, or was running
//     its action, the barrier breaks and every waiter gets ErrBroken: the
//     dead process can never arrive, so the others would wait forever. A
//     wait merely cancelled (ctx) gives its slot back without breaking.
//   - Semaphore, Event, Queue, Namespace, Dict, List: nothing is given
//     back; a semaphore has no owner and queued messages stay queued.
package ipc
