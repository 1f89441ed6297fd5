// Package hostfuncs is the ABI of the sandbox: the host module "sandbox"
// that guests import (docs/ABI.md is its contract).
//
// Every import of abi.Ops is one function here. Each decodes its parameters
// from guest memory, checks every pointer and length against that memory,
// and hands the call, as a wire.Msg laid out as abi.Args.Encode says, to a
// Caller that does the real work. It knows nothing of sockets or OS
// processes: in a runner the Caller forwards the call to the host; in tests
// it may be anything that answers. A bad pointer is answered with EFAULT and
// never reaches the Caller; outputs are written back only after they were
// checked to fit, following the buffer convention of the ABI (a too-small
// buffer learns the size needed and loses nothing). A Caller that is also
// a Shortcut is first offered the calls whose parameters are integers
// only, which it may serve with no wire.Msg made.
package hostfuncs

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// ModuleName is the import module name of the ABI.
const ModuleName = "sandbox"

// MaxCallBytes bounds the bytes one call may carry from guest memory. A
// larger call is answered with E2BIG and never leaves the runner.
const MaxCallBytes = abi.MaxCallBytes

// Caller carries out one decoded call and returns its reply. An error means
// the call could not be carried out at all (the host is gone); the guest is
// then aborted with that error. req, its Ints, its Bufs and its Out (views
// of guest memory) are valid only until Call returns: a Caller that keeps
// any of them keeps a copy. Out holds the guest's buffers for the call's
// variable-size results, whole: a Caller may write a result into one and
// answer with a Buf that starts where it does (it is then not copied), but
// only a result it answers OK with (a too-small buffer is left untouched,
// as the ABI says). The reply is read before the guest's next call. A req
// of kind wire.KindPost (an import that posts another, abi.Spec.Posts) has
// no results to wait for: a Caller may send it on and answer OK at once,
// as the runner does, or serve it as a call.
type Caller interface {
	Call(ctx context.Context, req *wire.Msg) (*wire.Msg, error)
}

// A Shortcut is a Caller that may serve a call straight from its integer
// parameters, with no wire.Msg made: a call of an import whose
// parameters are handles, integers, booleans and timeouts, and whose one
// result, if it has one, is an integer. In a runner a direct lock's
// acquire+release took 378 ns, 90 of them in building the calls'
// messages and unpacking their replies, and a contended Lock is held for
// as long as its release takes to reach the lock's word.
type Shortcut interface {
	Caller
	// Shortcut serves op with args, or declines it (served false), leaving
	// no trace: Call then serves the call from the start. result is
	// written to the out-parameter of an answer OK; an error aborts the
	// guest, as Call's does. It is called as Call is (one call of a guest
	// at a time; calls of other instances of the module may come at once)
	// and serves only what needs no wait: a call that may block is
	// declined, for Call.
	Shortcut(op abi.Op, args IntArgs) (result int64, errno abi.Errno, served bool, err error)
}

// IntArgs are the parameters of a call offered to a Shortcut, Ints[:N],
// as req.Ints would hold them (a value, so that offering them through an
// interface allocates nothing).
type IntArgs struct {
	Ints [abi.MaxParams]int64
	N    int
}

// Int returns the i-th parameter, or 0 when there is none.
func (a *IntArgs) Int(i int) int64 {
	if i < a.N {
		return a.Ints[i]
	}
	return 0
}

// Instantiate defines the "sandbox" host module in r, backed by c: one
// function for every import of abi.Ops.
func Instantiate(ctx context.Context, r wazero.Runtime, c Caller) (api.Module, error) {
	b := r.NewHostModuleBuilder(ModuleName)
	shared := new(room)
	sc, _ := c.(Shortcut)
	for _, s := range abi.Ops() {
		f := &binding{s: s, c: c, room: shared, views: holdsViews(s)}
		if shortcuts(s) {
			f.short = sc
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(f, wasmParams(s), []api.ValueType{api.ValueTypeI32}).
			WithParameterNames(s.WasmNames()...).
			Export(s.Name)
	}
	m, err := b.Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("instantiate %s host module: %w", ModuleName, err)
	}
	return m, nil
}

func wasmParams(s *abi.Spec) []api.ValueType {
	var vt []api.ValueType
	for _, f := range s.Params {
		for _, t := range f.Kind.Wasm() {
			if t == "i64" {
				vt = append(vt, api.ValueTypeI64)
			} else {
				vt = append(vt, api.ValueTypeI32)
			}
		}
	}
	return vt
}

// Names lists the functions of the module, sorted.
func Names() []string {
	var names []string
	for _, s := range abi.Ops() {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

// binding is one exported function bound to a Caller.
type binding struct {
	s    *abi.Spec
	c    Caller
	room *room // the module's, shared by its functions
	// views says whether a request of it holds views of guest memory
	// (buffers in or out: holdsViews).
	views bool
	// short serves its calls first, when its parameters allow (shortcuts).
	short Shortcut
}

// shortcuts says whether s's calls may go to a Shortcut: its parameters
// are integers, each one wasm parameter, but for one integer result at
// most, and it posts nothing.
func shortcuts(s *abi.Spec) bool {
	outs := 0
	for _, f := range s.Params {
		switch {
		case intResult(f.Kind):
			outs++
		case f.Kind != abi.Handle && f.Kind != abi.I32 && f.Kind != abi.Bool && f.Kind != abi.Timeout:
			return false
		}
	}
	return outs <= 1 && s.Posts == 0
}

// intResult says whether a parameter of kind k is an integer result: a
// pointer to the i32 the call writes.
func intResult(k abi.Kind) bool { return k == abi.OutHandle || k == abi.OutI32 || k == abi.OutBool }

// intParam is the value in Ints of an integer parameter of kind k
// passed as v: an i32 sign-extended, a timeout as it is.
func intParam(k abi.Kind, v uint64) int64 {
	if k == abi.Timeout {
		return int64(v)
	}
	return int64(int32(uint32(v)))
}

// shortcut offers the call to b.short (shortcuts(b.s) holds); served is
// false when it declines, or when the result's pointer is bad (the call
// then fails with EFAULT as any call).
func (b *binding) shortcut(mem api.Memory, stack []uint64) (e abi.Errno, served bool) {
	var args IntArgs
	out, hasOut := uint32(0), false
	for i, f := range b.s.Params {
		if intResult(f.Kind) {
			out, hasOut = uint32(stack[i]), true
		} else {
			args.Ints[args.N] = intParam(f.Kind, stack[i])
			args.N++
		}
	}
	if hasOut && !within(uint64(mem.Size()), out, 4) {
		return 0, false
	}
	result, e, served, err := b.short.Shortcut(b.s.Op, args)
	if err != nil {
		panic(fmt.Errorf("%s.%s: %w", ModuleName, b.s.Name, err)) // as call's
	}
	if served && e == abi.OK && hasOut {
		mem.WriteUint32Le(out, uint32(result))
	}
	return e, served
}

// within says whether n bytes at ptr lie inside a memory of size bytes.
func within(size uint64, ptr, n uint32) bool { return uint64(ptr)+uint64(n) <= size }

// holdsViews says whether s has parameters that are buffers, in or out,
// which its request holds as views of guest memory.
func holdsViews(s *abi.Spec) bool {
	for _, f := range s.Params {
		if f.Kind == abi.Bytes || f.Kind == abi.Text || isBuffer(f.Kind) {
			return true
		}
	}
	return false
}

// request is the room of one call's wire.Msg and its out-parameters: a
// call served in the runner (a direct lock's acquire, a pipe's send)
// costs a few hundred nanoseconds, and the message, its Ints and its Bufs
// were 3 to 5 allocations of it, and most of the Go collector's work in a
// runner.
type request struct {
	msg  wire.Msg
	ints [abi.MaxParams]int64
	bufs [abi.MaxParams][]byte
	outs [abi.MaxParams][]byte
	out  [abi.MaxParams]output
}

// room is the request of a module's calls. A guest makes one call at a
// time (a Go guest's goroutines share one thread), so one request serves
// them all; a call made while another is in flight (another instance on
// the same module) gets a request of its own. It replaced a sync.Pool,
// whose Get and Put, with the clearing of every view, were a fifth of a
// direct lock's acquire+release in the runner.
type room struct {
	busy atomic.Bool
	rq   request
}

// take returns the room's request, or a new one when it is in use.
func (r *room) take() *request {
	if r.busy.CompareAndSwap(false, true) {
		return &r.rq
	}
	return new(request)
}

// give takes back rq, which take returned, dropping the views of guest
// memory it holds, if its call had any (views; a lock's call has none,
// and clears nothing).
func (r *room) give(rq *request, views bool) {
	if views {
		clear(rq.bufs[:])
		clear(rq.outs[:])
		clear(rq.out[:])
	}
	if rq == &r.rq {
		r.busy.Store(false)
	}
}

// output is an out-parameter remembered until the reply comes.
type output struct {
	kind           abi.Kind
	ptr, n, auxPtr uint32
	view           []byte // a buffer's room in guest memory (wire.Msg.Out)
}

// Call implements api.GoModuleFunction.
func (b *binding) Call(ctx context.Context, mod api.Module, stack []uint64) {
	stack[0] = uint64(uint32(b.call(ctx, mod.Memory(), stack)))
}

// call reads the inputs from the stack and guest memory in the order of
// the import's parameters (integers, and the capacities of buffers, into
// Ints; bytes into Bufs, as abi.Decode reads them), forwards the call, and
// writes the results back.
func (b *binding) call(ctx context.Context, mem api.Memory, stack []uint64) abi.Errno {
	if mem == nil {
		return abi.EFAULT
	}
	if b.short != nil {
		if e, ok := b.shortcut(mem, stack); ok {
			return e
		}
	}
	rq := b.room.take()
	defer b.room.give(rq, b.views) // (also on a panic: a reused runner's next guest has the same module)
	return b.serve(ctx, mem, stack, rq)
}

// serve is call with rq, the call's request.
func (b *binding) serve(ctx context.Context, mem api.Memory, stack []uint64, rq *request) abi.Errno {
	size := uint64(mem.Size())
	fits := func(ptr, n uint32) bool { return within(size, ptr, n) }
	rq.msg = wire.Msg{Kind: wire.KindCall, Op: b.s.Op, Ints: rq.ints[:0], Bufs: rq.bufs[:0], Out: rq.outs[:0]}
	req := &rq.msg
	if b.s.Posts != 0 {
		req.Kind = wire.KindPost // no results: the Caller need not wait
	}
	outs := &rq.out
	nout := 0
	total := 0
	i := 0
	for _, f := range b.s.Params {
		switch f.Kind {
		case abi.Handle, abi.I32, abi.Bool, abi.Timeout:
			req.Ints = append(req.Ints, intParam(f.Kind, stack[i]))
			i++
		case abi.Bytes, abi.Text:
			ptr, n := uint32(stack[i]), uint32(stack[i+1])
			i += 2
			data, ok := mem.Read(ptr, n)
			if !ok {
				return abi.EFAULT
			}
			total += len(data)
			req.Bufs = append(req.Bufs, data)
		case abi.OutHandle, abi.OutI32, abi.OutBool:
			ptr := uint32(stack[i])
			i++
			if !fits(ptr, 4) {
				return abi.EFAULT
			}
			outs[nout] = output{kind: f.Kind, ptr: ptr}
			nout++
		case abi.OutRecord:
			ptr := uint32(stack[i])
			i++
			n := uint32(b.s.Record.Size())
			if !fits(ptr, n) {
				return abi.EFAULT
			}
			outs[nout] = output{kind: f.Kind, ptr: ptr, n: n}
			nout++
		case abi.OutBuf, abi.OutText, abi.OutI32s:
			ptr, n, aux := uint32(stack[i]), uint32(stack[i+1]), uint32(stack[i+2])
			i += 3
			bytes := uint64(n)
			if f.Kind == abi.OutI32s {
				bytes *= 4
			}
			if uint64(ptr)+bytes > size || !fits(aux, 4) {
				return abi.EFAULT
			}
			var view []byte
			if bytes <= math.MaxUint32 {
				view, _ = mem.Read(ptr, uint32(bytes))
			}
			req.Ints = append(req.Ints, int64(n))
			req.Out = append(req.Out, view)
			outs[nout] = output{kind: f.Kind, ptr: ptr, n: n, auxPtr: aux, view: view}
			nout++
		}
	}
	if total > MaxCallBytes {
		return abi.E2BIG
	}
	reply, err := b.c.Call(ctx, req)
	if err != nil {
		// The host is gone: nothing sensible can be answered. Aborting the
		// guest with the error ends this runner.
		panic(fmt.Errorf("%s.%s: %w", ModuleName, b.s.Name, err))
	}
	if reply.Errno == abi.E2SMALL {
		for _, o := range outs[:nout] {
			if isBuffer(o.kind) {
				mem.WriteUint32Le(o.auxPtr, uint32(reply.Int(0)))
				break
			}
		}
		return abi.E2SMALL
	}
	if reply.Errno != abi.OK {
		return reply.Errno
	}
	ni, nb := 0, 0
	// First check that every variable-size output fits, so that a too-small
	// buffer leaves the others unwritten too.
	for _, o := range outs[:nout] {
		switch {
		case isBuffer(o.kind):
			data := reply.Buf(nb)
			nb++
			count := uint32(len(data))
			if o.kind == abi.OutI32s {
				count /= 4
			}
			if count > o.n {
				mem.WriteUint32Le(o.auxPtr, count)
				return abi.E2SMALL
			}
		case o.kind == abi.OutRecord:
			nb++
		}
	}
	nb = 0
	for _, o := range outs[:nout] {
		switch {
		case o.kind == abi.OutRecord:
			rec := reply.Buf(nb)
			nb++
			if len(rec) != int(o.n) {
				padded := make([]byte, o.n) // (zeros past a short one; never past n)
				copy(padded, rec)
				rec = padded
			}
			mem.Write(o.ptr, rec)
		case isBuffer(o.kind):
			data := reply.Buf(nb)
			nb++
			count := uint32(len(data))
			if o.kind == abi.OutI32s {
				count /= 4
				data = data[:4*count] // whole elements only: never past the guest's buffer
			}
			mem.WriteUint32Le(o.auxPtr, count)
			if !sameStart(data, o.view) { // (else written in place)
				mem.Write(o.ptr, data)
			}
		default: // a scalar result
			mem.WriteUint32Le(o.ptr, uint32(reply.Int(ni)))
			ni++
		}
	}
	return abi.OK
}

// sameStart reports whether data starts where view does: a result the
// Caller wrote in the guest's buffer itself.
func sameStart(data, view []byte) bool {
	return len(data) > 0 && len(view) > 0 && unsafe.SliceData(data) == unsafe.SliceData(view)
}

func isBuffer(k abi.Kind) bool { return k == abi.OutBuf || k == abi.OutText || k == abi.OutI32s }
