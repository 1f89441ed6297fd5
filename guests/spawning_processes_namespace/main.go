//go:build wasip1

// Command spawning_processes_namespace is the book's
// spawning_processes_namespace.py: spawning_processes with the target
// imported from the separate module myFunc.py, here the package
// github.com/sandbox-dev/sandbox/guests/internal/myfunc. Six processes,
// each started and joined before the next one, run myFunc(i) for i in
// 0..5. The output is deterministic: the same 21 lines as
// spawning_processes.
//
//	import multiprocessing
//	from myFunc import myFunc
//
//	if __name__ == '__main__':
//	    for i in range(6):
//	        process = multiprocessing.Process(target=myFunc, args=(i,))
//	        process.start()
//	        process.join()
//
// The README adds a namespace shared by the processes, whose value the
// main process prints last ("Namespace value: 42"). The book's script has
// none; this guest adds one after the book's loop as Python's classic
// Namespace example does: a Manager's Namespace, a worker process that
// sets its value, and the main process reading it after the join.
//
//	def worker(ns):
//	    ns.value = 42
//
//	    mgr = multiprocessing.Manager()
//	    ns = mgr.Namespace()
//	    p = multiprocessing.Process(target=worker, args=(ns,))
//	    p.start()
//	    p.join()
//	    print('Namespace value:', ns.value)
//
// The value lives in the host, so the main process sees what the worker
// set. The Manager comes after the loop, so the six processes keep the
// names Process-1 to Process-6; the Manager uses up number 7 (as CPython's
// server process does) and the worker is Process-8.
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/internal/myfunc"
	"github.com/sandbox-dev/sandbox/guests/mp"
)

// worker is the classic example's worker(ns): it sets the shared value.
func worker(ns *mp.Namespace) {
	check(ns.Set("value", 42))
}

func main() {
	mp.Register(worker)
	mp.Main(func() {
		for i := range 6 {
			process := mp.NewProcess(myfunc.MyFunc, mp.Args(i))
			check(process.Start())
			check(process.Join())
		}

		ns := mp.Manager().Namespace()
		p := mp.NewProcess(worker, mp.Args(ns))
		check(p.Start())
		check(p.Join())
		var value int
		check(ns.Get("value", &value))
		fmt.Println("Namespace value:", value)
	})
}

// check ends the process as an uncaught exception would (exit code 1).
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "spawning_processes_namespace: %s: %v\n", mp.CurrentProcess().Name(), err)
		os.Exit(1)
	}
}
