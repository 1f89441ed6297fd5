package hostfuncs_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// shortcutHost is a Shortcut that serves as told, remembers what it was
// offered, and answers Call as answer does.
type shortcutHost struct {
	answer
	result  int64
	errno   abi.Errno
	serve   bool
	err     error
	offered [][]int64
}

func (h *shortcutHost) Shortcut(op abi.Op, args hostfuncs.IntArgs) (int64, abi.Errno, bool, error) {
	h.offered = append(h.offered, slices.Clone(args.Ints[:args.N]))
	return h.result, h.errno, h.serve, h.err
}

// called is the Ints of every call Call served.
func (h *shortcutHost) called() [][]int64 {
	var ints [][]int64
	for _, m := range h.got {
		ints = append(ints, m.Ints)
	}
	return ints
}

// callSpec instantiates the host module of h and the module of every
// import (everyImport), fills its memory with 0xaa, and calls the import
// of s with args.
func callSpec(t *testing.T, h hostfuncs.Caller, s *abi.Spec, args ...uint64) (abi.Errno, api.Memory, error) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	if _, err := hostfuncs.Instantiate(ctx, r, h); err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, everyImport())
	if err != nil {
		t.Fatal(err)
	}
	mem := m.Memory()
	fill, _ := mem.Read(0, mem.Size())
	for i := range fill {
		fill[i] = 0xaa
	}
	res, err := m.ExportedFunction(s.Name).Call(ctx, args...)
	if err != nil {
		return 0, mem, err
	}
	return abi.Errno(uint32(res[0])), mem, nil
}

// TestShortcut: a call of lock_acquire (a handle, a timeout, a boolean
// result) goes first to a Caller's Shortcut, with its parameters as Call
// would get them; one served there is not called, its result is written
// only when OK, a declined one is called; a bad result pointer fails with
// EFAULT before either; a Shortcut's error aborts the guest as Call's.
func TestShortcut(t *testing.T) {
	acquire := abi.ByName("lock_acquire")
	const out = 100
	minusFive := uint64(uint32(0xfffffffb)) // handle -5, as an i32
	gone := errors.New("host gone")
	tests := []struct {
		name       string
		host       shortcutHost
		outPtr     uint64
		wantErrno  abi.Errno
		wantOut    uint32 // 0xaaaaaaaa: untouched
		wantOffers int
		wantCalls  int
		wantErr    bool
	}{
		{"served", shortcutHost{result: 1, serve: true}, out, abi.OK, 1, 1, 0, false},
		{"served, failed", shortcutHost{result: 1, errno: abi.EBADH, serve: true}, out, abi.EBADH, 0xaaaaaaaa, 1, 0, false},
		{"declined", shortcutHost{answer: answer{reply: &wire.Msg{Ints: []int64{1}}}}, out, abi.OK, 1, 1, 1, false},
		{"bad result pointer", shortcutHost{serve: true}, page - 3, abi.EFAULT, 0xaaaaaaaa, 0, 0, false},
		{"error", shortcutHost{serve: true, err: gone}, out, 0, 0xaaaaaaaa, 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host
			e, mem, err := callSpec(t, &h, acquire, minusFive, uint64(1<<40), tt.outPtr)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, gone)) {
				t.Fatalf("call: %v, want an error: %v", err, tt.wantErr)
			}
			if e != tt.wantErrno {
				t.Errorf("errno %d, want %d", e, tt.wantErrno)
			}
			if got, _ := mem.ReadUint32Le(out); got != tt.wantOut {
				t.Errorf("result %#x, want %#x", got, tt.wantOut)
			}
			called := h.called()
			if len(h.offered) != tt.wantOffers || len(called) != tt.wantCalls {
				t.Fatalf("offered %v, called %v: want %d offers, %d calls", h.offered, called, tt.wantOffers, tt.wantCalls)
			}
			for _, ints := range append(h.offered, called...) {
				if !slices.Equal(ints, []int64{-5, 1 << 40}) {
					t.Errorf("parameters %v, want [-5 %d]", ints, int64(1<<40))
				}
			}
		})
	}
}

// TestShortcutOffers: every import whose parameters are integers, with
// one integer result at most, is offered to a Shortcut with the Ints its
// call would get, and no other import is: one with a buffer (conn_send),
// or two results (barrier_wait).
func TestShortcutOffers(t *testing.T) {
	n := 0
	for _, s := range abi.Ops() {
		args := make([]uint64, len(hostfuncs.WasmParams(s)))
		for i := range args {
			args[i] = uint64(0xfffffff0 - i) // negative i32s; pointers past the page
		}
		h := &shortcutHost{answer: answer{reply: &wire.Msg{}}}
		callSpec(t, h, s, args...)
		if !hostfuncs.Shortcuts(s) {
			if len(h.offered) != 0 {
				t.Errorf("%s was offered to a Shortcut", s.Name)
			}
			continue
		}
		n++
		// Pointers inside the page, so that the call reaches the Caller.
		for i, f := range s.Params {
			if f.Kind == abi.OutHandle || f.Kind == abi.OutI32 || f.Kind == abi.OutBool {
				args[i] = 64
			}
		}
		h = &shortcutHost{answer: answer{reply: &wire.Msg{}}}
		callSpec(t, h, s, args...)
		if called := h.called(); len(h.offered) != 1 || len(called) != 1 || !slices.Equal(h.offered[0], called[0]) {
			t.Errorf("%s: offered %v, called with %v: want one each, the same", s.Name, h.offered, called)
		}
	}
	for _, name := range []string{"lock_acquire", "lock_release", "event_is_set", "proc_self"} {
		if !hostfuncs.Shortcuts(abi.ByName(name)) {
			t.Errorf("%s is not offered to a Shortcut", name)
		}
	}
	for _, name := range []string{"conn_send", "barrier_wait", "proc_name"} {
		if hostfuncs.Shortcuts(abi.ByName(name)) {
			t.Errorf("%s is offered to a Shortcut", name)
		}
	}
	if n == 0 {
		t.Error("no import is offered to a Shortcut")
	}
}
