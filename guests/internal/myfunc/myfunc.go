// Package myfunc is the book's module myFunc.py: the target function that
// spawning_processes_namespace imports from a separate module, and that
// the myFunc guest runs in a child.
//
// Importing the package registers MyFunc as a process target (in init, so
// in every process of the run, before mp.Main), so a program only has to
// import it to pass myfunc.MyFunc to mp.NewProcess:
//
//	p := mp.NewProcess(myfunc.MyFunc, mp.Args(3))
//
// The package lives under guests/internal, not at guests/myfunc, because
// the guest guests/myFunc (package main, built to guests/myFunc.wasm as the
// book names it) would differ from guests/myfunc only in case, and the two
// folders would collide on a case-insensitive file system.
package myfunc

import (
	"fmt"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func init() { mp.Register(MyFunc) }

// MyFunc is the book's myFunc(i): it prints
//
//	calling myFunc from process n°: i
//
// then "output from myFunc is :j" for j from 0 to i-1.
func MyFunc(i int) {
	fmt.Printf("calling myFunc from process n°: %d\n", i)
	for j := range i {
		fmt.Printf("output from myFunc is :%d\n", j)
	}
}
