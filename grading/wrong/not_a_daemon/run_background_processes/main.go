//go:build wasip1

// A deliberately wrong copy of guests/run_background_processes
// (grading/README.md), graded by grading/chapter3.yaml: background_process
// is not made a daemon, so it is not stopped when the main process ends: it
// prints all its lines, "Exiting background_process" included.
//
// Command run_background_processes is the book's
// run_background_processes.py: a daemon, background_process, prints
// 0..4 and a non-daemon, NO_background_process, 5..9; each then sleeps
// 1 s and prints its "Exiting" line. The main process starts both and
// ends at once without joining them, so the daemon is terminated then:
// its "Exiting" line never appears, and whether it gets to print its
// first lines before that is a race, as in Python. The other one runs to
// its end.
//
//	def foo():
//	    name = multiprocessing.current_process().name
//	    print ("Starting %s \n" %name)
//	    if name == 'background_process':
//	        for i in range(0,5):
//	            print('---> %d \n' %i)
//	        time.sleep(1)
//	    else:
//	        for i in range(5,10):
//	            print('---> %d \n' %i)
//	        time.sleep(1)
//	    print ("Exiting %s \n" %name)
//
//	if __name__ == '__main__':
//	    background_process = multiprocessing.Process\
//	                         (name='background_process',\
//	                          target=foo)
//	    background_process.daemon = True
//	    NO_background_process = multiprocessing.Process\
//	                            (name='NO_background_process',\
//	                             target=foo)
//	    NO_background_process.daemon = False
//	    background_process.start()
//	    NO_background_process.start()
//
// Python terminates the daemon and joins the other in multiprocessing's
// exit handler, after the main module has ended. This guest does the same
// thing explicitly at the end of its body (mp.EndChildren), so that the README
// sample line can be printed after everything else.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func foo() {
	name := mp.CurrentProcess().Name()
	fmt.Printf("Starting %s \n\n", name)
	if name == "background_process" {
		for i := 0; i < 5; i++ {
			fmt.Printf("---> %d \n\n", i)
		}
		time.Sleep(time.Second)
	} else {
		for i := 5; i < 10; i++ {
			fmt.Printf("---> %d \n\n", i)
		}
		time.Sleep(time.Second)
	}
	fmt.Printf("Exiting %s \n\n", name)
}

func main() {
	mp.Register(foo)
	mp.Main(func() {
		backgroundProcess := mp.NewProcess(foo, mp.Name("background_process"), mp.Daemon(false))
		noBackgroundProcess := mp.NewProcess(foo, mp.Name("NO_background_process"), mp.Daemon(false))

		check(backgroundProcess.Start())
		check(noBackgroundProcess.Start())

		check(mp.EndChildren())
		fmt.Println("Background process started.")
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "run_background_processes:", err)
		os.Exit(1)
	}
}
