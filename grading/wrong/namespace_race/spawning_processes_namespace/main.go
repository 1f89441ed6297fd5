//go:build wasip1

// A deliberately wrong copy of guests/spawning_processes_namespace
// (grading/README.md), graded by grading/chapter3.yaml: instead of one
// worker setting the shared value to 42, two workers count it up together,
// each adding 1 twenty-one times, at the same time and without a lock.
// ns.value += 1 is a read then a write: when the two workers interleave,
// one overwrites the other's update, and the total falls short of 42. How
// short depends on timing: some runs print 42.
//
// The book's myFunc.py is a module of the student's own here (myFunc,
// below): a submission is built with the SDK alone.
//
//	def myFunc(i):
//	    print ('calling myFunc from process n°: %s' %i)
//	    for j in range (0,i):
//	        print('output from myFunc is :%s' %j)
//	    return
//
//	def worker(ns, n):
//	    for _ in range(n):
//	        ns.value += 1
//	        time.sleep(0.01)
//
//	if __name__ == '__main__':
//	    for i in range(6):
//	        process = multiprocessing.Process(target=myFunc, args=(i,))
//	        process.start()
//	        process.join()
//	    mgr = multiprocessing.Manager()
//	    ns = mgr.Namespace()
//	    ns.value = 0
//	    workers = [multiprocessing.Process(target=worker, args=(ns, 21)) for _ in range(2)]
//	    for p in workers:
//	        p.start()
//	    for p in workers:
//	        p.join()
//	    print('Namespace value:', ns.value)
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// myFunc is the book's myFunc(i).
func myFunc(i int) {
	fmt.Printf("calling myFunc from process n°: %d\n", i)
	for j := range i {
		fmt.Printf("output from myFunc is :%d\n", j)
	}
}

// worker adds 1 to the shared value n times: ns.value += 1, with no lock.
func worker(ns *mp.Namespace, n int) {
	for range n {
		var value int
		check(ns.Get("value", &value))
		check(ns.Set("value", value+1))
		time.Sleep(10 * time.Millisecond)
	}
}

func main() {
	mp.Register(myFunc, worker)
	mp.Main(func() {
		for i := range 6 {
			process := mp.NewProcess(myFunc, mp.Args(i))
			check(process.Start())
			check(process.Join())
		}

		ns := mp.Manager().Namespace()
		check(ns.Set("value", 0))
		var workers []*mp.Process
		for range 2 {
			workers = append(workers, mp.NewProcess(worker, mp.Args(ns, 21)))
		}
		for _, p := range workers {
			check(p.Start())
		}
		for _, p := range workers {
			check(p.Join())
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
