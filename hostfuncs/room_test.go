package hostfuncs

import (
	"testing"

	"github.com/sandbox-dev/sandbox/internal/abi"
)

// TestRoom: a module's calls share one request, one at a time: a call
// made while it is taken gets a request of its own, and giving that one
// back leaves the room taken until the first is given back; a request
// given back holds no view of guest memory (a memory that outlives its
// guest would be kept by it, where linear memory is in the Go heap).
func TestRoom(t *testing.T) {
	var r room
	rq := r.take()
	if rq != &r.rq {
		t.Fatal("the first take did not return the room's request")
	}
	other := r.take()
	if other == &r.rq {
		t.Fatal("a take while the request is taken returned it again")
	}
	r.give(other, 0)
	if again := r.take(); again == &r.rq {
		t.Fatal("giving back another request freed the room's")
	}
	view := make([]byte, 4)
	rq.bufs[0], rq.outs[1], rq.out[abi.MaxParams-1].view = view, view, view
	r.give(rq, 2)
	if rq.bufs[0] != nil || rq.outs[1] != nil || rq.out[abi.MaxParams-1].view != nil {
		t.Error("a request given back still holds a view of guest memory")
	}
	if again := r.take(); again != &r.rq {
		t.Error("the room's request, given back, was not taken again")
	}
}
