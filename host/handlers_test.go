package host

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestEveryOpHasHandler: an import without a handler is caught here, not
// when a guest first calls it.
func TestEveryOpHasHandler(t *testing.T) {
	for _, s := range abi.Ops() {
		if handlers[s.Op] == nil {
			t.Errorf("%s has no handler", s.Name)
		}
	}
	if handlers[0] != nil {
		t.Error("op 0 has a handler")
	}
}

// testProc is a process of s that no runner backs: enough for calls that
// start nothing.
func testProc(t *testing.T, s *Supervisor) *proc {
	t.Helper()
	p := s.newProc(nil, "", nil, "MainProcess", "", false)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p.ctx, p.cancel = ipc.WithCaller(ctx, caller{s, p}), cancel
	p.log = hclog.NewNullLogger()
	p.state = stateStarted
	return p
}

// TestCallPipeline: calls that cannot be decoded are refused with EINVAL,
// errors of every origin become their errno, and results travel back in
// the import's order.
func TestCallPipeline(t *testing.T) {
	s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
	if err != nil {
		t.Fatal(err)
	}
	p := testProc(t, s)
	call := func(op abi.Op, ints []int64, bufs ...[]byte) *wire.Msg {
		return s.call(p, &wire.Msg{Kind: wire.KindCall, Op: op, Ints: ints, Bufs: bufs})
	}
	tests := []struct {
		name  string
		reply *wire.Msg
		errno abi.Errno
	}{
		{"unknown op", call(0, nil), abi.EINVAL},
		{"op past the table", call(abi.Op(abi.NumOps+1), nil), abi.EINVAL},
		{"missing value", call(abi.OpConnSend, []int64{1}), abi.EINVAL},
		{"extra value", call(abi.OpProcSelf, []int64{1}), abi.EINVAL},
		{"errno from the handler", call(abi.OpConnSend, []int64{99}, []byte("x")), abi.EBADH},
		{"errno from ipc", call(abi.OpLockRelease, []int64{int64(s.addObject(ipc.NewLock(), 0))}), abi.EVALUE},
		{"bad kind", call(abi.OpNsNew, []int64{7}), abi.EINVAL},
	}
	for _, tt := range tests {
		if tt.reply.Errno != tt.errno {
			t.Errorf("%s: errno %s, want %s", tt.name, tt.reply.Errno, tt.errno)
		}
	}

	r := call(abi.OpPipeNew, []int64{1})
	if r.Errno != abi.OK || len(r.Ints) != 2 || r.Ints[0] == r.Ints[1] || r.Ints[0] <= 0 {
		t.Fatalf("pipe_new = %+v, want two distinct handles", r)
	}
	end0, end1 := r.Ints[0], r.Ints[1]
	if r := call(abi.OpConnSend, []int64{end1}, []byte("hello")); r.Errno != abi.OK {
		t.Fatalf("conn_send: %s", r.Errno)
	}
	if r := call(abi.OpConnRecv, []int64{end0, 0, 2}); r.Errno != abi.E2SMALL || len(r.Ints) != 1 || r.Ints[0] != 5 {
		t.Errorf("conn_recv into 2 bytes = %+v, want E2SMALL with size 5", r)
	}
	if r := call(abi.OpConnRecv, []int64{end0, 0, 64}); r.Errno != abi.OK || len(r.Bufs) != 1 || string(r.Bufs[0]) != "hello" {
		t.Errorf("conn_recv = %+v, want hello", r)
	}
	if r := call(abi.OpConnRecv, []int64{end0, 0, 64}); r.Errno != abi.ETIMEDOUT {
		t.Errorf("conn_recv of an empty pipe without waiting = %s, want ETIMEDOUT", r.Errno)
	}
	if len(s.Waits()) != 0 {
		t.Errorf("Waits() = %v after calls that did not block", s.Waits())
	}
}
