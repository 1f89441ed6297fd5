// Package mp is the Go guest SDK of the sandbox: Python's multiprocessing
// for Go programs compiled to WebAssembly (GOOS=wasip1 GOARCH=wasm) and run
// with `sandbox run`. Every process is a separate OS process running the
// same module; every process operation is a call to the host module
// "sandbox" (docs/ABI.md), which owns all shared state.
//
// A program registers its targets, then hands its main body to Main:
//
//	package main
//
//	import (
//		"fmt"
//		"time"
//
//		"github.com/sandbox-dev/sandbox/guests/mp"
//	)
//
//	// greet is a target: any function whose parameters JSON can carry,
//	// returning nothing or an error.
//	func greet(who string, times int) {
//		for range times {
//			fmt.Printf("hello %s from %s\n", who, mp.CurrentProcess().Name())
//		}
//	}
//
//	func nap(d time.Duration) { time.Sleep(d) }
//
//	// Worker is a "subclass" of Process: its exported fields are its
//	// arguments and Run is its body.
//	type Worker struct {
//		mp.Process
//		Jobs []string
//	}
//
//	func (w *Worker) Run() {
//		for _, j := range w.Jobs {
//			fmt.Println(w.Name(), "does", j)
//		}
//	}
//
//	func main() {
//		// Runs in every process: registration only.
//		mp.Register(greet, nap)
//		mp.RegisterClass(&Worker{})
//		mp.Main(func() {
//			// Runs in MainProcess only.
//			p := mp.NewProcess(greet, mp.Args("world", 2)) // Process-1
//			w := &Worker{Jobs: []string{"a", "b"}}
//			mp.Init(w) // Worker-2
//			s := mp.NewProcess(nap, mp.Args(time.Minute), mp.Daemon(true)) // Process-3
//			if err := p.Start(); err != nil {
//				panic(err)
//			}
//			if err := w.Start(); err != nil {
//				panic(err)
//			}
//			if err := s.Start(); err != nil {
//				panic(err)
//			}
//			p.Join()
//			w.Join()
//			fmt.Println(p)                   // <Process name='Process-1' pid=… parent=… stopped exitcode=0>
//			fmt.Println(mp.ActiveChildren()) // [<Process name='Process-3' pid=… parent=… started daemon>]
//			s.Terminate()
//			s.Join()
//			code, _ := s.ExitCode()
//			fmt.Println(code) // -15
//		})
//	}
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -o prog.wasm .
//
// # How it maps to Python
//
//	Python                                mp
//	Process(target=f, args=(1,), name=n)  NewProcess(f, Args(1), Name(n))  (f registered with Register)
//	class W(Process): def run(self)       type W struct{ mp.Process; ... } with Run(); RegisterClass, Init
//	p.start(), p.join(), p.join(t)        p.Start(), p.Join(), p.JoinTimeout(t)
//	p.terminate(), p.kill()               p.Terminate(), p.Kill()
//	p.is_alive(), p.exitcode              p.IsAlive(), p.ExitCode() (ok false for None)
//	p.pid, p.ident, p.name, p.daemon      p.Pid(), p.Ident(), p.Name()/SetName, p.Daemon()/SetDaemon
//	repr(p)                               p.String(), exactly CPython 3.11's
//	current_process(), parent_process()   CurrentProcess(), ParentProcess()
//	active_children()                     ActiveChildren()
//	if __name__ == "__main__": body       Main(body)
//	AssertionError, ...                   errors wrapping ErrState, ErrPermission, ... (errors.go)
//
// Names and exit codes are CPython's: MainProcess, Process-1, Process-1:1,
// Worker-2; 0, the code given to os.Exit, 1 for a panic or a returned
// error, -15 after Terminate, -9 after Kill. When any process ends, the
// host terminates its daemon children and waits for the others.
//
// # Differences from Python
//
//   - Arguments travel as JSON, not pickles: exported struct fields only,
//     no channels or functions, and a target's parameter types decide what
//     the values become. Messages (Put, Send, a manager's values) are
//     JSON too, except a []byte and a string, which travel raw and come
//     back as themselves, as Python's bytes and str do (docs/ABI.md,
//     "Messages").
//   - Names live in the host: a process renaming itself is seen renamed by
//     every process. A name may not be empty.
//   - A blocking call (Join, Get, Recv, Acquire, Wait, ...) blocks every
//     goroutine of the calling process: the guest is one WebAssembly
//     thread, and a host call suspends it.
//   - Errors are Go errors wrapping a sentinel (ErrFull, ErrEOF, ...),
//     with CPython's message where it has one, instead of exceptions.
//   - A process that dies holding a Lock or RLock releases it (the host
//     logs a warning); CPython would leave it held forever.
//   - Manager objects are not proxies to a server process: the host holds
//     them, as it holds every shared object.
//
// # Shared objects
//
// Pipe, Queue, JoinableQueue, Barrier, Lock, RLock, Semaphore,
// BoundedSemaphore, Event, Condition and the Manager's Namespace, Dict
// and List are handles on objects the host owns for the whole run. A
// handle is valid in every process, and every type encodes as JSON (its
// kind and handle), so an object is passed to a child as Python passes
// it: in the arguments, or in a field of a Process "subclass".
//
//	func producer(q *mp.Queue) {
//		for i := range 3 {
//			q.Put(i)
//		}
//		q.Put(nil)
//	}
//
//	type Consumer struct {
//		mp.Process
//		Queue *mp.Queue
//	}
//
//	func (c *Consumer) Run() {
//		for {
//			var v *int
//			c.Queue.Get(&v)
//			if v == nil {
//				return
//			}
//			fmt.Println(c.Name(), "got", *v)
//		}
//	}
//
//	// in main: mp.Register(producer); mp.RegisterClass(&Consumer{})
//	q := mp.NewQueue(0)
//	p := mp.NewProcess(producer, mp.Args(q))
//	c := &Consumer{}
//	mp.Init(c)
//	c.Queue = q // fields may be set after Init: they are sent at Start
//	p.Start()
//	c.Start()
//
//	Python                                  mp
//	Pipe(duplex)                            Pipe(duplex): Send/Recv (values), SendBytes/RecvBytes, Poll, Close
//	Queue(n), JoinableQueue(n)              NewQueue(n), NewJoinableQueue(n): Put/Get, ...Timeout, ...Nowait
//	queue.Full, queue.Empty, EOFError       ErrFull, ErrEmpty, ErrEOF (also io.EOF)
//	Barrier(n, action, timeout)             NewBarrier(n, BarrierAction(f), BarrierTimeout(d))
//	BrokenBarrierError                      ErrBrokenBarrier
//	Lock(), RLock(), Semaphore(n), ...      NewLock(), NewRLock(), NewSemaphore(n), NewBoundedSemaphore(n)
//	Event(), Condition(lock)                NewEvent(), NewCondition(lock) (nil: a new RLock)
//	Manager().Namespace(), .dict(), .list() Manager().Namespace(), .Dict(), .List()
//	Pool(n)                                 NewPool(n): Map, Imap, ImapUnordered, Starmap, Apply, ApplyAsync
//
// Timeouts are time.Duration. Methods named ...Timeout wait at most the
// duration given (a negative one does not wait); methods that take a
// timeout as Python's optional argument (Conn.Poll, Event.Wait,
// Condition.Wait, AsyncResult.Get, ...) wait forever when it is negative,
// as Python's None.
//
// # Pool
//
// Pool is built in this package, on processes and queues, as CPython
// builds it, rather than in the host: it needs nothing the host does not
// already offer, its workers are ordinary processes (named
// ForkPoolWorker-N, daemons, visible to ActiveChildren and to the host's
// limits and event log like any other), and the functions it calls live
// in the guest, which the host cannot call. Keeping it in the SDK keeps
// the ABI small; another language's SDK builds its own the same way.
//
// Tasks go to the workers through one Queue, as chunks of calls of one
// registered function with JSON arguments; results come back on another
// Queue, tagged with their job and chunk. CPython collects them with a
// thread; a guest cannot (a blocking host call would block that thread's
// siblings too), so the process that uses the pool collects them itself
// whenever it waits for a result, files each under its job, and meanwhile
// replaces workers that died. A function's panic or returned error comes
// back as a *RemoteError and the worker goes on. See Pool for the details.
package mp
