package hostfuncs

import (
	"context"
	_ "embed"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
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
	r.give(other, false)
	if again := r.take(); again == &r.rq {
		t.Fatal("giving back another request freed the room's")
	}
	view := make([]byte, 4)
	rq.bufs[0], rq.outs[1], rq.out[abi.MaxParams-1].view = view, view, view
	r.give(rq, true)
	if rq.bufs[0] != nil || rq.outs[1] != nil || rq.out[abi.MaxParams-1].view != nil {
		t.Error("a request given back still holds a view of guest memory")
	}
	if again := r.take(); again != &r.rq {
		t.Error("the room's request, given back, was not taken again")
	}
}

//go:embed testdata/calls.wasm
var roomCallsWasm []byte

// keepReq answers every call with reply, and keeps the request it was
// given: the room's.
type keepReq struct {
	reply *wire.Msg
	req   *wire.Msg
}

func (k *keepReq) Call(_ context.Context, req *wire.Msg) (*wire.Msg, error) {
	k.req = req
	return k.reply, nil
}

// TestRoomDropsViews: the real functions whose parameters are buffers, in
// (new: Bytes and Text) or out (name: OutText), leave the module's
// request holding no view of guest memory once they return.
func TestRoomDropsViews(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	for _, tt := range []struct {
		fn    string
		reply *wire.Msg
		args  []uint64
	}{
		{"new", &wire.Msg{Ints: []int64{42}}, []uint64{100, 6, 106, 4, 110, 4, 114, 3, 1, 200}},
		{"name", &wire.Msg{Bufs: [][]byte{[]byte("worker")}}, []uint64{1, 300, 16, 320}},
	} {
		k := &keepReq{reply: tt.reply}
		host, err := Instantiate(ctx, r, k)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Instantiate(ctx, roomCallsWasm)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := m.ExportedFunction(tt.fn).Call(ctx, tt.args...); err != nil || abi.Errno(uint32(res[0])) != abi.OK {
			t.Fatalf("%s: %v %v", tt.fn, res, err)
		}
		if k.req == nil {
			t.Fatalf("%s did not reach the Caller", tt.fn)
		}
		if unsafe.Offsetof(request{}.msg) != 0 {
			t.Fatal("request.msg is not the request's first field: the cast below reads another")
		}
		rq := (*request)(unsafe.Pointer(k.req)) // (the room's: msg is its first field)
		for i := range abi.MaxParams {
			if rq.bufs[i] != nil || rq.outs[i] != nil || rq.out[i].view != nil {
				t.Errorf("%s: the request given back still holds a view of guest memory (parameter %d)", tt.fn, i)
			}
		}
		m.Close(ctx)
		host.Close(ctx)
	}
}
