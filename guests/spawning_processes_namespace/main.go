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
// main process prints last ("Namespace value: 42" in the README). The book
// script has none; this guest adds one as Python would, with a target that
// calls myFunc and then adds its i to the shared value:
//
//	def worker(ns, i):
//	    myFunc(i)
//	    ns.value += i
//
//	ns = multiprocessing.Manager().Namespace()
//	ns.value = 0
//	... Process(target=worker, args=(ns, i)) ...
//	print('Namespace value:', ns.value)
//
// The value lives in the host, so the main process sees what the children
// wrote: 0+1+2+3+4+5 = 15. The processes run one at a time, so the
// read-modify-write of each is not a race.
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/internal/myfunc"
	"github.com/sandbox-dev/sandbox/guests/mp"
)

// worker runs the book's myFunc(i), from the myfunc package, then adds i
// to the shared namespace's value.
func worker(ns *mp.Namespace, i int) {
	myfunc.MyFunc(i)
	var value int
	check(ns.Get("value", &value))
	check(ns.Set("value", value+i))
}

func main() {
	mp.Register(worker)
	mp.Main(func() {
		ns := mp.Manager().Namespace()
		check(ns.Set("value", 0))
		for i := range 6 {
			process := mp.NewProcess(worker, mp.Args(ns, i))
			check(process.Start())
			check(process.Join())
		}
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
