//go:build wasip1

// A deliberately wrong copy of guests/communicating_with_pipe
// (grading/README.md), graded by grading/chapter3.yaml: the main process
// never closes its copy of the second pipe's sending end, so its recv()
// never sees the end of the pipe and waits forever after the last square.
//
// Command communicating_with_pipe is the book's communicating_with_pipe.py:
// two chained pipes. Process-1 sends 0..9 on the first pipe and closes its
// end; Process-2 receives from the first pipe until end of file and sends
// each value squared on the second; the main process closes its copies of
// the sending ends and prints each square until end of file, then "End".
//
//	def create_items(pipe):
//	    output_pipe, _ = pipe
//	    for item in range(10):
//	        output_pipe.send(item)
//	    output_pipe.close()
//
//	def multiply_items(pipe_1, pipe_2):
//	    close, input_pipe = pipe_1
//	    close.close()
//	    output_pipe, _ = pipe_2
//	    try:
//	        while True:
//	            item = input_pipe.recv()
//	            output_pipe.send(item * item)
//	    except EOFError:
//	        output_pipe.close()
//
//	if __name__== '__main__':
//	    pipe_1 = multiprocessing.Pipe(True)
//	    process_pipe_1 = multiprocessing.Process(target=create_items, args=(pipe_1,))
//	    process_pipe_1.start()
//	    pipe_2 = multiprocessing.Pipe(True)
//	    process_pipe_2 = multiprocessing.Process(target=multiply_items, args=(pipe_1, pipe_2,))
//	    process_pipe_2.start()
//	    pipe_1[0].close()
//	    pipe_2[0].close()
//	    try:
//	        while True:
//	            print (pipe_2[1].recv())
//	    except EOFError:
//	        print ("End")
//
// The output is deterministic, as in Python: 0, 1, 4, ..., 81, one a line,
// then End. A child holds a copy of every pipe end its creator holds open
// when it starts, as a forked child does, so end of file comes exactly when
// it does in Python: when every copy of the sending end is closed.
//
// Python joins the children in multiprocessing's exit handler, after the
// main module has ended; this guest joins them explicitly at the end of
// its body, so that the README sample lines come last. They show the last
// message of the chain, as it really travelled: the last square received
// is 81, so Process-2 received, and Process-1 sent, 9.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// createItems is create_items: pipe is the tuple Pipe(True) returned.
func createItems(pipe [2]*mp.Conn) {
	outputPipe := pipe[0]
	for item := range 10 {
		check(outputPipe.Send(item))
	}
	check(outputPipe.Close())
}

// multiplyItems is multiply_items.
func multiplyItems(pipe1, pipe2 [2]*mp.Conn) {
	closeEnd, inputPipe := pipe1[0], pipe1[1]
	check(closeEnd.Close())
	outputPipe := pipe2[0]
	for {
		var item int
		err := inputPipe.Recv(&item)
		if errors.Is(err, io.EOF) {
			check(outputPipe.Close())
			return
		}
		check(err)
		check(outputPipe.Send(item * item))
	}
}

func main() {
	mp.Register(createItems, multiplyItems)
	mp.Main(func() {
		// First process pipe with numbers from 0 to 9.
		pipe1 := pipe(mp.Pipe(true))
		processPipe1 := mp.NewProcess(createItems, mp.Args(pipe1))
		check(processPipe1.Start())

		// Second pipe.
		pipe2 := pipe(mp.Pipe(true))
		processPipe2 := mp.NewProcess(multiplyItems, mp.Args(pipe1, pipe2))
		check(processPipe2.Start())

		check(pipe1[0].Close())

		last := -1
		for {
			var square int
			err := pipe2[1].Recv(&square)
			if errors.Is(err, io.EOF) {
				fmt.Println("End")
				break
			}
			check(err)
			fmt.Println(square)
			last = square
		}

		// multiprocessing's exit handler: join the children.
		for _, p := range mp.ActiveChildren() {
			check(p.Join())
		}
		if last >= 0 {
			item := int(math.Sqrt(float64(last)))
			fmt.Printf("Process 1 sending message: %d\n", item)
			fmt.Printf("Process 2 received message: %d\n", item)
		}
	})
}

// pipe makes the pair Pipe returns a tuple, as Python's Pipe returns one.
func pipe(a, b *mp.Conn) [2]*mp.Conn { return [2]*mp.Conn{a, b} }

// check ends the process as an uncaught exception would (exit code 1).
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "communicating_with_pipe: %s: %v\n", mp.CurrentProcess().Name(), err)
		os.Exit(1)
	}
}
