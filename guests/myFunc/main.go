//go:build wasip1

// Command myFunc runs the book's module myFunc.py once in a child process:
// the target comes from the separate package
// github.com/sandbox-dev/sandbox/guests/internal/myfunc, which registers
// it when imported. The Python equivalent:
//
//	from myFunc import myFunc
//	if __name__ == '__main__':
//	    process = multiprocessing.Process(target=myFunc, args=(3,))
//	    process.start()
//	    process.join()
//
// Output (deterministic):
//
//	calling myFunc from process n°: 3
//	output from myFunc is :0
//	output from myFunc is :1
//	output from myFunc is :2
//	Function executed in child process.
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/guests/internal/myfunc"
	"github.com/sandbox-dev/sandbox/guests/mp"
)

func main() {
	mp.Main(func() {
		process := mp.NewProcess(myfunc.MyFunc, mp.Args(3))
		check(process.Start())
		check(process.Join())
		fmt.Println("Function executed in child process.")
	})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "myFunc:", err)
		os.Exit(1)
	}
}
