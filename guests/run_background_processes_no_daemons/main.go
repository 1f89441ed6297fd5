//go:build wasip1

// Command run_background_processes_no_daemons is the book's
// run_background_processes_no_daemons.py: run_background_processes with
// both processes non-daemonic. background_process prints 0..4 and
// NO_background_process 5..9; each then sleeps 1 s and prints its
// "Exiting" line. The main process starts both and ends without joining
// them; as neither is a daemon, both are joined and both print their
// "Exiting" lines.
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
//	    background_process.daemon = False
//	    NO_background_process = multiprocessing.Process\
//	                            (name='NO_background_process',\
//	                             target=foo)
//	    NO_background_process.daemon = False
//	    background_process.start()
//	    NO_background_process.start()
//
// Python joins the children in multiprocessing's exit handler, after the
// main module has ended. This guest does the same thing explicitly at the
// end of its body (mp.EndChildren), so that the README sample line can be
// printed after everything else.
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
		fmt.Println("Non-daemon background process started.")
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "run_background_processes_no_daemons:", err)
		os.Exit(1)
	}
}
