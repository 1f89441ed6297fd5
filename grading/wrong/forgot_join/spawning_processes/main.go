//go:build wasip1

// A deliberately wrong copy of guests/spawning_processes (grading/README.md),
// graded by grading/chapter3.yaml: the join in the loop is forgotten, so
// each process starts before the one before has been joined, and the six
// may run at the same time, their lines out of order and the main
// process's PIDs before them (each prints a few lines, and often ends
// before the next starts).
//
// Command spawning_processes is the book's spawning_processes.py: six
// processes, each started and joined before the next one, run myFunc(i)
// for i in 0..5. The output is deterministic: 21 lines, then one README
// sample line per process with its real pid.
//
//	def myFunc(i):
//	    print ('calling myFunc from process n°: %s' %i)
//	    for j in range (0,i):
//	        print('output from myFunc is :%s' %j)
//	    return
//
//	if __name__ == '__main__':
//	    for i in range(6):
//	        process = multiprocessing.Process(target=myFunc, args=(i,))
//	        process.start()
//	        process.join()
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func myFunc(i int) {
	fmt.Printf("calling myFunc from process n°: %d\n", i)
	for j := range i {
		fmt.Printf("output from myFunc is :%d\n", j)
	}
}

func main() {
	mp.Register(myFunc)
	mp.Main(func() {
		var pids []int
		for i := range 6 {
			process := mp.NewProcess(myFunc, mp.Args(i))
			check(process.Start())
			pids = append(pids, process.Pid())
		}
		for _, pid := range pids {
			fmt.Printf("Spawning new process with PID %d\n", pid)
		}
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawning_processes:", err)
		os.Exit(1)
	}
}
