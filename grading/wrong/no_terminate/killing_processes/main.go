//go:build wasip1

// A deliberately wrong copy of guests/killing_processes (grading/README.md),
// graded by grading/chapter3.yaml: terminate() is forgotten, so foo counts
// to 9 and finishes, and its exit code is 0, not -15.
//
// Command killing_processes is the book's killing_processes.py: a process
// that would count to 9, one number a second, is terminated right after it
// starts; the main process prints it (repr and is_alive) before start,
// running, just after terminate and after join, then its exit code (-15)
// and the README sample line with its real pid.
//
//	def foo():
//	    print ('Starting function')
//	    for i in range(0,10):
//	        print('-->%d\n' %i)
//	        time.sleep(1)
//	    print ('Finished function')
//
//	if __name__ == '__main__':
//	    p = multiprocessing.Process(target=foo)
//	    print ('Process before execution:', p, p.is_alive())
//	    p.start()
//	    print ('Process running:', p, p.is_alive())
//	    p.terminate()
//	    print ('Process terminated:', p, p.is_alive())
//	    p.join()
//	    print ('Process joined:', p, p.is_alive())
//	    print ('Process exit code:', p.exitcode)
//
// As in Python, foo is terminated before it gets far: it may print its
// first lines if it wins the race, and never prints "Finished function".
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func foo() {
	fmt.Println("Starting function")
	for i := range 10 {
		fmt.Printf("-->%d\n\n", i)
		time.Sleep(time.Second)
	}
	fmt.Println("Finished function")
}

func main() {
	mp.Register(foo)
	mp.Main(func() {
		p := mp.NewProcess(foo)
		fmt.Println("Process before execution:", p, pyBool(p.IsAlive()))
		check(p.Start())
		fmt.Println("Process running:", p, pyBool(p.IsAlive()))
		fmt.Println("Process terminated:", p, pyBool(p.IsAlive()))
		check(p.Join())
		fmt.Println("Process joined:", p, pyBool(p.IsAlive()))
		code, _ := p.ExitCode()
		fmt.Println("Process exit code:", code)
		fmt.Printf("Process with PID %d killed successfully.\n", p.Pid())
	})
}

// pyBool formats b as Python prints a bool.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "killing_processes:", err)
		os.Exit(1)
	}
}
