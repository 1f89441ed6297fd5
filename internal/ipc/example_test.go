package ipc_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// A one-way pipe shared through a fork: the child writes, the parent reads
// until EOF once the child has closed the only remaining write end.
func ExamplePipe() {
	ctx := context.Background()
	const parent, child = 1, 2
	r, w := 0, 1
	p := ipc.NewPipe(false, parent)
	p.Inherit(parent, child) // the host does this when the parent starts the child
	_ = p.Close(parent, w)

	for _, s := range []string{"hello", "world"} {
		_ = p.Send(context.Background(), child, w, []byte(s))
	}
	p.ProcessExited(child) // the child ends: its copies of both ends close

	for {
		msg, _, err := p.Recv(ctx, parent, r, -1, -1)
		if errors.Is(err, ipc.ErrEOF) {
			fmt.Println("EOF")
			return
		}
		fmt.Println(string(msg))
	}
	// Output:
	// hello
	// world
	// EOF
}

func ExampleBarrier() {
	ctx := context.Background()
	b, _ := ipc.NewBarrier(1, -1, true)
	index, runAction, _ := b.Wait(ctx, 1, -1)
	fmt.Println(index, runAction)
	fmt.Println(b.ActionDone(1, true))
	// Output:
	// 0 true
	// <nil>
}
