//go:build wasip1

// Command process_in_subclass is the book's process_in_subclass.py: a
// "subclass" of Process whose Run prints its name; ten of them are
// started and joined one at a time, so the output is deterministic:
// MyProcess-1 to MyProcess-10, then the README sample line.
//
//	class MyProcess(multiprocessing.Process):
//	    def run(self):
//	        print ('called run method in %s' %self.name)
//	        return
//
//	if __name__ == '__main__':
//	    for i in range(10):
//	        process = MyProcess()
//	        process.start()
//	        process.join()
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// MyProcess is the book's class MyProcess(multiprocessing.Process).
type MyProcess struct {
	mp.Process
}

// Run is MyProcess.run.
func (p *MyProcess) Run() {
	fmt.Printf("called run method in %s\n", p.Name())
}

func main() {
	mp.RegisterClass(&MyProcess{})
	mp.Main(func() {
		for range 10 {
			process := &MyProcess{}
			mp.Init(process)
			check(process.Start())
			check(process.Join())
		}
		fmt.Println("Custom process subclass executed.")
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "process_in_subclass:", err)
		os.Exit(1)
	}
}
