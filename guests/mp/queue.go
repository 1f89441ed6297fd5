package mp

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// Queue is Python's multiprocessing.Queue: one FIFO of values shared by
// every process of the run, bounded when made with a maxsize. Make one
// with NewQueue; pass it to children in their arguments.
//
// Each value is one message. As CPython's pickle keeps bytes and str, a
// []byte and a string travel raw, behind a tag byte, and come back as
// themselves; any other value travels as JSON (encoding/json). The format
// is in docs/ABI.md ("Messages"); pipes and manager objects use it too.
//
// Put and Get block (every goroutine of the calling process) while the
// queue is full or empty; PutTimeout and GetTimeout give up with ErrFull
// and ErrEmpty, PutNowait and GetNowait at once.
//
//	func producer(q *mp.Queue, n int) {
//		for i := range n {
//			q.Put(i)
//		}
//		q.Put(nil) // Python's None: a sentinel
//	}
//
//	q := mp.NewQueue(0)
//	p := mp.NewProcess(producer, mp.Args(q, 3))
//	p.Start()
//	for {
//		var v *int
//		q.Get(&v)
//		if v == nil {
//			break
//		}
//		fmt.Println(*v) // 0, 1, 2
//	}
//	p.Join()
//
//	err := q.GetTimeout(nil, 100*time.Millisecond) // errors.Is(err, mp.ErrEmpty)
type Queue struct {
	handle int32
	in     inbox        // what receives keep (receive)
	bound  atomic.Int32 // boundUnknown, boundNone or boundSome
}

// What a Queue knows of its maxsize, which never changes: a queue this
// process made knows it; one passed in the arguments asks the host once.
const (
	boundUnknown int32 = iota
	boundNone          // maxsize <= 0: every put is taken at once
	boundSome
)

// closedQueues holds the handles of the queues this process closed (a
// close is the process's, not one Queue value's).
var closedQueues sync.Map

// JoinableQueue is Python's multiprocessing.JoinableQueue: a Queue that
// also counts unfinished tasks. Every Put adds one; TaskDone, called by
// the consumer once it has processed an item, removes one; Join waits until
// there are none.
//
//	func worker(q *mp.JoinableQueue) {
//		for {
//			var job string
//			q.Get(&job)
//			fmt.Println("done", job)
//			q.TaskDone()
//		}
//	}
//
//	q := mp.NewJoinableQueue(0)
//	w := mp.NewProcess(worker, mp.Args(q), mp.Daemon(true))
//	w.Start()
//	q.Put("a")
//	q.Put("b")
//	q.Join() // both are done
type JoinableQueue struct {
	Queue
}

var (
	_ json.Marshaler   = (*Queue)(nil)
	_ json.Unmarshaler = (*Queue)(nil)
	_ json.Marshaler   = (*JoinableQueue)(nil)
	_ json.Unmarshaler = (*JoinableQueue)(nil)
)

// NewQueue returns a new queue holding at most maxsize values (maxsize <=
// 0: no bound), as Python's Queue(maxsize).
//
// It panics if the host cannot create the queue.
func NewQueue(maxsize int) *Queue {
	q := &Queue{}
	mustNew("Queue", host.queueNew(clampInt32(maxsize), false, &q.handle))
	q.setBound(maxsize)
	return q
}

// NewJoinableQueue returns a new JoinableQueue holding at most maxsize
// values (maxsize <= 0: no bound).
//
// It panics if the host cannot create the queue.
func NewJoinableQueue(maxsize int) *JoinableQueue {
	q := &JoinableQueue{}
	mustNew("JoinableQueue", host.queueNew(clampInt32(maxsize), true, &q.handle))
	q.setBound(maxsize)
	return q
}

func clampInt32(n int) int32 {
	return int32(max(min(n, 1<<31-1), -1<<31))
}

func (q *Queue) h() int32 { return checkHandle("Queue", q.handle) }

// Handle returns the host's handle of the queue, valid in every process.
func (q *Queue) Handle() int32 { return q.h() }

// Put puts v at the end of the queue, waiting as long as it takes for
// room. A []byte (Python's bytes) or a string (str) is sent raw behind its
// tag byte, in one copy; any other value, named byte-slice and string
// types included, as its JSON. A nil []byte is empty bytes. The error
// wraps ErrClosed (this process called Close) or ErrTooBig, or is v's
// encoding error.
func (q *Queue) Put(v any) error { return q.put(v, -1) }

// PutTimeout is Put waiting at most d for room; ErrFull if the queue is
// still full then (Python's put(v, timeout=d)).
func (q *Queue) PutTimeout(v any, d time.Duration) error { return q.put(v, atMostArg(d)) }

// PutNowait is Put that does not wait for room: ErrFull if the queue is
// full.
func (q *Queue) PutNowait(v any) error { return q.put(v, 0) }

func (q *Queue) put(v any, timeoutNs int64) error {
	return sendValue(v, func(b []byte) error { return q.putJSON(b, timeoutNs) })
}

// putJSON puts a message encoded as encodeValue encodes (the SDK's own
// JSON messages, made without it).
func (q *Queue) putJSON(b []byte, timeoutNs int64) error {
	h := q.h()
	if q.unbounded() {
		if _, closed := closedQueues.Load(h); !closed {
			// Nothing can refuse this put (no bound, not closed): post it,
			// and go on without waiting for the host's answer, as CPython's
			// put leaves the writing to a feeder thread (docs/ABI.md,
			// "Posted calls").
			return objError(host.queuePost(h, b, timeoutNs), "put", nil)
		}
	}
	e := host.queuePut(h, b, timeoutNs)
	if e == errnoFull {
		return ErrFull
	}
	return objError(e, "put", putMsgs)
}

func (q *Queue) setBound(maxsize int) {
	if maxsize <= 0 {
		q.bound.Store(boundNone)
	} else {
		q.bound.Store(boundSome)
	}
}

// unbounded reports whether the queue was made without a maxsize, asking
// the host the first time for a queue this process did not make. If the
// host cannot say, the answer is false: the put then waits for its answer.
func (q *Queue) unbounded() bool {
	if b := q.bound.Load(); b != boundUnknown {
		return b == boundNone
	}
	rec, e := host.queueInfo(q.h())
	if e != errnoOK {
		return false
	}
	q.setBound(int(rec[1]))
	return q.bound.Load() == boundNone
}

// Get removes the value at the head of the queue, waiting as long as it
// takes for one, and decodes it into v, a pointer (nil drops the value).
// A []byte decodes into a *[]byte and a string into a *string (or into a
// named byte-slice or string type), or either into a *any; bytes into a
// string, or a string into a []byte, is an error that wraps a
// *json.UnmarshalTypeError ("cannot unmarshal bytes into Go value of type
// string"), as CPython keeps the two types apart. Into any other v (a
// type with its own UnmarshalJSON or UnmarshalText included), a []byte or
// string decodes as its JSON would (a []byte as a base64 string), and a
// JSON value as json.Unmarshal. The queue is FIFO as seen by all
// processes. The error wraps ErrClosed (this process called Close); a
// value that does not decode into v is removed and reported.
func (q *Queue) Get(v any) error { return q.get(v, -1) }

// GetTimeout is Get waiting at most d for a value; ErrEmpty if the queue
// is still empty then (Python's get(timeout=d)).
func (q *Queue) GetTimeout(v any, d time.Duration) error { return q.get(v, atMostArg(d)) }

// GetNowait is Get that does not wait: ErrEmpty if the queue is empty.
func (q *Queue) GetNowait(v any) error { return q.get(v, 0) }

func (q *Queue) get(v any, timeoutNs int64) error {
	b, err := q.getBytes(timeoutNs)
	if err != nil {
		return err
	}
	return decodeValue(b, v)
}

func (q *Queue) getBytes(timeoutNs int64) ([]byte, error) {
	h := q.h()
	b, e := receive(&q.in, timeoutNs, func(timeoutNs int64, buf []byte) (uint32, errno) {
		return host.queueGet(h, timeoutNs, buf)
	})
	if e == errnoEmpty {
		return nil, ErrEmpty
	}
	return b, objError(e, "get", getMsgs)
}

// info returns qsize, maxsize and the number of unfinished tasks.
func (q *Queue) info() [3]int32 {
	rec, e := host.queueInfo(q.h())
	must("queue info", e)
	return rec
}

// Qsize returns the number of values in the queue (Python's qsize(): by
// the time it returns, other processes may have changed it).
func (q *Queue) Qsize() int { return int(q.info()[0]) }

// Empty reports whether the queue holds no value.
func (q *Queue) Empty() bool { return q.Qsize() == 0 }

// Full reports whether a bounded queue holds maxsize values.
func (q *Queue) Full() bool {
	i := q.info()
	return i[1] > 0 && i[0] >= i[1]
}

// Maxsize returns the bound given to NewQueue (0: none).
func (q *Queue) Maxsize() int { return int(q.info()[1]) }

// Close says that this process will put no more values: its later Put and
// Get fail with ErrClosed. Values already put stay in the queue for the
// others. Closing twice is allowed, as in Python.
func (q *Queue) Close() error {
	h := q.h()
	e := host.queueClose(h)
	if e == errnoOK {
		closedQueues.Store(h, true)
		q.in.drop()
	}
	return objError(e, "close", nil)
}

// JoinThread does nothing: Python's join_thread waits for the feeder
// thread that flushes a process's puts, but here a put is in the queue
// before the process's next call is served and before its end (a put on
// an unbounded queue is posted: docs/ABI.md, "Posted calls").
func (q *Queue) JoinThread() {}

// CancelJoinThread does nothing, for the reason given at JoinThread.
func (q *Queue) CancelJoinThread() {}

// MarshalJSON encodes the queue as its handle, so a Queue can be passed
// to a child.
func (q *Queue) MarshalJSON() ([]byte, error) { return marshalObject(kindQueueJSON, q.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (q *Queue) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindQueueJSON)
	q.handle = o.Handle
	q.bound.Store(boundUnknown) // another queue, perhaps: ask again
	return err
}

// TaskDone says that a value taken with Get was processed. The error
// wraps ErrValue ("task_done() called too many times") when called more
// times than values were put.
func (q *JoinableQueue) TaskDone() error {
	return objError(host.queueTaskDone(q.h()), "task_done", map[errno]string{
		errnoValue: "task_done() called too many times",
	})
}

// Join waits until every value put in the queue was marked with TaskDone.
func (q *JoinableQueue) Join() error {
	return objError(host.queueJoin(q.h(), -1), "join", nil)
}

// JoinTimeout is Join waiting at most d; done is false if tasks were
// still unfinished then.
func (q *JoinableQueue) JoinTimeout(d time.Duration) (done bool, err error) {
	switch e := host.queueJoin(q.h(), atMostArg(d)); e {
	case errnoOK:
		return true, nil
	case errnoTimedOut:
		return false, nil
	default:
		return false, objError(e, "join", nil)
	}
}

// Unfinished returns the number of values put and not yet marked with
// TaskDone.
func (q *JoinableQueue) Unfinished() int { return int(q.info()[2]) }

// MarshalJSON encodes the queue as its handle, so a JoinableQueue can be
// passed to a child.
func (q *JoinableQueue) MarshalJSON() ([]byte, error) {
	return marshalObject(kindJoinableJSON, q.handle)
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (q *JoinableQueue) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindJoinableJSON)
	q.handle = o.Handle
	q.bound.Store(boundUnknown) // another queue, perhaps: ask again
	return err
}

// The messages of put's and get's errors, made once (a map literal in the
// call is built at every call).
var (
	putMsgs = map[errno]string{errnoClosed: "Queue is closed"}
	getMsgs = map[errno]string{errnoClosed: "handle is closed"}
)
