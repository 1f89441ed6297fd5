package hostfuncs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// FuzzImports calls one import of the ABI, as a guest can, with anything a
// guest can pass: abi.Ops()[op % len] with its WebAssembly parameters taken
// from args (4 little-endian bytes for an i32, 8 for an i64, zero once args
// runs out), on a page of guest memory that starts with mem (the rest is
// zero), answered by a host that decodes the call with abi.Decode and
// replies as reply says (see fuzzReply).
//
// It checks that the call returns a known errno and never an error (a
// panic in a host function comes back from wazero as one); that a call
// whose pointers or lengths leave the memory is answered EFAULT without
// reaching the host, and any other reaches it exactly once, carrying the
// parameters and the bytes of memory it names, and decoding with
// abi.Decode; that the host's errno comes back, or E2SMALL when a result
// does not fit its buffer; and that the call writes guest memory nowhere
// but into its results (on E2SMALL, only the sizes; on an error, nowhere).
//
// The runtime and the module are built once per fuzzing process; each
// input rewrites the memory.
func FuzzImports(f *testing.F) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	f.Cleanup(func() { r.Close(ctx) })
	host := &fuzzHost{}
	if _, err := hostfuncs.Instantiate(ctx, r, host); err != nil {
		f.Fatal(err)
	}
	m, err := r.Instantiate(ctx, everyImport())
	if err != nil {
		f.Fatalf("instantiate the module of every import: %v", err)
	}
	specs := abi.Ops()
	fns := make([]api.Function, len(specs))
	for i, s := range specs {
		if fns[i] = m.ExportedFunction(s.Name); fns[i] == nil {
			f.Fatalf("%s not exported", s.Name)
		}
	}
	guest, ok := m.Memory().Read(0, m.Memory().Size())
	if !ok {
		f.Fatal("cannot read the guest's memory")
	}
	before := make([]byte, len(guest))

	f.Fuzz(func(t *testing.T, op uint8, args, reply, mem []byte) {
		s := specs[int(op)%len(specs)]
		clear(before[copy(before, mem):])
		copy(guest, before)
		c := newFuzzCall(s, args, before)
		*host = fuzzHost{reply: reply}

		res, err := fns[int(op)%len(specs)].Call(ctx, c.vals...)
		if err != nil {
			t.Fatalf("%s%v: %v", s.Name, c.vals, err)
		}
		got := abi.Errno(uint32(res[0]))
		if !got.Known() {
			t.Fatalf("%s%v = %d, not an errno of the ABI", s.Name, c.vals, int32(got))
		}
		if host.err != nil {
			t.Fatalf("%s%v: the host could not decode the call: %v", s.Name, c.vals, host.err)
		}
		if !c.fits {
			if got != abi.EFAULT || host.calls != 0 {
				t.Fatalf("%s%v: pointers outside memory: errno %s, %d calls reached the host; want EFAULT and none",
					s.Name, c.vals, got, host.calls)
			}
			c.unchanged(t, guest, nil)
			return
		}
		if host.calls != 1 {
			t.Fatalf("%s%v: %d calls reached the host, want 1 (errno %s)", s.Name, c.vals, host.calls, got)
		}
		c.sent(t, host.req)
		want := host.errno
		if want == abi.OK && c.tooSmall(host.results) {
			want = abi.E2SMALL
		}
		if got != want {
			t.Fatalf("%s%v = %s, want %s (host said %s)", s.Name, c.vals, got, want, host.errno)
		}
		switch got {
		case abi.OK:
			c.unchanged(t, guest, c.outs)
		case abi.E2SMALL:
			c.unchanged(t, guest, c.sizes)
		default:
			c.unchanged(t, guest, nil)
		}
	})
}

// fuzzHost is the Caller of FuzzImports: it keeps what it was asked,
// decodes it as the host does, and answers as fuzzReply says.
type fuzzHost struct {
	reply   []byte    // how to answer
	calls   int       // calls that reached it
	req     *wire.Msg // a copy of the last call
	err     error     // why abi.Decode refused the last call
	errno   abi.Errno // the errno of the last answer
	results [][]byte  // the byte results of the last answer
}

var _ hostfuncs.Caller = (*fuzzHost)(nil)

func (h *fuzzHost) Call(_ context.Context, req *wire.Msg) (*wire.Msg, error) {
	h.calls++
	h.req = &wire.Msg{Kind: req.Kind, Op: req.Op, Ints: append([]int64(nil), req.Ints...)}
	for _, b := range req.Bufs {
		h.req.Bufs = append(h.req.Bufs, append([]byte(nil), b...))
	}
	a, err := abi.Decode(req.Op, req.Ints, req.Bufs)
	if err != nil {
		h.err = err
		return &wire.Msg{Kind: wire.KindReply, Errno: abi.EINVAL}, nil
	}
	rep := fuzzReply(&a, h.reply)
	h.errno, h.results = rep.Errno, rep.Bufs
	return rep, nil
}

// fuzzReply is an answer the host could give to the call a, as b says.
// With no b: OK and every result empty. Otherwise b[0] picks the errno;
// E2SMALL carries the size needed from the next 4 bytes; OK sets every
// result from the bytes that follow, in order: 4 bytes for an integer and
// for each field of a record, 2 for the length of a buffer (the count of an
// array's elements), whose bytes are then 0xA5.
func fuzzReply(a *abi.Args, b []byte) *wire.Msg {
	m := &wire.Msg{Kind: wire.KindReply}
	if len(b) > 0 {
		errnos := abi.Errnos()
		m.Errno = errnos[int(b[0])%len(errnos)]
		b = b[1:]
	}
	next := func(n int) uint64 {
		var v [8]byte
		b = b[copy(v[:n], b):]
		return binary.LittleEndian.Uint64(v[:])
	}
	switch m.Errno {
	case abi.OK:
	case abi.E2SMALL:
		m.Ints = []int64{int64(uint32(next(4)))}
		return m
	default:
		return m
	}
	for _, f := range a.Spec.Params {
		switch f.Kind {
		case abi.OutHandle, abi.OutI32, abi.OutBool:
			a.SetInt(f.Param, int64(int32(next(4))))
		case abi.OutRecord:
			fields := make([]int64, len(a.Spec.Record.Fields))
			for i := range fields {
				fields[i] = int64(int32(next(4)))
			}
			a.SetRecord(f.Param, fields...)
		case abi.OutBuf, abi.OutText, abi.OutI32s:
			n := int(next(2))
			if f.Kind == abi.OutI32s {
				n *= 4
			}
			a.SetBytes(f.Param, bytes.Repeat([]byte{0xA5}, n))
		}
	}
	m.Ints, m.Bufs = a.Results()
	return m
}

// fuzzCall is one call of FuzzImports as the test expects it to go.
type fuzzCall struct {
	s      *abi.Spec
	vals   []uint64
	before []byte // the memory before the call
	fits   bool   // every pointer and length lies within the memory
	ints   []int64
	bufs   [][]byte
	caps   []uint32 // the capacity of each buffer result, in bytes or elements
	outs   []span   // where the call may write on OK
	sizes  []span   // where it may write on E2SMALL
}

// span is a range of guest memory.
type span struct{ at, n uint64 }

func newFuzzCall(s *abi.Spec, args, before []byte) *fuzzCall {
	c := &fuzzCall{s: s, before: before, fits: true}
	size := uint64(len(before))
	next := func(n int) uint64 {
		var v [8]byte
		args = args[copy(v[:n], args):]
		return binary.LittleEndian.Uint64(v[:])
	}
	i32 := func() uint64 { return next(4) }
	in := func(at, n uint64) bool {
		ok := at+n <= size
		c.fits = c.fits && ok
		return ok
	}
	for _, f := range s.Params {
		switch f.Kind {
		case abi.Handle, abi.I32, abi.Bool:
			v := i32()
			c.vals = append(c.vals, v)
			c.ints = append(c.ints, int64(int32(v)))
		case abi.Timeout:
			v := next(8)
			c.vals = append(c.vals, v)
			c.ints = append(c.ints, int64(v))
		case abi.Bytes, abi.Text:
			ptr, n := i32(), i32()
			c.vals = append(c.vals, ptr, n)
			if in(ptr, n) {
				c.bufs = append(c.bufs, before[ptr:ptr+n])
			}
		case abi.OutHandle, abi.OutI32, abi.OutBool:
			ptr := i32()
			c.vals = append(c.vals, ptr)
			in(ptr, 4)
			c.outs = append(c.outs, span{ptr, 4})
		case abi.OutRecord:
			ptr, n := i32(), uint64(s.Record.Size())
			c.vals = append(c.vals, ptr)
			in(ptr, n)
			c.outs = append(c.outs, span{ptr, n})
		case abi.OutBuf, abi.OutText, abi.OutI32s:
			ptr, n, aux := i32(), i32(), i32()
			c.vals = append(c.vals, ptr, n, aux)
			c.ints = append(c.ints, int64(n))
			c.caps = append(c.caps, uint32(n))
			bytes := n
			if f.Kind == abi.OutI32s {
				bytes *= 4
			}
			in(ptr, bytes)
			in(aux, 4)
			c.outs = append(c.outs, span{ptr, bytes}, span{aux, 4})
			c.sizes = append(c.sizes, span{aux, 4})
		}
	}
	return c
}

// sent checks the call that reached the host: its op, its integers and
// the bytes of memory it names.
func (c *fuzzCall) sent(t *testing.T, req *wire.Msg) {
	t.Helper()
	if req.Kind != wire.KindCall || req.Op != c.s.Op {
		t.Fatalf("%s%v: sent kind %d op %s, want a call of %s", c.s.Name, c.vals, req.Kind, req.Op, c.s.Name)
	}
	if !slices.Equal(req.Ints, c.ints) {
		t.Fatalf("%s%v: sent integers %v, want %v", c.s.Name, c.vals, req.Ints, c.ints)
	}
	if len(req.Bufs) != len(c.bufs) {
		t.Fatalf("%s%v: sent %d buffers, want %d", c.s.Name, c.vals, len(req.Bufs), len(c.bufs))
	}
	for i := range c.bufs {
		if !bytes.Equal(req.Bufs[i], c.bufs[i]) {
			t.Fatalf("%s%v: buffer %d sent is %q, want %q", c.s.Name, c.vals, i, req.Bufs[i], c.bufs[i])
		}
	}
}

// tooSmall reports whether one of the byte results the host answered does
// not fit the buffer the guest gave it.
func (c *fuzzCall) tooSmall(results [][]byte) bool {
	j, nb := 0, 0
	for _, f := range c.s.Params {
		switch f.Kind {
		case abi.OutRecord:
			nb++
		case abi.OutBuf, abi.OutText, abi.OutI32s:
			n := 0
			if nb < len(results) {
				n = len(results[nb])
			}
			nb++
			if f.Kind == abi.OutI32s {
				n /= 4
			}
			if uint64(n) > uint64(c.caps[j]) {
				return true
			}
			j++
		}
	}
	return false
}

// unchanged checks that the memory is as it was before the call outside
// the spans the call may write.
func (c *fuzzCall) unchanged(t *testing.T, guest []byte, may []span) {
	t.Helper()
	if bytes.Equal(guest, c.before) {
		return
	}
	for i := range guest {
		if guest[i] == c.before[i] {
			continue
		}
		allowed := false
		for _, s := range may {
			if uint64(i) >= s.at && uint64(i) < s.at+s.n {
				allowed = true
				break
			}
		}
		if !allowed {
			t.Fatalf("%s%v wrote byte %d (%#x, was %#x) outside what it may write %v", c.s.Name, c.vals, i, guest[i], c.before[i], may)
		}
	}
}
