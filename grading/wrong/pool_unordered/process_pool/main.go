//go:build wasip1

// A deliberately wrong copy of guests/process_pool (grading/README.md),
// graded by grading/chapter3.yaml: the results are collected as they
// arrive (imap_unordered) instead of with map, so the squares come back in
// the order the workers finish them, not in the order of the inputs.
//
// Command process_pool is the book's process_pool.py: a pool of four
// worker processes maps function_square over 0..99; the main process
// closes the pool, joins it and prints the results as Python prints a
// list, then the README sample line.
//
//	def function_square(data):
//	    result = data*data
//	    return result
//
//	if __name__ == '__main__':
//	    inputs = list(range(0,100))
//	    pool = multiprocessing.Pool(processes=4)
//	    pool_outputs = pool.map(function_square, inputs)
//	    pool.close()
//	    pool.join()
//	    print ('Pool    :', pool_outputs)
//
// The output is deterministic, as in Python: map returns the results in
// the order of the inputs, whichever worker computed them.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func functionSquare(data int) int {
	result := data * data
	return result
}

func main() {
	mp.Register(functionSquare)
	mp.Main(func() {
		inputs := make([]int, 0, 100)
		for i := range 100 {
			inputs = append(inputs, i)
		}
		pool := mp.NewPool(4)
		var poolOutputs []int
		for result, err := range mp.ImapUnordered[int](pool, functionSquare, inputs) {
			check(err)
			poolOutputs = append(poolOutputs, result)
		}

		pool.Close()
		check(pool.Join())
		fmt.Println("Pool    :", pyList(poolOutputs))
		fmt.Println("Process pool task completed.")
	})
}

// pyList formats ints as Python prints a list of them: [0, 1, 4].
func pyList(ints []int) string {
	s := make([]string, len(ints))
	for i, v := range ints {
		s[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// check ends the process as an uncaught exception would (exit code 1).
func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "process_pool:", err)
		os.Exit(1)
	}
}
