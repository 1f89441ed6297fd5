package hostfuncs_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

//go:embed testdata/calls.wasm
var callsWasm []byte

// answer is a Caller that answers every call with one fixed reply and
// remembers what it was asked.
type answer struct {
	reply *wire.Msg
	got   []*wire.Msg
}

func (a *answer) Call(_ context.Context, req *wire.Msg) (*wire.Msg, error) {
	cp := &wire.Msg{Op: req.Op, Ints: append([]int64(nil), req.Ints...)}
	for _, b := range req.Bufs {
		cp.Bufs = append(cp.Bufs, append([]byte(nil), b...))
	}
	a.got = append(a.got, cp)
	return a.reply, nil
}

func instantiate(t *testing.T, c hostfuncs.Caller) api.Module {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	if _, err := hostfuncs.Instantiate(ctx, r, c); err != nil {
		t.Fatal(err)
	}
	m, err := r.Instantiate(ctx, callsWasm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(t *testing.T, m api.Module, fn string, args ...uint64) abi.Errno {
	t.Helper()
	res, err := m.ExportedFunction(fn).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return abi.Errno(uint32(res[0]))
}

const page = 65536

// TestPointersChecked feeds every kind of parameter out-of-range pointers
// and lengths: each must come back as EFAULT without reaching the Caller.
func TestPointersChecked(t *testing.T) {
	tests := []struct {
		name string
		fn   string
		args []uint64
	}{
		{"out i32 past end", "self", []uint64{page - 3}},
		{"out i32 far past end", "self", []uint64{0xffffffff}},
		{"buffer past end", "name", []uint64{1, page - 10, 11, 0}},
		{"buffer wraps 4GiB", "name", []uint64{1, 0xfffffff0, 0x20, 0}},
		{"size pointer past end", "name", []uint64{1, 0, 16, page - 2}},
		{"input bytes past end", "new", []uint64{page - 1, 2, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"input length huge", "new", []uint64{0, 0xffffffff, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"handle out past end", "new", []uint64{0, 1, 0, 0, 0, 0, 0, 0, 0, page}},
		{"record past end", "info", []uint64{1, page - 23}},
		{"i32 array past end", "children", []uint64{page - 8, 3, 0}},
		{"i32 array count huge", "children", []uint64{0, 0x40000000, 0}},
		{"count pointer past end", "children", []uint64{0, 1, page}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &answer{reply: &wire.Msg{}}
			m := instantiate(t, a)
			if got := call(t, m, tt.fn, tt.args...); got != abi.EFAULT {
				t.Fatalf("errno = %d, want EFAULT (%d)", got, abi.EFAULT)
			}
			if len(a.got) != 0 {
				t.Fatalf("the call reached the host: %+v", a.got[0])
			}
		})
	}
}

func TestInputsDecoded(t *testing.T) {
	a := &answer{reply: &wire.Msg{Ints: []int64{42}}}
	m := instantiate(t, a)
	mem := m.Memory()
	mem.Write(100, []byte("targetARGSnameCls"))
	if got := call(t, m, "new", 100, 6, 106, 4, 110, 4, 114, 3, 1, 200); got != 0 {
		t.Fatalf("errno %d", got)
	}
	req := a.got[0]
	want := []string{"target", "ARGS", "name", "Cls"}
	for i, w := range want {
		if string(req.Bufs[i]) != w {
			t.Errorf("buf %d = %q, want %q", i, req.Bufs[i], w)
		}
	}
	if req.Op != abi.OpProcNew || len(req.Ints) != 1 || req.Ints[0] != 1 {
		t.Errorf("request = %+v, want op proc_new with daemon 1", req)
	}
	if h, _ := mem.ReadUint32Le(200); h != 42 {
		t.Errorf("handle written = %d, want 42", h)
	}
}

// TestBufferConvention: a too-small buffer learns the size and is left
// untouched; a big enough one gets the data and the size.
func TestBufferConvention(t *testing.T) {
	a := &answer{reply: &wire.Msg{Bufs: [][]byte{[]byte("Process-12")}}}
	m := instantiate(t, a)
	mem := m.Memory()
	mem.Write(0, bytes.Repeat([]byte{0xAA}, 16))
	if got := call(t, m, "name", 1, 0, 4, 100); got != abi.E2SMALL {
		t.Fatalf("errno = %d, want E2SMALL", got)
	}
	if n, _ := mem.ReadUint32Le(100); n != 10 {
		t.Errorf("size = %d, want 10", n)
	}
	if b, _ := mem.Read(0, 4); !bytes.Equal(b, []byte{0xAA, 0xAA, 0xAA, 0xAA}) {
		t.Errorf("buffer was written on E2SMALL: %x", b)
	}
	if lim := a.got[0].Ints[1]; lim != 4 {
		t.Errorf("limit passed to host = %d, want 4", lim)
	}
	if got := call(t, m, "name", 1, 0, 16, 100); got != 0 {
		t.Fatalf("errno = %d", got)
	}
	if b, _ := mem.Read(0, 10); string(b) != "Process-12" {
		t.Errorf("buffer = %q", b)
	}
	if b, _ := mem.Read(10, 1); b[0] != 0xAA {
		t.Errorf("wrote past the data")
	}
}

// inPlace is a Caller that writes its answer straight into the call's
// first output buffer (wire.Msg.Out), as the runner's direct receives
// do, and answers with that view; it remembers each view's length.
type inPlace struct {
	data  string
	views []int
}

func (c *inPlace) Call(_ context.Context, req *wire.Msg) (*wire.Msg, error) {
	view := req.OutBuf(0)
	c.views = append(c.views, len(view))
	n := copy(view, c.data)
	return &wire.Msg{Bufs: [][]byte{view[:n]}}, nil
}

// TestOutViews: a call's output buffers reach the Caller as views of the
// guest's memory, as large as the guest said (4 bytes an element of an
// i32 array); a result written there and answered with the view is the
// guest's, with its size.
func TestOutViews(t *testing.T) {
	c := &inPlace{data: "Process-12"}
	m := instantiate(t, c)
	mem := m.Memory()
	mem.Write(0, bytes.Repeat([]byte{0xAA}, 32))
	if got := call(t, m, "name", 1, 0, 16, 100); got != 0 {
		t.Fatalf("errno = %d", got)
	}
	if b, _ := mem.Read(0, 11); string(b) != "Process-12\xaa" {
		t.Errorf("buffer = %q", b)
	}
	if n, _ := mem.ReadUint32Le(100); n != 10 {
		t.Errorf("size = %d, want 10", n)
	}
	c.data = "\x01\x00\x00\x00\x02\x00\x00\x00"
	if got := call(t, m, "children", 200, 3, 300); got != 0 {
		t.Fatalf("errno = %d", got)
	}
	if n, _ := mem.ReadUint32Le(300); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	if v, _ := mem.ReadUint32Le(204); v != 2 {
		t.Errorf("second handle = %d, want 2", v)
	}
	if want := []int{16, 12}; len(c.views) != 2 || c.views[0] != want[0] || c.views[1] != want[1] {
		t.Errorf("views of %v bytes, want %v", c.views, want)
	}
}

func TestHostErrnoPassedThrough(t *testing.T) {
	a := &answer{reply: &wire.Msg{Errno: abi.EBADH}}
	m := instantiate(t, a)
	m.Memory().WriteUint32Le(0, 7)
	if got := call(t, m, "self", 0); got != abi.EBADH {
		t.Fatalf("errno = %d, want EBADH", got)
	}
	if v, _ := m.Memory().ReadUint32Le(0); v != 7 {
		t.Errorf("out-pointer written on error: %d", v)
	}
}

func TestChildrenArray(t *testing.T) {
	var hs []byte
	for _, h := range []uint32{2, 3, 5} {
		hs = binary.LittleEndian.AppendUint32(hs, h)
	}
	a := &answer{reply: &wire.Msg{Bufs: [][]byte{hs}}}
	m := instantiate(t, a)
	if got := call(t, m, "children", 0, 2, 100); got != abi.E2SMALL {
		t.Fatalf("errno = %d, want E2SMALL", got)
	}
	if n, _ := m.Memory().ReadUint32Le(100); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	if got := call(t, m, "children", 0, 3, 100); got != 0 {
		t.Fatalf("errno = %d", got)
	}
	for i, want := range []uint32{2, 3, 5} {
		if v, _ := m.Memory().ReadUint32Le(uint32(4 * i)); v != want {
			t.Errorf("handle %d = %d, want %d", i, v, want)
		}
	}
}

func TestNamesMatchDocs(t *testing.T) {
	names := hostfuncs.Names()
	if len(names) == 0 {
		t.Fatal("no functions")
	}
	doc := readABI(t)
	for _, n := range names {
		if !bytes.Contains(doc, []byte("`"+n+"(")) {
			t.Errorf("docs/ABI.md does not document %s", n)
		}
	}
}

// fixed is a Caller that answers every call with one reply and checks
// nothing: the cost of a call is all the binding's.
type fixed struct{ reply *wire.Msg }

func (f fixed) Call(context.Context, *wire.Msg) (*wire.Msg, error) { return f.reply, nil }

// nested answers proc_new after making a proc_name call of the same
// module from inside it (as a second guest instance on the same host
// module might, while the first waits for its reply), and notes whether
// the outer call's request changed meanwhile.
type nested struct {
	m       api.Module
	changed string // what changed, if anything
	name    abi.Errno
}

func (n *nested) Call(ctx context.Context, req *wire.Msg) (*wire.Msg, error) {
	if req.Op != abi.OpProcNew {
		return &wire.Msg{Bufs: [][]byte{[]byte("worker")}}, nil
	}
	ints := append([]int64(nil), req.Ints...)
	bufs := bytes.Join(req.Bufs, []byte("|"))
	res, err := n.m.ExportedFunction("name").Call(ctx, 1, 300, 16, 320)
	if err != nil {
		return nil, err
	}
	n.name = abi.Errno(uint32(res[0]))
	if got := bytes.Join(req.Bufs, []byte("|")); !bytes.Equal(got, bufs) {
		n.changed = fmt.Sprintf("Bufs %q, were %q", got, bufs)
	} else if fmt.Sprint(req.Ints) != fmt.Sprint(ints) {
		n.changed = fmt.Sprintf("Ints %v, were %v", req.Ints, ints)
	}
	return &wire.Msg{Ints: []int64{42}}, nil
}

// TestNestedCall: a call made while another of the same module is in
// flight has a request of its own (the module's calls share one when
// they come one at a time): the outer call's inputs are intact after it,
// and both results are written back.
func TestNestedCall(t *testing.T) {
	n := &nested{}
	m := instantiate(t, n)
	n.m = m
	m.Memory().Write(100, []byte("targetARGSnameCls"))
	if e := call(t, m, "new", 100, 6, 106, 4, 110, 4, 114, 3, 1, 200); e != abi.OK {
		t.Fatalf("new: errno %d", e)
	}
	if n.changed != "" {
		t.Errorf("the outer call's request changed during the nested call: %s", n.changed)
	}
	if n.name != abi.OK {
		t.Errorf("nested name: errno %d", n.name)
	}
	if h, _ := m.Memory().ReadUint32Le(200); h != 42 {
		t.Errorf("outer handle = %d, want 42", h)
	}
	if size, _ := m.Memory().ReadUint32Le(320); size != 6 {
		t.Errorf("nested name size = %d, want 6", size)
	}
	if got, _ := m.Memory().Read(300, 6); string(got) != "worker" {
		t.Errorf("nested name = %q, want worker", got)
	}
}

// TestCallsAllocateNothing: decoding a call and writing its results back
// allocates nothing once warm (a runner serves a direct lock's acquire in
// a few hundred nanoseconds, and its Go collector's work was mostly these
// allocations): inputs of every kind (bytes, handles, flags, an output
// handle) and a buffer result.
func TestCallsAllocateNothing(t *testing.T) {
	tests := []struct {
		fn    string
		reply *wire.Msg
		stack []uint64
	}{
		{"new", &wire.Msg{Ints: []int64{42}}, []uint64{100, 6, 106, 4, 110, 4, 114, 3, 1, 200}},
		{"name", &wire.Msg{Bufs: [][]byte{[]byte("worker")}}, []uint64{1, 300, 16, 320}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			m := instantiate(t, fixed{tt.reply})
			m.Memory().Write(100, []byte("targetARGSnameCls"))
			fn := m.ExportedFunction(tt.fn)
			stack := make([]uint64, len(tt.stack))
			ctx := context.Background()
			allocs := testing.AllocsPerRun(100, func() {
				copy(stack, tt.stack)
				if err := fn.CallWithStack(ctx, stack); err != nil || stack[0] != 0 {
					t.Fatalf("%s: errno %d, %v", tt.fn, stack[0], err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s: %.1f allocations a call, want 0", tt.fn, allocs)
			}
		})
	}
}

// failOnce fails its first call (the host is gone: the guest is aborted)
// and answers the others with reply.
type failOnce struct {
	failed bool
	reply  *wire.Msg
}

func (f *failOnce) Call(context.Context, *wire.Msg) (*wire.Msg, error) {
	if !f.failed {
		f.failed = true
		return nil, errors.New("host gone")
	}
	return f.reply, nil
}

// TestRoomAfterAbort: a call whose Caller fails aborts the guest, and
// gives the module's request back all the same: a reused runner's next
// guest, on the same host module, still allocates nothing a call.
func TestRoomAfterAbort(t *testing.T) {
	m := instantiate(t, &failOnce{reply: &wire.Msg{Ints: []int64{42}}})
	ctx := context.Background()
	fn := m.ExportedFunction("self")
	if _, err := fn.Call(ctx, 200); err == nil {
		t.Fatal("a call whose Caller failed did not abort")
	}
	stack := make([]uint64, 1)
	allocs := testing.AllocsPerRun(100, func() {
		stack[0] = 200
		if err := fn.CallWithStack(ctx, stack); err != nil || stack[0] != 0 {
			t.Fatalf("self: errno %d, %v", stack[0], err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations a call after an aborted one, want 0 (the request was not given back)", allocs)
	}
}
