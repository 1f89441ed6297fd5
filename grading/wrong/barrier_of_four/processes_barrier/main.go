//go:build wasip1

// A deliberately wrong copy of guests/processes_barrier (grading/README.md),
// graded by grading/chapter3.yaml: the barrier is made for the four
// processes, but only p1 and p2 wait at it, so they wait forever.
//
// Command processes_barrier is the book's processes_barrier.py: p1 and p2
// wait at a Barrier(2), then each takes the time and prints it under a
// Lock; p3 and p4 take the time and print it at once. The order of the
// lines varies from run to run, as in Python; p1's and p2's times are
// close, since neither can go on before both have reached the barrier.
//
//	def test_with_barrier(synchronizer, serializer):
//	    name = multiprocessing.current_process().name
//	    synchronizer.wait()
//	    now = time()
//	    with serializer:
//	        print("process %s ----> %s" \
//	              %(name,datetime.fromtimestamp(now)))
//
//	def test_without_barrier():
//	    name = multiprocessing.current_process().name
//	    now = time()
//	    print("process %s ----> %s" \
//	          %(name ,datetime.fromtimestamp(now)))
//
//	if __name__ == '__main__':
//	    synchronizer = Barrier(2)
//	    serializer = Lock()
//	    Process(name='p1 - test_with_barrier'\
//	            ,target=test_with_barrier,\
//	            args=(synchronizer,serializer)).start()
//	    Process(name='p2 - test_with_barrier'\
//	            ,target=test_with_barrier,\
//	            args=(synchronizer,serializer)).start()
//	    Process(name='p3 - test_without_barrier'\
//	            ,target=test_without_barrier).start()
//	    Process(name='p4 - test_without_barrier'\
//	            ,target=test_without_barrier).start()
//
// Python joins the children in multiprocessing's exit handler, after the
// main module has ended. This guest does the same thing explicitly at the
// end of its body, so that the README sample line can be printed after
// everything else.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func testWithBarrier(synchronizer *mp.Barrier, serializer *mp.Lock) {
	name := mp.CurrentProcess().Name()
	_, err := synchronizer.Wait()
	check(err)
	now := time.Now()
	check(serializer.Acquire()) // with serializer:
	defer func() { check(serializer.Release()) }()
	fmt.Printf("process %s ----> %s\n", name, fromTimestamp(now))
}

func testWithoutBarrier() {
	name := mp.CurrentProcess().Name()
	now := time.Now()
	fmt.Printf("process %s ----> %s\n", name, fromTimestamp(now))
}

func main() {
	mp.Register(testWithBarrier, testWithoutBarrier)
	mp.Main(func() {
		synchronizer := mp.NewBarrier(4)
		serializer := mp.NewLock()
		check(mp.NewProcess(testWithBarrier, mp.Name("p1 - test_with_barrier"),
			mp.Args(synchronizer, serializer)).Start())
		check(mp.NewProcess(testWithBarrier, mp.Name("p2 - test_with_barrier"),
			mp.Args(synchronizer, serializer)).Start())
		check(mp.NewProcess(testWithoutBarrier, mp.Name("p3 - test_without_barrier")).Start())
		check(mp.NewProcess(testWithoutBarrier, mp.Name("p4 - test_without_barrier")).Start())

		// multiprocessing's exit handler: join the children.
		for _, p := range mp.ActiveChildren() {
			check(p.Join())
		}
		fmt.Println("All processes reached the barrier.")
	})
}

// fromTimestamp formats t as Python prints datetime.fromtimestamp(time()):
// local time (UTC in the sandbox), rounded to the microsecond, with the
// fraction left out when it is zero, as str(datetime) does.
func fromTimestamp(t time.Time) string {
	t = t.Local().Round(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format(time.DateTime)
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// check ends the process as an uncaught exception would (exit code 1).
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "processes_barrier: %s: %v\n", mp.CurrentProcess().Name(), err)
		os.Exit(1)
	}
}
