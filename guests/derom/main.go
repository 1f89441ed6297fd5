//go:build wasip1

// Command derom is the chapter's derom.py: a daemon, background_process,
// would print 0..4 and a non-daemon, non_background_process, 5..8, one a
// second. The main process starts both, sleeps 2 s and ends without
// joining them: the daemon is terminated then (it gets to print about two
// numbers and never its "Exiting" line), the other one runs to its end.
//
//	def foo():
//	    process_name = multiprocessing.current_process().name
//	    print(f"Starting process: {process_name}")
//	    if process_name == 'background_process':
//	        for i in range(0, 5):
//	            print(f"{process_name} ---> {i}")
//	            time.sleep(1)
//	    else:
//	        for i in range(5, 9):
//	            print(f"{process_name} ---> {i}")
//	            time.sleep(1)
//	    print(f"Exiting process: {process_name}")
//
//	if __name__ == '__main__':
//	    background_process = multiprocessing.Process(
//	        name='background_process', target=foo)
//	    background_process.daemon = True
//	    non_background_process = multiprocessing.Process(
//	        name='non_background_process', target=foo)
//	    non_background_process.daemon = False
//	    background_process.start()
//	    non_background_process.start()
//	    time.sleep(2)
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
	processName := mp.CurrentProcess().Name()
	fmt.Printf("Starting process: %s\n", processName)
	if processName == "background_process" {
		for i := 0; i < 5; i++ {
			fmt.Printf("%s ---> %d\n", processName, i)
			time.Sleep(time.Second)
		}
	} else {
		for i := 5; i < 9; i++ {
			fmt.Printf("%s ---> %d\n", processName, i)
			time.Sleep(time.Second)
		}
	}
	fmt.Printf("Exiting process: %s\n", processName)
}

func main() {
	mp.Register(foo)
	mp.Main(func() {
		backgroundProcess := mp.NewProcess(foo, mp.Name("background_process"), mp.Daemon(true))
		nonBackgroundProcess := mp.NewProcess(foo, mp.Name("non_background_process"), mp.Daemon(false))

		check(backgroundProcess.Start())
		check(nonBackgroundProcess.Start())

		time.Sleep(2 * time.Second)

		check(mp.EndChildren())
		fmt.Println("Derom process executed successfully.")
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "derom:", err)
		os.Exit(1)
	}
}
