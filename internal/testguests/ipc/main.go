//go:build wasip1

// Command ipc is the guest of the end-to-end tests of shared objects
// (pipes, queues, barriers, locks, events, conditions, manager objects,
// Pool): one program, many scenarios, chosen by the first guest argument:
//
//	sandbox run ipc.wasm -- pipe-eof
//
// Each scenario prints machine-checkable "key=value" lines, from
// MainProcess only (children report through queues), so their order is
// fixed. A step that fails unexpectedly prints "ipc: ..." on stderr and
// exits with code 3; an unknown scenario exits with code 2.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

const usage = `usage: ipc SCENARIO [ARG...]

scenarios:
  pipe-eof              a child sends 3 values on a one-way pipe and ends: recv, then EOF
  pipe-errors           wrong direction, closed end, broken pipe, second close
  pipe-duplex           ping-pong with a child on a duplex pipe; poll; a 1 MiB message
  sizes [BOUND]         a child sends messages of sizes around every bound of a receive (BOUND: a datagram's, 53248) on a Pipe and a Queue
  pipe-order [N]        a child prints a line before each of N (200) sends; MainProcess prints one after each receive
  lock-order [N]        4 children each take a Lock N (100) times and print two lines while they hold it
  pipe-many [N [K]]     N (300) children one after another, each sends on K (12) pipes of its own
  queue-full-empty      Full and Empty with and without timeouts, qsize/empty/full, FIFO
  queue-blocking        a child blocked in put on a full queue is released by a get
  queue-close           put and get after close
  queue-kill            processes terminated in a put on a full queue and a get on an empty one take nothing with them
  queue-spill [N]       2 children put N (2000) messages each, some of 100 KiB, with no reader: each one's come out in order
  queue-posted          a child's posted puts are in the queue when it has ended; a bounded queue's are not posted; a posted put to no queue
  joinable              JoinableQueue: join waits for task_done; task_done too often
  barrier-index         4 processes pass a Barrier(4) 3 times: indexes per round
  barrier-timeout       a wait that times out breaks the barrier for every waiter; reset
  barrier-abort         abort breaks the barrier for waiters and later waits; reset
  barrier-action        the action runs once per round, before anyone is released
  barrier-action-fail   a failing action breaks the barrier; its runner gets the error
  lock-release          release errors of Lock, RLock, Semaphore, BoundedSemaphore
  lock-timeout          acquire with timeouts while a child holds the lock
  lock-counter N        N processes add 200 each to a shared counter under a Lock
  race-counter N [K]    N processes add K (20) each to a shared counter without a lock (a race)
  event                 children wait for an Event; wait with timeout; clear
  condition             wait/notify/notify_all/wait_for across processes; errors
  namespace             three processes set and read one Namespace; repr; errors
  dict-list             manager Dict and List across processes
  class-fields          a Process subclass whose fields (a Queue) are set after Init
  pool                  Pool: map, imap, imap_unordered, starmap, apply, apply_async, names
  pool-error            a worker's panic and error come back; the pool keeps working
  pool-terminate        terminate a pool with work in flight
  stress-queue N        4 producers, 4 consumers, N messages through one Queue
  stress-pipe N         4 producer/consumer pairs, N messages through Pipes
  die-lock              a process killed holding a Lock: a waiter gets it
  die-barrier           a process killed waiting at a Barrier: the barrier breaks
`

func main() {
	mp.Register(
		pipeSender, pipeSendAll, printSender, pipeEcho, queueFiller, joinableWorker, barrierRunner, barrierAction, failingAction,
		lockHolder, rlockReleaser, lockReleaser, counterWorker, racyWorker, eventWaiter, condWaiter,
		nsChild1, nsChild2, dictListChild, square, add, slowSquare, failingSquare, whoAmI, initWorker,
		producer, consumer, pipeProducer, pipeConsumer, lockWaiter, barrierWaiter, holdLockForever,
		nameInit, lockPrinter, sizesSender,
	)
	mp.RegisterClass(&Producer{})
	mp.Main(func() {
		if code := dispatch(os.Args[1:]); code != 0 {
			os.Exit(code)
		}
	})
}

func dispatch(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	name, args := args[0], args[1:]
	scenarios := map[string]func([]string){
		"pipe-eof":            pipeEOF,
		"pipe-errors":         pipeErrors,
		"pipe-duplex":         pipeDuplex,
		"sizes":               sizes,
		"pipe-many":           pipeMany,
		"pipe-order":          pipeOrder,
		"lock-order":          lockOrder,
		"queue-full-empty":    queueFullEmpty,
		"queue-blocking":      queueBlocking,
		"queue-close":         queueClose,
		"queue-kill":          queueKill,
		"queue-posted":        queuePosted,
		"queue-spill":         queueSpill,
		"joinable":            joinable,
		"barrier-index":       barrierIndex,
		"barrier-timeout":     barrierTimeout,
		"barrier-abort":       barrierAbort,
		"barrier-action":      barrierActionScenario,
		"barrier-action-fail": barrierActionFail,
		"lock-release":        lockRelease,
		"lock-timeout":        lockTimeout,
		"lock-counter":        lockCounter,
		"race-counter":        raceCounter,
		"event":               event,
		"condition":           condition,
		"namespace":           namespace,
		"dict-list":           dictList,
		"class-fields":        classFields,
		"pool":                pool,
		"pool-error":          poolError,
		"pool-terminate":      poolTerminate,
		"stress-queue":        stressQueue,
		"stress-pipe":         stressPipe,
		"die-lock":            dieLock,
		"die-barrier":         dieBarrier,
	}
	fn, ok := scenarios[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "ipc: unknown scenario %q\n\n%s", name, usage)
		return 2
	}
	fn(args)
	return 0
}

// Helpers.

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// check ends the guest when a step that must succeed fails.
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "ipc: unexpected error: %v\n", err)
		os.Exit(3)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ipc: "+format+"\n", args...)
	os.Exit(3)
}

func intArg(args []string, i, def int) int {
	if i >= len(args) {
		return def
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		fail("argument %d: %v", i+1, err)
	}
	return n
}

// errText prints an error as "none" or its text.
func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

func start(target any, opts ...mp.Option) *mp.Process {
	p := mp.NewProcess(target, opts...)
	check(p.Start())
	return p
}

func exitCode(p *mp.Process) string {
	code, ok := p.ExitCode()
	if !ok {
		return "none"
	}
	return strconv.Itoa(code)
}

// waitUntil polls cond until it holds, for at most 30 s (a scenario that
// waits for another process to reach a blocking call, which no object
// reports by itself).
func waitUntil(what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			fail("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Pipes.

// pipeOrder: a line printed before a send is written out before the line
// the receiver prints after the receive (README, "How it works"), as when
// the host carried the message.
func pipeOrder(args []string) {
	n := 200
	if len(args) > 0 {
		var err error
		n, err = strconv.Atoi(args[0])
		check(err)
	}
	r, w := mp.Pipe(false)
	p := start(printSender, mp.Args(w, n))
	check(w.Close())
	for range n {
		var v int
		check(r.Recv(&v))
		fmt.Printf("received %d\n", v)
	}
	check(p.Join())
}

// lockOrder: what a process printed while it held a lock is written out
// before what the next holder prints (README, "Direct locks"): the two
// lines of each turn come out together.
func lockOrder(args []string) {
	l, b := mp.NewLock(), mp.NewBarrier(4)
	var ps []*mp.Process
	for range 4 {
		ps = append(ps, start(lockPrinter, mp.Args(l, b, intArg(args, 0, 100))))
	}
	for _, p := range ps {
		check(p.Join())
	}
}

// lockPrinter takes turns with the others (they begin together, and each
// lets the lock go for a moment after its turn).
func lockPrinter(l *mp.Lock, b *mp.Barrier, n int) {
	me := mp.CurrentProcess().Name()
	_, err := b.Wait()
	check(err)
	for i := range n {
		check(l.Acquire())
		fmt.Printf("%s %d in\n", me, i)
		fmt.Printf("%s %d out\n", me, i)
		check(l.Release())
		time.Sleep(100 * time.Microsecond)
	}
}

func printSender(w *mp.Conn, n int) {
	for i := range n {
		fmt.Printf("sending %d\n", i)
		check(w.Send(i))
	}
}

func pipeSendAll(ws []*mp.Conn) {
	for i, w := range ws {
		check(w.Send(i))
	}
}

func pipeSender(w *mp.Conn, n int) {
	for i := range n {
		check(w.Send(i))
	}
	check(w.Close())
}

func pipeEOF([]string) {
	r, w := mp.Pipe(false)
	say("readable=%v,%v writable=%v,%v", r.Readable(), w.Readable(), r.Writable(), w.Writable())
	p := start(pipeSender, mp.Args(w, 3))
	check(w.Close()) // the child holds its own copy
	for {
		var v int
		err := r.Recv(&v)
		if err != nil {
			say("recv error=%s is_eof=%v is_io_eof=%v", err, errors.Is(err, mp.ErrEOF), errors.Is(err, io.EOF))
			break
		}
		say("recv=%d", v)
	}
	err := r.Recv(nil)
	say("again is_eof=%v", errors.Is(err, io.EOF))
	check(p.Join())
	ready, err := r.Poll(0)
	say("poll at eof=%v err=%s", ready, errText(err))
}

// pipeMany: N children one after another (with runner reuse, a runner
// serves up to 100 of them), each given the write ends of K (12) pipes of
// its own, send one value on each and end without closing them;
// MainProcess receives each and prints how many children's arrived.
// (A runner that kept its processes' sockets would pass its 1,024
// descriptors.)
func pipeMany(args []string) {
	n, k := 300, 12
	if len(args) > 0 {
		var err error
		n, err = strconv.Atoi(args[0])
		check(err)
	}
	if len(args) > 1 {
		var err error
		k, err = strconv.Atoi(args[1])
		check(err)
	}
	got := 0
	for i := range n {
		rs, ws := make([]*mp.Conn, k), make([]*mp.Conn, k)
		for j := range rs {
			rs[j], ws[j] = mp.Pipe(false)
		}
		p := start(pipeSendAll, mp.Args(ws))
		ok := true
		for j := range rs {
			check(ws[j].Close())
			v := -1
			if err := rs[j].Recv(&v); err != nil || v != j {
				say("child %d, pipe %d: value %d error %v", i, j, v, err)
				ok = false
			}
			check(rs[j].Close())
		}
		check(p.Join())
		if code, _ := p.ExitCode(); code != 0 {
			say("child %d: exit code %d", i, code)
			ok = false
		}
		if ok {
			got++
		}
	}
	say("received=%d of %d", got, n)
}

func pipeErrors([]string) {
	r, w := mp.Pipe(false)
	err := r.Send("x")
	say("send on read end: %s direction=%v", err, errors.Is(err, mp.ErrDirection))
	err = w.Recv(nil)
	say("recv on write end: %s direction=%v", err, errors.Is(err, mp.ErrDirection))
	_, err = w.Poll(0)
	say("poll on write end: %s direction=%v", err, errors.Is(err, mp.ErrDirection))
	check(w.Send("kept"))
	check(w.Close())
	say("close again=%s closed=%v", errText(w.Close()), w.Closed())
	err = w.Send("y")
	say("send after close: %s closed=%v", err, errors.Is(err, mp.ErrClosed))
	var s string
	check(r.Recv(&s))
	say("recv buffered after writer closed=%s", s)
	err = r.Recv(&s)
	say("then: %s", err)

	a, b := mp.Pipe(true)
	check(b.Close())
	err = a.Send(1)
	say("send to closed end: %s broken=%v", err, errors.Is(err, mp.ErrBrokenPipe))
	// Large messages too (a direct pipe's host keeps them): none is kept
	// for nobody, so 300 MiB of them pass no --max-ipc.
	big := make([]byte, 1<<20)
	broken := 0
	for range 300 {
		if err := a.SendBytes(big); errors.Is(err, mp.ErrBrokenPipe) {
			broken++
		}
	}
	say("1 MiB to closed end, 300 times: broken=%d", broken)
	err = b.Recv(nil)
	say("recv on closed end: %s closed=%v", err, errors.Is(err, mp.ErrClosed))
	var n int
	check(a.Close())
	// A message that does not decode is consumed and reported.
	c, d := mp.Pipe(true)
	check(c.Send("text"))
	err = d.Recv(&n)
	say("decode error=%v", err != nil)
	check(c.Send(5))
	check(d.Recv(&n))
	say("next=%d", n)
}

// pipeEcho echoes on c until EOF. It closes other, its inherited copy of
// the parent's end, as a forked Python child must for EOF to come.
func pipeEcho(c, other *mp.Conn) {
	check(other.Close())
	for {
		b, err := c.RecvBytes()
		if errors.Is(err, io.EOF) {
			return
		}
		check(err)
		check(c.SendBytes(b))
	}
}

func pipeDuplex([]string) {
	a, b := mp.Pipe(true)
	p := start(pipeEcho, mp.Args(b, a))
	check(b.Close())
	ready, err := a.Poll(0)
	say("poll empty=%v err=%s", ready, errText(err))
	start := time.Now()
	ready, err = a.Poll(100 * time.Millisecond)
	say("poll 100ms=%v waited=%v err=%s", ready, time.Since(start) >= 100*time.Millisecond, errText(err))
	for i := range 100 {
		check(a.Send(i))
		if i == 0 {
			ready, err := a.Poll(-1)
			say("poll forever=%v err=%s", ready, errText(err))
		}
		var got int
		check(a.Recv(&got))
		if got != i {
			fail("echo %d, want %d", got, i)
		}
	}
	say("echoed=100")
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	check(a.SendBytes(big))
	back, err := a.RecvBytes()
	check(err)
	say("big len=%d same=%v", len(back), string(back) == string(big))
	type msg struct {
		Name string
		List []int
		Map  map[string]bool
	}
	check(a.Send(msg{"x", []int{1, 2}, map[string]bool{"k": true}}))
	var m msg
	check(a.Recv(&m))
	say("struct=%+v", m)
	check(a.Close())
	check(p.Join())
	say("child exitcode=%s", exitCode(p))
}

// messageSizes are sizes around the bounds of a receive: the runner's
// datagram header and ticket (16), the SDK's smallest copy (512), its
// chunk's pieces (8 KiB), a direct pipe's or queue's datagram (bound,
// about 52 KiB), the SDK's scratch buffer (64 KiB); a large message, then
// small and large ones after it.
func messageSizes(bound int) []int {
	return []int{0, 1, 15, 16, 17, 511, 512, 513, 4096, 8192, 8193, bound - 1, bound, bound + 1,
		65535, 65536, 65537, 200000, 100, 70000, 70000, 5, 60000, 16}
}

// sized is message i of size n: every byte depends on both.
func sized(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*31 + j*7 + j>>8)
	}
	return b
}

// sizesSender sends messageSizes(bound) on w (SendBytes), then puts them
// on q.
func sizesSender(w *mp.Conn, q *mp.Queue, bound int) {
	for i, n := range messageSizes(bound) {
		check(w.SendBytes(sized(i, n)))
	}
	check(w.Close())
	for i, n := range messageSizes(bound) {
		check(q.Put(sized(i, n)))
	}
}

// sizes [BOUND]: messages of messageSizes(BOUND) (BOUND: a direct
// datagram's largest message here, 53248 if not given) through a Pipe
// and a Queue; each must come whole and unchanged, a received one with
// its length as capacity.
func sizes(args []string) {
	bound := intArg(args, 0, 53248)
	r, w := mp.Pipe(false)
	q := mp.NewQueue(0)
	p := start(sizesSender, mp.Args(w, q, bound))
	check(w.Close())
	for i, n := range messageSizes(bound) {
		b, err := r.RecvBytes()
		check(err)
		if string(b) != string(sized(i, n)) || cap(b) != len(b) {
			fail("pipe: message %d of %d bytes came as %d bytes (capacity %d), same=%v", i, n, len(b), cap(b), string(b) == string(sized(i, n)))
		}
	}
	_, err := r.RecvBytes()
	say("pipe: %d messages, eof=%v", len(messageSizes(bound)), errors.Is(err, io.EOF))
	for i, n := range messageSizes(bound) {
		var b []byte
		check(q.Get(&b))
		if string(b) != string(sized(i, n)) {
			fail("queue: message %d of %d bytes came as %d bytes, same=false", i, n, len(b))
		}
	}
	say("queue: %d messages", len(messageSizes(bound)))
	check(p.Join())
	say("child exitcode=%s", exitCode(p))
}

// Queues.

func queueFullEmpty([]string) {
	q := mp.NewQueue(2)
	check(q.Put("a"))
	check(q.PutNowait("b"))
	say("qsize=%d full=%v empty=%v maxsize=%d", q.Qsize(), q.Full(), q.Empty(), q.Maxsize())
	err := q.PutNowait("c")
	say("put_nowait full: %s is_full=%v", err, errors.Is(err, mp.ErrFull))
	t0 := time.Now()
	err = q.PutTimeout("c", 200*time.Millisecond)
	say("put timeout full: is_full=%v waited=%v", errors.Is(err, mp.ErrFull), time.Since(t0) >= 200*time.Millisecond)
	var s string
	check(q.Get(&s))
	say("get=%s", s)
	check(q.GetNowait(&s))
	say("get=%s", s)
	say("qsize=%d full=%v empty=%v", q.Qsize(), q.Full(), q.Empty())
	err = q.GetNowait(&s)
	say("get_nowait empty: %s is_empty=%v", err, errors.Is(err, mp.ErrEmpty))
	t0 = time.Now()
	err = q.GetTimeout(&s, 200*time.Millisecond)
	say("get timeout empty: is_empty=%v waited=%v", errors.Is(err, mp.ErrEmpty), time.Since(t0) >= 200*time.Millisecond)

	// FIFO over processes: a child puts 0..9 after main's 100.
	u := mp.NewQueue(0)
	check(u.Put(100))
	p := start(queueFiller, mp.Args(u, 10))
	check(p.Join())
	var got []int
	for range 11 {
		var v int
		check(u.GetTimeout(&v, 10*time.Second))
		got = append(got, v)
	}
	say("fifo=%v", got)
}

func queueFiller(q *mp.Queue, n int) {
	for i := range n {
		check(q.Put(i))
	}
}

func queueBlocking([]string) {
	q := mp.NewQueue(1)
	check(q.Put(-1))
	p := start(queueFiller, mp.Args(q, 3)) // blocks on its first put
	var got []int
	for range 4 {
		var v int
		check(q.GetTimeout(&v, 10*time.Second))
		got = append(got, v)
	}
	check(p.Join())
	say("got=%v exitcode=%s", got, exitCode(p))
}

// queueKill: a process terminated while it waits in a put on a full
// queue, and one terminated while it waits in a get on an empty queue,
// take nothing with them: the room and the messages are the others'.
func queueKill([]string) {
	full, empty := mp.NewQueue(1), mp.NewQueue(0)
	check(full.Put(0))
	ready := mp.NewSemaphore(0)
	putter := start(blockedPutter, mp.Args(full, ready))
	getter := start(blockedGetter, mp.Args(empty, ready))
	check(ready.Acquire())
	check(ready.Acquire())
	time.Sleep(300 * time.Millisecond) // (whether they wait yet or not, nothing changes)
	for _, p := range []*mp.Process{putter, getter} {
		check(p.Terminate())
		check(p.Join())
	}
	say("exitcodes=%s,%s qsize=%d,%d", exitCode(putter), exitCode(getter), full.Qsize(), empty.Qsize())
	var v int
	check(full.GetNowait(&v))
	check(full.PutNowait(2))
	var w int
	check(full.GetNowait(&w))
	check(empty.Put(5))
	var x int
	check(empty.GetTimeout(&x, 10*time.Second))
	say("full got=%d,%d empty got=%d qsize=%d,%d", v, w, x, full.Qsize(), empty.Qsize())
}

func blockedPutter(q *mp.Queue, ready *mp.Semaphore) {
	check(ready.Release())
	check(q.Put(1))
	say("putter: put on a full queue returned")
}

func blockedGetter(q *mp.Queue, ready *mp.Semaphore) {
	check(ready.Release())
	var v int
	check(q.Get(&v))
	say("getter: get on an empty queue returned %d", v)
}

func init() { mp.Register(blockedPutter, blockedGetter) }

func queueClose([]string) {
	q := mp.NewQueue(0)
	check(q.Put(1))
	check(q.Close())
	say("close again=%s", errText(q.Close()))
	err := q.Put(2)
	say("put after close: %s closed=%v", err, errors.Is(err, mp.ErrClosed))
	err = q.Get(nil)
	say("get after close: %s closed=%v", err, errors.Is(err, mp.ErrClosed))
	// A child has the queue open and can still get the value.
	r := mp.NewQueue(0)
	p := start(queueMover, mp.Args(q, r))
	check(p.Join())
	var v int
	check(r.GetTimeout(&v, 10*time.Second))
	say("child got=%d", v)
}

// queuePosted: the SDK posts a put on an unbounded queue (the child's
// queue came in its arguments, so it asks the host for the maxsize once);
// the host serves the posts before the child's end, so once Join returns
// GetNowait finds every value, in order. A bounded queue's puts wait for
// their answer. A post to a handle that is no queue reaches no one but the
// log (once) and the record; the process goes on.
func queuePosted([]string) {
	q, bounded := mp.NewQueue(0), mp.NewQueue(2)
	p := start(queuePoster, mp.Args(q, bounded, 3))
	check(p.Join())
	for range 3 {
		var v string
		check(q.GetNowait(&v))
		say("got=%s", v)
	}
	for range 2 {
		var v int
		check(bounded.GetNowait(&v))
		say("bounded got=%d", v)
	}
	msg := []byte("lost")
	first := rawQueuePost(1<<30, unsafe.Pointer(&msg[0]), uint32(len(msg)), -1)
	second := rawQueuePost(1<<30, unsafe.Pointer(&msg[0]), uint32(len(msg)), -1)
	say("posts to no queue=%d,%d", first, second)
	code, _ := p.ExitCode()
	say("exitcode=%d", code)
}

// queueSpill: two children each put n messages (every 100th of 100 KiB,
// the others of a few bytes) on an unbounded queue nobody reads yet, far
// more than a direct queue's socket holds; once both have ended, qsize
// counts them all, and MainProcess gets each child's messages, without
// waiting (they are in the queue once their putter has ended), in the
// order that child put them, each of its size.
func queueSpill(args []string) {
	n := intArg(args, 0, 2000)
	q := mp.NewQueue(0)
	a, b := start(spiller, mp.Args(q, 0, n)), start(spiller, mp.Args(q, 1, n))
	check(a.Join())
	check(b.Join())
	say("qsize=%d", q.Qsize())
	var next [2]int
	bad := 0
	for range 2 * n {
		var m []byte
		check(q.GetNowait(&m))
		w, i := int(m[0]), int(binary.LittleEndian.Uint32(m[1:5]))
		if w > 1 || i != next[w] || len(m) != spillSize(i) {
			bad++
			continue
		}
		next[w] = i + 1
	}
	say("in order=%v", bad == 0 && next == [2]int{n, n})
	say("qsize=%d empty=%v", q.Qsize(), q.Empty())
}

func spillSize(i int) int {
	if i%100 == 99 {
		return 100 << 10
	}
	return 5 + i%50
}

func spiller(q *mp.Queue, w, n int) {
	for i := range n {
		m := make([]byte, spillSize(i))
		m[0] = byte(w)
		binary.LittleEndian.PutUint32(m[1:], uint32(i))
		check(q.Put(m))
	}
}

func init() { mp.Register(spiller) }

func queuePoster(q, bounded *mp.Queue, n int) {
	for i := range n {
		check(q.Put(fmt.Sprint("v", i)))
	}
	check(bounded.Put(1))
	check(bounded.PutNowait(2))
}

func init() { mp.Register(queuePoster) }

//go:wasmimport sandbox queue_post
func rawQueuePost(handle int32, data unsafe.Pointer, dataLen uint32, timeoutNs int64) uint32

func queueMover(from, to *mp.Queue) {
	var v int
	check(from.GetTimeout(&v, 10*time.Second))
	check(to.Put(v))
}

func init() { mp.Register(queueMover) }

func joinableWorker(q *mp.JoinableQueue, done *mp.Queue) {
	for {
		var job *string
		check(q.Get(&job))
		if job == nil {
			check(q.TaskDone())
			return
		}
		time.Sleep(20 * time.Millisecond)
		check(done.Put(*job))
		check(q.TaskDone())
	}
}

func joinable([]string) {
	q := mp.NewJoinableQueue(0)
	done := mp.NewQueue(0)
	for _, j := range []string{"a", "b", "c", "d", "e"} {
		check(q.Put(j))
	}
	// Before the workers start: a slow machine could otherwise let them
	// finish every job first.
	ok, err := q.JoinTimeout(0)
	say("join_timeout(0) done=%v err=%s", ok, errText(err))
	ws := []*mp.Process{start(joinableWorker, mp.Args(q, done)), start(joinableWorker, mp.Args(q, done))}
	check(q.Join())
	say("after join qsize=%d unfinished=%d finished=%d", q.Qsize(), q.Unfinished(), done.Qsize())
	for range ws {
		check(q.Put(nil))
	}
	check(q.Join())
	for _, w := range ws {
		check(w.Join())
	}
	err = q.TaskDone()
	say("task_done too often: %s value=%v", err, errors.Is(err, mp.ErrValue))
}

// Barriers.

func barrierRunner(b *mp.Barrier, rounds int, out *mp.Queue) {
	for r := range rounds {
		i, err := b.Wait()
		check(err)
		check(out.Put([2]int{r, i}))
	}
}

func barrierIndex([]string) {
	const parties, rounds = 4, 3
	b := mp.NewBarrier(parties)
	out := mp.NewQueue(0)
	say("parties=%d n_waiting=%d broken=%v", b.Parties(), b.NWaiting(), b.Broken())
	var ps []*mp.Process
	for range parties - 1 {
		ps = append(ps, start(barrierRunner, mp.Args(b, rounds, out)))
	}
	barrierRunner(b, rounds, out)
	for _, p := range ps {
		check(p.Join())
	}
	byRound := make([][]int, rounds)
	for range parties * rounds {
		var ri [2]int
		check(out.GetNowait(&ri))
		byRound[ri[0]] = append(byRound[ri[0]], ri[1])
	}
	for r, idx := range byRound {
		slices.Sort(idx)
		say("round=%d indexes=%v", r, idx)
	}
}

func barrierWaiter(b *mp.Barrier, out *mp.Queue) {
	i, err := b.Wait()
	check(out.Put(fmt.Sprintf("index=%d err=%s broken=%v", i, errText(err), errors.Is(err, mp.ErrBrokenBarrier))))
}

func barrierTimeout([]string) {
	b := mp.NewBarrier(3)
	out := mp.NewQueue(0)
	p := start(barrierWaiter, mp.Args(b, out))
	waitUntil("the child waits", func() bool { return b.NWaiting() == 1 })
	t0 := time.Now()
	_, err := b.WaitTimeout(200 * time.Millisecond)
	say("main: %s broken=%v waited=%v", err, errors.Is(err, mp.ErrBrokenBarrier), time.Since(t0) >= 200*time.Millisecond)
	var s string
	check(out.GetTimeout(&s, 10*time.Second))
	say("child: %s", s)
	check(p.Join())
	say("broken=%v n_waiting=%d", b.Broken(), b.NWaiting())
	_, err = b.WaitTimeout(0)
	say("wait on broken: broken=%v", errors.Is(err, mp.ErrBrokenBarrier))
	check(b.Reset())
	say("after reset broken=%v", b.Broken())

	// The barrier's default timeout.
	d := mp.NewBarrier(2, mp.BarrierTimeout(150*time.Millisecond))
	t0 = time.Now()
	_, err = d.Wait()
	say("default timeout: broken=%v waited=%v", errors.Is(err, mp.ErrBrokenBarrier), time.Since(t0) >= 150*time.Millisecond)

	// After the reset, two processes pass the first barrier... with a
	// third party.
	b2 := start(barrierWaiter, mp.Args(b, out))
	b3 := start(barrierWaiter, mp.Args(b, out))
	i, err := b.Wait()
	check(err)
	check(b2.Join())
	check(b3.Join())
	var got []string
	for range 2 {
		check(out.GetNowait(&s))
		got = append(got, s[:len("index=N")])
	}
	got = append(got, fmt.Sprintf("index=%d", i))
	slices.Sort(got)
	say("after reset: %v", got)
}

func barrierAbort([]string) {
	b := mp.NewBarrier(3)
	out := mp.NewQueue(0)
	p1 := start(barrierWaiter, mp.Args(b, out))
	p2 := start(barrierWaiter, mp.Args(b, out))
	waitUntil("two children wait", func() bool { return b.NWaiting() == 2 })
	check(b.Abort())
	for range 2 {
		var s string
		check(out.GetTimeout(&s, 10*time.Second))
		say("child: %s", s)
	}
	check(p1.Join())
	check(p2.Join())
	_, err := b.Wait()
	say("later wait: %s broken=%v", err, errors.Is(err, mp.ErrBrokenBarrier))
	check(b.Reset())
	say("after reset broken=%v", b.Broken())
}

// actionNS is the namespace the barrier action counts rounds in: every
// process that waits at the barrier sets it, since the action runs in
// whichever arrives last.
var actionNS *mp.Namespace

func barrierAction() {
	var n int
	check(actionNS.Get("rounds", &n))
	check(actionNS.Set("rounds", n+1))
}

func actionRunner(b *mp.Barrier, ns *mp.Namespace, rounds int, out *mp.Queue) {
	actionNS = ns
	for r := range rounds {
		_, err := b.Wait()
		check(err)
		// The action ran before anyone was released: this round's count
		// is there, and the next round's action cannot run before this
		// process arrives at it.
		var n int
		check(ns.Get("rounds", &n))
		check(out.Put(n == r+1))
	}
}

func init() { mp.Register(actionRunner) }

func barrierActionScenario([]string) {
	const parties, rounds = 3, 2
	ns := mp.Manager().Namespace()
	check(ns.Set("rounds", 0))
	b := mp.NewBarrier(parties, mp.BarrierAction(barrierAction))
	out := mp.NewQueue(0)
	var ps []*mp.Process
	for range parties - 1 {
		ps = append(ps, start(actionRunner, mp.Args(b, ns, rounds, out)))
	}
	actionRunner(b, ns, rounds, out)
	for _, p := range ps {
		check(p.Join())
	}
	all := true
	for range parties * rounds {
		var ok bool
		check(out.GetNowait(&ok))
		all = all && ok
	}
	var n int
	check(ns.Get("rounds", &n))
	say("actions=%d seen_before_release=%v", n, all)
}

func failingAction() error { return errors.New("the action failed") }

func barrierActionFail([]string) {
	b := mp.NewBarrier(2, mp.BarrierAction(failingAction))
	out := mp.NewQueue(0)
	p := start(barrierWaiter, mp.Args(b, out))
	waitUntil("the child waits", func() bool { return b.NWaiting() == 1 })
	_, err := b.Wait() // main arrives last: it runs the action
	say("runner: %s", errText(err))
	var s string
	check(out.GetTimeout(&s, 10*time.Second))
	say("other: %s", s)
	check(p.Join())
	say("broken=%v", b.Broken())
}

// Locks.

func rlockReleaser(r *mp.RLock, out *mp.Queue) {
	err := r.Release()
	check(out.Put(fmt.Sprintf("%s not_owner=%v", errText(err), errors.Is(err, mp.ErrNotOwner))))
}

func lockReleaser(l *mp.Lock, out *mp.Queue) {
	check(out.Put(errText(l.Release())))
}

func lockRelease([]string) {
	l := mp.NewLock()
	err := l.Release()
	say("lock release unheld: %s value=%v", err, errors.Is(err, mp.ErrValue))
	say("lock repr=%v", l)
	check(l.Acquire())
	say("lock locked=%v repr=%v", l.Locked(), l)
	// CPython lets another process release a Lock.
	out := mp.NewQueue(0)
	p := start(lockReleaser, mp.Args(l, out))
	check(p.Join())
	var s string
	check(out.GetNowait(&s))
	say("lock released by a child: %s locked=%v", s, l.Locked())

	r := mp.NewRLock()
	err = r.Release()
	say("rlock release unheld: %s not_owner=%v", err, errors.Is(err, mp.ErrNotOwner))
	check(r.Acquire())
	check(r.Acquire())
	say("rlock repr=%v", r)
	p = start(rlockReleaser, mp.Args(r, out))
	check(p.Join())
	check(out.GetNowait(&s))
	say("rlock release by another process: %s", s)
	check(r.Release())
	check(r.Release())
	err = r.Release()
	say("rlock release once too often: %s", errText(err))

	s1 := mp.NewSemaphore(0)
	check(s1.Release())
	check(s1.Release())
	say("semaphore value=%d repr=%v", s1.Value(), s1)
	ok, err := s1.TryAcquire()
	say("semaphore try=%v err=%s value=%d", ok, errText(err), s1.Value())

	b := mp.NewBoundedSemaphore(2)
	check(b.Acquire())
	check(b.Release())
	err = b.Release()
	say("bounded release above initial: %s value=%v", err, errors.Is(err, mp.ErrValue))
	say("bounded repr=%v", b)
}

func lockHolder(l *mp.Lock, held, release *mp.Event) {
	check(l.Acquire())
	held.Set()
	release.Wait(-1)
	check(l.Release())
}

func lockTimeout([]string) {
	l := mp.NewLock()
	held, release := mp.NewEvent(), mp.NewEvent()
	p := start(lockHolder, mp.Args(l, held, release))
	if !held.Wait(30 * time.Second) {
		fail("the child never took the lock")
	}
	say("repr while a child holds it=%v", l)
	ok, err := l.TryAcquire()
	say("try_acquire=%v err=%s", ok, errText(err))
	t0 := time.Now()
	ok, err = l.AcquireTimeout(200 * time.Millisecond)
	say("acquire 200ms=%v waited=%v err=%s", ok, time.Since(t0) >= 200*time.Millisecond, errText(err))
	release.Set()
	ok, err = l.AcquireTimeout(30 * time.Second)
	say("acquire after release=%v err=%s", ok, errText(err))
	check(l.Release())
	check(p.Join())

	s := mp.NewSemaphore(1)
	check(s.Acquire())
	t0 = time.Now()
	ok, err = s.AcquireTimeout(100 * time.Millisecond)
	say("semaphore acquire at 0=%v waited=%v err=%s", ok, time.Since(t0) >= 100*time.Millisecond, errText(err))
}

func counterWorker(l *mp.Lock, ns *mp.Namespace, n int) {
	for range n {
		check(l.Acquire())
		var v int
		check(ns.Get("counter", &v))
		check(ns.Set("counter", v+1))
		check(l.Release())
	}
}

func lockCounter(args []string) {
	procs := intArg(args, 0, 4)
	const each = 200
	l := mp.NewLock()
	ns := mp.Manager().Namespace()
	check(ns.Set("counter", 0))
	var ps []*mp.Process
	for range procs {
		ps = append(ps, start(counterWorker, mp.Args(l, ns, each)))
	}
	for _, p := range ps {
		check(p.Join())
	}
	var v int
	check(ns.Get("counter", &v))
	say("counter=%d want=%d", v, procs*each)
}

// racyWorker adds n to the counter without a lock: a read, then a
// write, which another process's may come between. The workers begin
// together (at a barrier): one that started late on a slow machine would
// otherwise find the others done.
func racyWorker(ns *mp.Namespace, b *mp.Barrier, n int) {
	_, err := b.Wait()
	check(err)
	for range n {
		var v int
		check(ns.Get("counter", &v))
		check(ns.Set("counter", v+1))
	}
}

func raceCounter(args []string) {
	procs, each := intArg(args, 0, 4), intArg(args, 1, 20)
	ns := mp.Manager().Namespace()
	check(ns.Set("counter", 0))
	var ps []*mp.Process
	b := mp.NewBarrier(procs)
	for range procs {
		ps = append(ps, start(racyWorker, mp.Args(ns, b, each)))
	}
	for _, p := range ps {
		check(p.Join())
	}
	var v int
	check(ns.Get("counter", &v))
	say("counter=%d want=%d", v, procs*each)
}

// Event and Condition.

func eventWaiter(e *mp.Event, out *mp.Queue) {
	set := e.Wait(-1)
	check(out.Put(set))
}

func event([]string) {
	e := mp.NewEvent()
	say("is_set=%v", e.IsSet())
	t0 := time.Now()
	say("wait 100ms=%v waited=%v", e.Wait(100*time.Millisecond), time.Since(t0) >= 100*time.Millisecond)
	out := mp.NewQueue(0)
	var ps []*mp.Process
	for range 3 {
		ps = append(ps, start(eventWaiter, mp.Args(e, out)))
	}
	e.Set()
	woken := 0
	for range ps {
		var set bool
		check(out.GetTimeout(&set, 30*time.Second))
		if set {
			woken++
		}
	}
	for _, p := range ps {
		check(p.Join())
	}
	say("woken=%d is_set=%v wait(0)=%v", woken, e.IsSet(), e.Wait(0))
	e.Clear()
	say("after clear is_set=%v wait(0)=%v", e.IsSet(), e.Wait(0))
}

func condWaiter(c *mp.Condition, ns *mp.Namespace, out *mp.Queue) {
	check(c.Acquire())
	var n int
	check(ns.Get("waiting", &n))
	check(ns.Set("waiting", n+1))
	notified, err := c.Wait(-1)
	check(err)
	check(out.Put(notified))
	check(c.Release())
}

func condWaitFor(c *mp.Condition, ns *mp.Namespace, out *mp.Queue) {
	check(c.Acquire())
	ok, err := c.WaitFor(func() bool {
		var ready bool
		check(ns.Get("ready", &ready))
		return ready
	}, -1)
	check(err)
	check(out.Put(ok))
	check(c.Release())
}

func init() { mp.Register(condWaitFor) }

func condition([]string) {
	c := mp.NewCondition(nil)
	ns := mp.Manager().Namespace()
	check(ns.Set("waiting", 0))
	check(ns.Set("ready", false))
	_, err := c.Wait(0)
	say("wait without the lock: %s not_owner=%v", err, errors.Is(err, mp.ErrNotOwner))
	err = c.Notify(1)
	say("notify without the lock: %s not_owner=%v", err, errors.Is(err, mp.ErrNotOwner))
	check(c.Acquire())
	t0 := time.Now()
	notified, err := c.Wait(100 * time.Millisecond)
	say("wait 100ms notified=%v waited=%v err=%s", notified, time.Since(t0) >= 100*time.Millisecond, errText(err))
	check(c.Release())

	out := mp.NewQueue(0)
	w1 := start(condWaiter, mp.Args(c, ns, out))
	w2 := start(condWaiter, mp.Args(c, ns, out))
	waiting := func(n int) func() bool {
		return func() bool {
			// A waiter counts itself with the lock held and releases it
			// only in Wait: holding the lock, main sees it waiting.
			check(c.Acquire())
			defer c.Release()
			var v int
			check(ns.Get("waiting", &v))
			return v == n
		}
	}
	waitUntil("two waiters", waiting(2))
	check(c.Acquire())
	check(c.Notify(1))
	check(c.Release())
	var got bool
	check(out.GetTimeout(&got, 30*time.Second))
	err = out.GetTimeout(nil, 200*time.Millisecond)
	say("notify(1): first woken=%v second still waiting=%v", got, errors.Is(err, mp.ErrEmpty))
	check(c.Acquire())
	check(c.NotifyAll())
	check(c.Release())
	check(out.GetTimeout(&got, 30*time.Second))
	say("notify_all: second woken=%v", got)
	check(w1.Join())
	check(w2.Join())

	// wait_for over a Lock.
	c2 := mp.NewCondition(mp.NewLock())
	w3 := start(condWaitFor, mp.Args(c2, ns, out))
	check(c2.Acquire())
	check(ns.Set("ready", true))
	check(c2.NotifyAll())
	check(c2.Release())
	check(out.GetTimeout(&got, 30*time.Second))
	check(w3.Join())
	say("wait_for=%v", got)
	check(c2.Acquire())
	ok, err := c2.WaitFor(func() bool { return false }, 100*time.Millisecond)
	say("wait_for false 100ms=%v err=%s", ok, errText(err))
	check(c2.Release())
}

// Manager objects.

func nsChild1(ns *mp.Namespace) {
	var a int
	check(ns.Get("a", &a))
	check(ns.Set("b", fmt.Sprintf("a was %d", a)))
	check(ns.Set("a", a+1))
}

func nsChild2(ns *mp.Namespace, out *mp.Queue) {
	var a int
	var b string
	check(ns.Get("a", &a))
	check(ns.Get("b", &b))
	check(ns.Set("c", []any{1, "two", nil, true, 2.5}))
	check(ns.Delete("z"))
	err := ns.Get("z", nil)
	check(out.Put(fmt.Sprintf("a=%d b=%s missing=%s", a, b, errText(err))))
}

func namespace([]string) {
	m := mp.Manager()
	ns := m.Namespace()
	say("manager=%s repr=%v", m.Name(), ns)
	check(ns.Set("a", 1))
	check(ns.Set("z", "to delete"))
	p1 := start(nsChild1, mp.Args(ns))
	check(p1.Join())
	out := mp.NewQueue(0)
	p2 := start(nsChild2, mp.Args(ns, out))
	check(p2.Join())
	var s string
	check(out.GetNowait(&s))
	say("child2 saw %s", s)
	say("names=%s", p1.Name()+","+p2.Name())
	say("repr=%v", ns)
	err := ns.Get("nope", nil)
	say("missing: %s no_key=%v", err, errors.Is(err, mp.ErrNoKey))
	err = ns.Delete("nope")
	say("delete missing: %s", err)
	say("has a=%v nope=%v names=%v", ns.Has("a"), ns.Has("nope"), ns.Names())
	check(ns.Set("_hidden", 1))
	check(ns.Set("x1", 2))
	check(ns.Set("x", 3))
	say("repr=%v", ns)
}

func dictListChild(d *mp.Dict, l *mp.List) {
	check(d.Set(1, "1"))
	check(d.Set("2", 2))
	check(d.Set(0.25, nil))
	var xs []int
	check(l.All(&xs))
	slices.Reverse(xs)
	for i, x := range xs {
		check(l.Set(i, x))
	}
}

func dictList([]string) {
	m := mp.Manager()
	d := m.Dict()
	l := m.List(0, 1, 2, 3, 4)
	p := start(dictListChild, mp.Args(d, l))
	check(p.Join())
	say("dict=%v len=%d", d, d.Len())
	say("list=%v len=%d", l, l.Len())
	var s string
	check(d.Get(1, &s))
	say("d[1]=%s contains 2=%v contains '2'=%v", s, d.Contains(2), d.Contains("2"))
	err := d.Get(3, &s)
	say("missing: %s no_key=%v", err, errors.Is(err, mp.ErrNoKey))
	check(d.Delete("2"))
	var keys []any
	check(d.Keys(&keys))
	say("keys=%v", keys)
	var v int
	check(l.Pop(-1, &v))
	say("pop=%d list=%v", v, l)
	err = l.Get(10, &v)
	say("get out of range: %s index=%v", err, errors.Is(err, mp.ErrIndex))
	err = l.Set(-10, 1)
	say("set out of range: %s", err)
	e := m.List()
	err = e.Pop(-1, &v)
	say("pop empty: %s", err)
	check(l.Append(map[string]int{"k": 1}))
	say("list=%v", l)
}

// Producer is a Process subclass whose Queue is set after Init, as Python
// sets fields after Process.__init__.
type Producer struct {
	mp.Process
	Queue *mp.Queue
	N     int
}

// Run puts N values.
func (p *Producer) Run() {
	for i := range p.N {
		check(p.Queue.Put(p.Name() + ":" + strconv.Itoa(i)))
	}
}

func classFields([]string) {
	p := &Producer{}
	mp.Init(p)
	p.Queue = mp.NewQueue(0)
	p.N = 3
	check(p.Start())
	check(p.Join())
	var got []string
	for range 3 {
		var s string
		check(p.Queue.GetNowait(&s))
		got = append(got, s)
	}
	say("got=%v exitcode=%s", got, exitCode(&p.Process))
}

// Pool.

func square(x int) int { return x * x }

func add(a, b int) int { return a + b }

func slowSquare(x int) int {
	time.Sleep(time.Duration(10*(x%4)) * time.Millisecond)
	return x * x
}

func whoAmI(int) string { return mp.CurrentProcess().Name() }

var initialized string

func initWorker(tag string) { initialized = tag }

// nameInit reports the initializer's mark and whether the worker sees
// itself as CPython's pool workers do.
func nameInit(int) string {
	repr := mp.CurrentProcess().String()
	return fmt.Sprintf("%s self_repr_ok=%v", initialized,
		strings.HasPrefix(repr, "<ForkProcess name='ForkPoolWorker-") && strings.HasSuffix(repr, " started daemon>"))
}

func failingSquare(x int) (int, error) {
	switch x {
	case 3:
		return 0, fmt.Errorf("bad input %d", x)
	case 5:
		panic("five is right out")
	}
	return x * x, nil
}

func pool([]string) {
	p := mp.NewPool(4, mp.Initializer(initWorker, "init-ok"))
	say("repr=%v", p)
	var names []string
	for _, w := range p.Workers() {
		names = append(names, w.Name())
	}
	say("workers=%v daemon=%v", names, p.Workers()[0].Daemon())
	xs := make([]int, 100)
	for i := range xs {
		xs[i] = i
	}
	got, err := mp.Map[int](p, square, xs)
	check(err)
	ok := len(got) == len(xs)
	for i, v := range got {
		ok = ok && v == i*i
	}
	say("map len=%d in_order=%v first=%v", len(got), ok, got[:5])

	var seq []int
	for v, err := range mp.Imap[int](p, slowSquare, xs[:20]) {
		check(err)
		seq = append(seq, v)
	}
	ok = len(seq) == 20
	for i, v := range seq {
		ok = ok && v == i*i
	}
	say("imap len=%d in_order=%v", len(seq), ok)

	var un []int
	for v, err := range mp.ImapUnordered[int](p, slowSquare, xs[:20]) {
		check(err)
		un = append(un, v)
	}
	slices.Sort(un)
	ok = len(un) == 20
	for i, v := range un {
		ok = ok && v == i*i
	}
	say("imap_unordered len=%d complete=%v", len(un), ok)

	sums, err := mp.Starmap[int](p, add, [][]any{{1, 2}, {3, 4}, {5, 6}})
	say("starmap=%v err=%s", sums, errText(err))
	v, err := mp.Apply[int](p, add, 20, 22)
	say("apply=%d err=%s", v, errText(err))
	r := mp.ApplyAsync[int](p, square, 7)
	say("apply_async wait=%v", r.Wait(30*time.Second))
	okk, err := r.Successful()
	v, err2 := r.Get(0)
	say("apply_async ready=%v successful=%v err=%s get=%d err=%s", r.Ready(), okk, errText(err), v, errText(err2))
	mr := mp.MapAsync[int](p, square, []int{1, 2, 3}, mp.Chunksize(2))
	vs, err := mr.Get(30 * time.Second)
	say("map_async=%v err=%s", vs, errText(err))
	empty, err := mp.Map[int](p, square, []int{})
	say("map empty=%v err=%s", empty, errText(err))

	whos, err := mp.Map[string](p, whoAmI, xs[:40], mp.Chunksize(1))
	check(err)
	seen := map[string]bool{}
	for _, w := range whos {
		seen[w] = true
	}
	allWorkers := true
	for w := range seen {
		allWorkers = allWorkers && strings.HasPrefix(w, "ForkPoolWorker-")
	}
	say("workers named ForkPoolWorker-N=%v", allWorkers)
	inits, err := mp.Map[string](p, nameInit, []int{1})
	say("initializer=%v err=%s", inits, errText(err))

	p.Close()
	_, err = mp.Map[int](p, square, xs)
	say("map after close: %s value=%v", err, errors.Is(err, mp.ErrValue))
	check(p.Join())
	say("repr=%v", p)
	alive := 0
	for _, w := range p.Workers() {
		if w.IsAlive() {
			alive++
		}
	}
	say("alive after join=%d", alive)
}

func poolError([]string) {
	p := mp.NewPool(2)
	defer p.Terminate()
	err := p.Join()
	say("join while running: %s", errText(err))
	_, err = mp.Map[int](p, failingSquare, []int{0, 1, 2, 3, 4}, mp.Chunksize(1))
	var re *mp.RemoteError
	say("map error: %s remote=%v", errText(err), errors.As(err, &re))
	if re != nil {
		say("remote func=%s worker=%v", re.Func, strings.HasPrefix(re.Worker, "ForkPoolWorker-"))
	}
	_, err = mp.Apply[int](p, failingSquare, 5)
	errors.As(err, &re)
	say("apply panic: %s panic=%v stack=%v", errText(err), re.Panic, strings.Contains(re.Stack, "failingSquare"))
	r := mp.ApplyAsync[int](p, failingSquare, 3)
	r.Wait(-1)
	ok, serr := r.Successful()
	say("apply_async successful=%v err=%s", ok, errText(serr))
	for v, err := range mp.Imap[int](p, failingSquare, []int{2, 3, 4}) {
		say("imap v=%d err=%s", v, errText(err))
	}
	got, err := mp.Map[int](p, square, []int{1, 2, 3})
	say("pool still works: %v err=%s", got, errText(err))
	_, err = mp.Apply[int](p, add, 1)
	say("wrong arity: %s", errText(err))
	workers := p.Workers()
	same := len(workers) == 2
	say("same workers=%v", same)
}

func poolTerminate([]string) {
	p := mp.NewPool(2)
	r := mp.ApplyAsync[int](p, sleepy, 60_000)
	p.Terminate()
	_, err := r.Get(0)
	say("pending after terminate: %s state=%v", errText(err), errors.Is(err, mp.ErrState))
	codes := []string{}
	for _, w := range p.Workers() {
		codes = append(codes, exitCode(w))
	}
	say("worker exitcodes=%v repr=%v", codes, p)
	_, err = mp.Apply[int](p, square, 2)
	say("apply after terminate: %s", errText(err))
}

func sleepy(ms int) int {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms
}

func init() { mp.Register(sleepy) }

// Stress.

const producers, consumers = 4, 4

// msg is one message of a stress test: producer and sequence number.
type msg struct {
	P, S int
}

// id is a message's number in 0..n-1.
func (m msg) id(perProducer int) int { return m.P*perProducer + m.S }

// hash mixes a message number (splitmix64) so that a sum of hashes
// detects a lost message replaced by a duplicate.
func hash(id int) uint64 {
	z := uint64(id) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// tally is what a consumer reports.
type tally struct {
	Count    int
	Sum      uint64
	Disorder int // messages of a producer that came before an earlier one
}

func (t *tally) add(m msg, per int, last []int) {
	t.Count++
	t.Sum += hash(m.id(per))
	if m.S <= last[m.P] {
		t.Disorder++
	}
	last[m.P] = m.S
}

func producer(q *mp.Queue, p, per int) {
	for s := range per {
		check(q.Put(msg{p, s}))
	}
}

func consumer(q *mp.Queue, per int, out *mp.Queue) {
	var t tally
	last := slices.Repeat([]int{-1}, producers)
	for {
		var m *msg
		check(q.Get(&m))
		if m == nil {
			break
		}
		t.add(*m, per, last)
	}
	check(out.Put(t))
}

func report(kind string, n, per int, started time.Time, tallies []tally) {
	var total tally
	for _, t := range tallies {
		total.Count += t.Count
		total.Sum += t.Sum
		total.Disorder += t.Disorder
	}
	var want uint64
	for id := range producers * per {
		want += hash(id)
	}
	say("%s messages=%d count=%d checksum_ok=%v disorder=%d", kind, n, total.Count, total.Sum == want, total.Disorder)
	fmt.Fprintf(os.Stderr, "ipc: %s: %d messages in %v\n", kind, n, time.Since(started).Round(time.Millisecond))
}

func stressQueue(args []string) {
	n := intArg(args, 0, 100_000)
	per := n / producers
	t0 := time.Now()
	q := mp.NewQueue(1000)
	out := mp.NewQueue(0)
	var ps, cs []*mp.Process
	for range consumers {
		cs = append(cs, start(consumer, mp.Args(q, per, out)))
	}
	for p := range producers {
		ps = append(ps, start(producer, mp.Args(q, p, per)))
	}
	for _, p := range ps {
		check(p.Join())
	}
	for range cs {
		check(q.Put(nil))
	}
	tallies := make([]tally, consumers)
	for i := range cs {
		check(out.Get(&tallies[i]))
	}
	for _, c := range cs {
		check(c.Join())
	}
	report("queue", producers*per, per, t0, tallies)
}

func pipeProducer(w *mp.Conn, p, per int) {
	for s := range per {
		check(w.Send(msg{p, s}))
	}
}

func pipeConsumer(r *mp.Conn, per int, out *mp.Queue) {
	var t tally
	last := slices.Repeat([]int{-1}, producers)
	for {
		var m msg
		err := r.Recv(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		check(err)
		t.add(m, per, last)
	}
	check(out.Put(t))
}

func stressPipe(args []string) {
	n := intArg(args, 0, 100_000)
	per := n / producers
	t0 := time.Now()
	out := mp.NewQueue(0)
	var ps []*mp.Process
	for p := range producers {
		// Each pair shares a pipe. The children inherit both ends, as
		// forked children do; each closes the end it does not use, and
		// main closes both once the pair has started, so that the
		// consumer sees EOF when its producer ends.
		r, w := mp.Pipe(false)
		ps = append(ps, start(pipeConsumerClosing, mp.Args(r, w, per, out)))
		ps = append(ps, start(pipeProducerClosing, mp.Args(r, w, p, per)))
		check(r.Close())
		check(w.Close())
	}
	tallies := make([]tally, consumers)
	for i := range consumers {
		check(out.Get(&tallies[i]))
	}
	for _, p := range ps {
		check(p.Join())
	}
	report("pipe", producers*per, per, t0, tallies)
}

func pipeConsumerClosing(r, w *mp.Conn, per int, out *mp.Queue) {
	check(w.Close())
	pipeConsumer(r, per, out)
}

func pipeProducerClosing(r, w *mp.Conn, p, per int) {
	check(r.Close())
	pipeProducer(w, p, per)
}

func init() { mp.Register(pipeConsumerClosing, pipeProducerClosing) }

// Death.

func holdLockForever(l *mp.Lock, held *mp.Event) {
	check(l.Acquire())
	held.Set()
	for {
		time.Sleep(time.Hour)
	}
}

func lockWaiter(l *mp.Lock, out *mp.Queue) {
	ok, err := l.AcquireTimeout(60 * time.Second)
	check(err)
	check(out.Put(ok))
	if ok {
		check(l.Release())
	}
}

func dieLock([]string) {
	l := mp.NewLock()
	held := mp.NewEvent()
	out := mp.NewQueue(0)
	holder := start(holdLockForever, mp.Args(l, held))
	if !held.Wait(30 * time.Second) {
		fail("the holder never took the lock")
	}
	waiter := start(lockWaiter, mp.Args(l, out))
	ok, err := l.TryAcquire()
	say("held by the child: try_acquire=%v err=%s", ok, errText(err))
	check(holder.Kill())
	check(holder.Join())
	say("holder exitcode=%s", exitCode(holder))
	var got bool
	check(out.GetTimeout(&got, 60*time.Second))
	check(waiter.Join())
	say("waiter acquired=%v", got)
	ok, err = l.AcquireTimeout(10 * time.Second)
	say("main acquired=%v err=%s", ok, errText(err))
}

func dieBarrier([]string) {
	b := mp.NewBarrier(3)
	out := mp.NewQueue(0)
	victim := start(barrierWaiter, mp.Args(b, out))
	other := start(barrierWaiter, mp.Args(b, out))
	waitUntil("two children wait", func() bool { return b.NWaiting() == 2 })
	check(victim.Kill())
	check(victim.Join())
	say("victim exitcode=%s", exitCode(victim))
	var s string
	check(out.GetTimeout(&s, 60*time.Second))
	say("other: %s", s)
	check(other.Join())
	_, err := b.WaitTimeout(10 * time.Second)
	say("main: %s broken=%v", errText(err), errors.Is(err, mp.ErrBrokenBarrier))
	say("broken=%v", b.Broken())
}
