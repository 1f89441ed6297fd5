package ipc

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sandbox-dev/sandbox/internal/lockword"
)

// Queue is multiprocessing.Queue, or JoinableQueue when joinable: one FIFO
// of messages shared by every process, bounded by maxsize when maxsize > 0.
//
// Python's close() only affects the calling process (the queue is closed
// for that process's handle; a child forked later starts with it open, as
// Queue._after_fork resets _closed), so Close is kept per process.
//
// A shared queue (Share) keeps no message: they are in a socket the
// runners write and read themselves (host/directqueue.go), and the
// queue's counts are words in memory shared with them: free, the room
// left (a lockword Count: a put takes one, a get gives it back, as
// CPython's Queue bounds itself with a BoundedSemaphore), and unfinished,
// a JoinableQueue's puts not yet task_done'd (a put adds one; TaskDone,
// which the host serves, takes one). Its Put and Get are the runners'.
type Queue struct {
	m          monitor
	maxsize    int
	joinable   bool
	items      fifo
	unfinished int                // JoinableQueue: puts not yet task_done'd
	closed     map[int32]struct{} // processes that called Close

	// A shared queue's words (nil: not shared); own holds them once the
	// shared memory is gone (Unshare).
	free, unfin *atomic.Uint32
	wake        func() // wakes the runners sleeping on free
	own         [2]atomic.Uint32
}

var _ Object = (*Queue)(nil)

// NewQueue returns an empty queue holding at most maxsize messages
// (maxsize <= 0: unbounded). creator is accepted for symmetry with NewPipe;
// every process that knows the handle may use a queue.
func NewQueue(maxsize int, joinable bool, creator int32) *Queue {
	if maxsize < 0 {
		maxsize = 0
	}
	return &Queue{maxsize: maxsize, joinable: joinable}
}

// Kind returns "joinable_queue" for a joinable queue, else "queue".
func (q *Queue) Kind() string {
	if q.joinable {
		return "joinable_queue"
	}
	return "queue"
}

// Inherit does nothing: a forked child starts with the queue open, even if
// the parent closed it.
func (q *Queue) Inherit(parent, child int32) {}

// ProcessExited forgets who's closed state and wakes its waiters (who's
// Caller refuses it from now on).
// Messages who put stay in the queue; messages it was waiting for stay too.
//
// On a shared queue it wakes the runners sleeping for room too: one
// killed between its get and the wake that should follow would leave
// them asleep (each sleep is bounded, but by a second).
func (q *Queue) ProcessExited(who int32) {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	delete(q.closed, who)
	q.m.broadcast()
	if q.wake != nil {
		q.wake()
	}
}

// Capacity is the value of a shared queue's free word when it is empty:
// maxsize, or for an unbounded queue the most a word holds.
func (q *Queue) Capacity() uint32 {
	if q.maxsize > 0 {
		return uint32(min(q.maxsize, lockword.MaxValue))
	}
	return lockword.MaxValue
}

// Share moves the queue's counts into free and unfin, in shared memory,
// and keeps wake for the runners sleeping on free. It is called on a new
// queue, before any process knows it.
func (q *Queue) Share(free, unfin *atomic.Uint32, wake func()) {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	free.Store(lockword.Make(q.Capacity()))
	unfin.Store(0)
	q.free, q.unfin, q.wake = free, unfin, wake
}

// Unshare takes the counts back from the shared memory, which is about
// to go: the run is over.
func (q *Queue) Unshare() {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if q.free != nil && q.free != &q.own[0] {
		q.own[0].Store(q.free.Load())
		q.own[1].Store(q.unfin.Load())
		q.free, q.unfin, q.wake = &q.own[0], &q.own[1], nil
	}
}

// Released wakes the host's waiters after a runner changed the counts
// (a put that failed gave its unfinished task back: a join may be over).
func (q *Queue) Released() {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	q.m.broadcast()
}

// Dropped gives back what a put of a message that was lost took: its room
// (waking the runners that wait for it) and its unfinished task.
func (q *Queue) Dropped() {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if q.free == nil {
		return
	}
	if sleepers, _ := lockword.Release(q.free, lockword.Count, q.Capacity()); sleepers&lockword.RunnersWait != 0 && q.wake != nil {
		q.wake()
	}
	if q.joinable {
		lockword.TryAcquire(q.unfin, lockword.Count, 0, 0)
	}
	q.m.broadcast()
}

// Shared reports whether Share was called: the runners put and get.
func (q *Queue) Shared() bool {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.free != nil
}

// Check is the host's checks of a put or a get on a shared queue, which
// it does not serve: ErrClosed when who closed the queue.
func (q *Queue) Check(ctx context.Context, who int32) error {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.check(ctx, who)
}

// HasRoom reports whether a put would find room now (a shared queue).
func (q *Queue) HasRoom() bool {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.free == nil || lockword.Value(q.free.Load()) > 0
}

// Close closes the queue for who: its later Put and Get are ErrClosed.
// Closing twice is allowed, as in Python.
func (q *Queue) Close(who int32) {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if q.closed == nil {
		q.closed = make(map[int32]struct{})
	}
	q.closed[who] = struct{}{}
}

// Put appends a copy of msg, waiting up to timeout (negative: forever;
// zero: do not block) for room. ErrFull when there is still no room.
func (q *Queue) Put(ctx context.Context, who int32, msg []byte, timeout time.Duration) error {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if err := q.check(ctx, who); err != nil {
		return err
	}
	if q.free != nil {
		return errShared
	}
	err := q.m.await(ctx, q, timeout, func() bool {
		return ended(ctx) || q.maxsize == 0 || q.items.len() < q.maxsize
	})
	switch {
	case err == errTimedOut:
		return fmt.Errorf("queue put: %w", ErrFull)
	case err != nil:
		return err
	case ended(ctx):
		return ErrExited
	}
	callerOf(ctx).Seq(q.items.push(clone(msg)))
	if q.joinable {
		q.unfinished++
	}
	q.m.broadcast()
	return nil
}

// Get removes and returns the oldest message, waiting up to timeout for
// one; ErrEmpty when there is still none.
func (q *Queue) Get(ctx context.Context, who int32, timeout time.Duration) ([]byte, error) {
	msg, _, err := q.GetLimit(ctx, who, timeout, -1)
	return msg, err
}

// GetLimit is Get for a caller that can take at most limit bytes (limit <
// 0: no limit). A longer message is left at the head of the queue and
// GetLimit returns ErrTooSmall with its size, so nothing is lost.
func (q *Queue) GetLimit(ctx context.Context, who int32, timeout time.Duration, limit int) (msg []byte, size int, err error) {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if err := q.check(ctx, who); err != nil {
		return nil, 0, err
	}
	if q.free != nil {
		return nil, 0, errShared
	}
	err = q.m.await(ctx, q, timeout, func() bool {
		return ended(ctx) || q.items.len() > 0
	})
	switch {
	case err == errTimedOut:
		return nil, 0, fmt.Errorf("queue get: %w", ErrEmpty)
	case err != nil:
		return nil, 0, err
	case ended(ctx):
		return nil, 0, ErrExited
	}
	size = len(q.items.peek())
	if limit >= 0 && size > limit {
		return nil, size, fmt.Errorf("%w: message of %d bytes, limit %d", ErrTooSmall, size, limit)
	}
	msg, seq := q.items.pop()
	callerOf(ctx).Seq(seq)
	q.m.broadcast()
	return msg, size, nil
}

// Qsize returns the number of messages in the queue.
func (q *Queue) Qsize() int {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.size()
}

// size is Qsize. q.m.mu held.
func (q *Queue) size() int {
	if q.free != nil {
		return int(lockword.Taken(q.free.Load(), q.Capacity()))
	}
	return q.items.len()
}

// unfinishedNow is Unfinished. q.m.mu held.
func (q *Queue) unfinishedNow() int {
	if q.unfin != nil {
		return int(lockword.Value(q.unfin.Load()))
	}
	return q.unfinished
}

// Empty reports whether the queue holds no message.
func (q *Queue) Empty() bool { return q.Qsize() == 0 }

// Full reports whether a bounded queue holds maxsize messages.
func (q *Queue) Full() bool {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.maxsize > 0 && q.size() >= q.maxsize
}

// Maxsize returns the bound given to NewQueue (0: unbounded).
func (q *Queue) Maxsize() int { return q.maxsize }

// TaskDone marks one message of a joinable queue as processed. ErrValue if
// the queue is not joinable or if called more times than messages were put.
func (q *Queue) TaskDone(who int32) error {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if !q.joinable {
		return fmt.Errorf("%w: task_done() on a queue that is not joinable", ErrValue)
	}
	if q.unfin != nil {
		// The runners add to the word as they put: take one atomically.
		for {
			v := q.unfin.Load()
			n := lockword.Value(v)
			if n == 0 {
				return fmt.Errorf("%w: task_done() called too many times", ErrValue)
			}
			if q.unfin.CompareAndSwap(v, lockword.Make(n-1)) {
				if n == 1 {
					q.m.broadcast()
				}
				return nil
			}
		}
	}
	if q.unfinished == 0 {
		return fmt.Errorf("%w: task_done() called too many times", ErrValue)
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.m.broadcast()
	}
	return nil
}

// Unfinished returns the number of messages put into a joinable queue and
// not yet task_done'd.
func (q *Queue) Unfinished() int {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	return q.unfinishedNow()
}

// Join waits up to timeout until every message put into the joinable queue
// has been task_done'd; ErrTimeout if that does not happen in time.
func (q *Queue) Join(ctx context.Context, who int32, timeout time.Duration) error {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	if !q.joinable {
		return fmt.Errorf("%w: join() on a queue that is not joinable", ErrValue)
	}
	if ended(ctx) {
		return ErrExited
	}
	err := q.m.await(ctx, q, timeout, func() bool { return ended(ctx) || q.unfinishedNow() == 0 })
	switch {
	case err == errTimedOut:
		return fmt.Errorf("queue join: %w", ErrTimeout)
	case err != nil:
		return err
	case ended(ctx):
		return ErrExited
	}
	return nil
}

// errShared is a Put or a Get on a shared queue: its runners serve them.
var errShared = fmt.Errorf("%w: the queue's messages are in its runners' socket", ErrValue)

// check refuses a process that closed the queue or has exited. q.m.mu held.
func (q *Queue) check(ctx context.Context, who int32) error {
	if _, ok := q.closed[who]; ok {
		return fmt.Errorf("%w: queue is closed", ErrClosed)
	}
	if ended(ctx) {
		return ErrExited
	}
	return nil
}
