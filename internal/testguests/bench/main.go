//go:build wasip1

// Command bench is the sandbox side of `make bench`: the shapes of
// bench/bench.py, timed inside MainProcess. Prints one line: ns_per_op=N.
//
//	sandbox run bench.wasm -- SHAPE N
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func noop() {}

func main() {
	mp.Register(noop)
	mp.Main(func() {
		if len(os.Args) < 3 {
			fmt.Fprintln(os.Stderr, "usage: bench SHAPE N")
			os.Exit(2)
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < 2 {
			fmt.Fprintln(os.Stderr, "bench: N must be a number >= 2")
			os.Exit(2)
		}
		var per time.Duration
		switch os.Args[1] {
		case "spawn":
			per = spawn(n)
		default:
			if per = ipcShape(os.Args[1], n); per < 0 {
				fmt.Fprintln(os.Stderr, "bench: unknown shape", os.Args[1])
				os.Exit(2)
			}
		}
		fmt.Printf("ns_per_op=%d\n", per.Nanoseconds())
	})
}

// spawn starts and joins n processes one after another.
func spawn(n int) time.Duration {
	start := time.Now()
	for i := 0; i < n; i++ {
		p := mp.NewProcess(noop)
		if err := p.Start(); err != nil {
			panic(err)
		}
		p.Join()
	}
	return time.Since(start) / time.Duration(n)
}
