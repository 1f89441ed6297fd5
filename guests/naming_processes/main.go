//go:build wasip1

// Command naming_processes is the book's naming_processes.py: a process
// named "myFunc process" and one with the default name (Process-2, since
// the first one used up number 1) run at the same time; each prints its
// name, sleeps 3 s and prints it again. Both are started, then both
// joined, then the README sample line is printed for each.
//
//	def myFunc():
//	    name = multiprocessing.current_process().name
//	    print ("Starting process name = %s \n" %name)
//	    time.sleep(3)
//	    print ("Exiting process name = %s \n" %name)
//
//	if __name__ == '__main__':
//	    process_with_name = multiprocessing.Process\
//	                        (name='myFunc process',\
//	                         target=myFunc)
//	    process_with_default_name = multiprocessing.Process\
//	                                (target=myFunc)
//	    process_with_name.start()
//	    process_with_default_name.start()
//	    process_with_name.join()
//	    process_with_default_name.join()
//
// The two processes run concurrently, as in Python: both "Starting" lines
// come before both "Exiting" lines (3 s later), each pair in the order the
// processes got going.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func myFunc() {
	name := mp.CurrentProcess().Name()
	fmt.Printf("Starting process name = %s \n\n", name)
	time.Sleep(3 * time.Second)
	fmt.Printf("Exiting process name = %s \n\n", name)
}

func main() {
	mp.Register(myFunc)
	mp.Main(func() {
		processWithName := mp.NewProcess(myFunc, mp.Name("myFunc process"))
		processWithDefaultName := mp.NewProcess(myFunc)

		check(processWithName.Start())
		check(processWithDefaultName.Start())

		check(processWithName.Join())
		check(processWithDefaultName.Join())

		fmt.Println("Process name:", processWithName.Name())
		fmt.Println("Process name:", processWithDefaultName.Name())
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "naming_processes:", err)
		os.Exit(1)
	}
}
