//go:build wasip1

// Command hello_processes is a first tour of the mp SDK: it creates a
// named process, a default-named one and a daemon, prints their names and
// reprs, joins them, then terminates a sleeping process and lists the
// active children before and after. Everything it prints is the same on
// every run except the pids.
//
//	GOOS=wasip1 GOARCH=wasm go build -o guests/hello_processes.wasm ./guests/hello_processes
//	sandbox run guests/hello_processes.wasm
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// greet runs in a child: it introduces itself and its parent.
func greet(who string) {
	me := mp.CurrentProcess()
	fmt.Printf("  hello %s, I am %s (pid %d), child of %s (pid %d), daemon=%v\n",
		who, me.Name(), me.Pid(), mp.ParentProcess().Name(), me.PPid(), me.Daemon())
}

// sleeper sleeps for d; the main process terminates it before.
func sleeper(d time.Duration) {
	time.Sleep(d)
	fmt.Println("  sleeper woke up (it should have been terminated)")
}

func main() {
	mp.Register(greet, sleeper)
	mp.Main(body)
}

func body() {
	fmt.Println("main:", mp.CurrentProcess())

	named := mp.NewProcess(greet, mp.Args("alice"), mp.Name("greeter"))
	plain := mp.NewProcess(greet, mp.Args("bob"))                     // Process-2
	daemon := mp.NewProcess(greet, mp.Args("carol"), mp.Daemon(true)) // Process-3
	sleepy := mp.NewProcess(sleeper, mp.Args(time.Minute))            // Process-4

	fmt.Println("created:")
	for _, p := range []*mp.Process{named, plain, daemon, sleepy} {
		fmt.Printf("  name=%s pid=%d daemon=%v %v\n", p.Name(), p.Pid(), p.Daemon(), p)
	}

	// One at a time, and nothing printed by main while a child runs, so
	// that the output keeps its order.
	fmt.Println("run one by one:")
	for _, p := range []*mp.Process{named, plain, daemon} {
		fmt.Printf("  starting %s\n", p.Name())
		check(p.Start())
		check(p.Join())
		code, _ := p.ExitCode()
		fmt.Printf("  joined %s: pid=%d exitcode=%d alive=%v %v\n", p.Name(), p.Pid(), code, p.IsAlive(), p)
	}

	fmt.Println("terminate a sleeper:")
	check(sleepy.Start())
	fmt.Println("  active children:", names(mp.ActiveChildren()))
	check(sleepy.Terminate())
	check(sleepy.Join())
	code, _ := sleepy.ExitCode()
	fmt.Printf("  %s exitcode=%d alive=%v %v\n", sleepy.Name(), code, sleepy.IsAlive(), sleepy)
	fmt.Println("  active children:", names(mp.ActiveChildren()))
	fmt.Println("main: done")
}

func names(ps []*mp.Process) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name()
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello_processes:", err)
		os.Exit(1)
	}
}
