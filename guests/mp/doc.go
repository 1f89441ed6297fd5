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
//     the values become.
//   - A class's arguments are its exported fields as they are at Init,
//     because the sandbox fixes them when the process is created; Start
//     fails if they changed since.
//   - Names live in the host: a process renaming itself is seen renamed by
//     every process. A name may not be empty.
//   - A blocking call (Join, and the IPC calls to come) blocks every
//     goroutine of the calling process.
//
// IPC objects (Pipe, Queue, Lock, ...) will join this package as handles
// that encode as JSON, so they can be passed in Args and in a class's
// fields.
package mp
