// Package hostfuncs is the ABI of the sandbox: the host module "sandbox"
// that guests import (docs/ABI.md is its contract).
//
// Every function decodes its parameters from guest memory, checks every
// pointer and length against that memory, and hands the call, as a
// wire.Msg, to a Caller that does the real work. It knows nothing of
// sockets or OS processes: in a runner the Caller forwards the call to the
// host; in tests it may be anything that answers. A bad pointer is answered
// with EFAULT and never reaches the Caller; outputs are written back only
// after they were checked to fit, following the buffer convention of the ABI
// (a too-small buffer learns the size needed and loses nothing).
package hostfuncs

import (
	"context"
	"fmt"
	"sort"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// ModuleName is the import module name of the ABI.
const ModuleName = "sandbox"

// MaxCallBytes bounds the bytes one call may carry from guest memory. A
// larger call is answered with E2BIG and never leaves the runner.
const MaxCallBytes = wire.MaxFrame - 64<<10

// Caller carries out one decoded call and returns its reply. An error means
// the call could not be carried out at all (the host is gone); the guest is
// then aborted with that error.
type Caller interface {
	Call(ctx context.Context, req *wire.Msg) (*wire.Msg, error)
}

// Instantiate defines the "sandbox" host module in r, backed by c.
func Instantiate(ctx context.Context, r wazero.Runtime, c Caller) (api.Module, error) {
	b := r.NewHostModuleBuilder(ModuleName)
	for i := range functions {
		f := &functions[i]
		b.NewFunctionBuilder().
			WithGoModuleFunction(&binding{f: f, c: c}, f.wasmParams(), []api.ValueType{api.ValueTypeI32}).
			WithParameterNames(f.paramNames()...).
			Export(f.name)
	}
	m, err := b.Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("instantiate %s host module: %w", ModuleName, err)
	}
	return m, nil
}

// Names lists the functions of the module, sorted.
func Names() []string {
	names := make([]string, 0, len(functions))
	for _, f := range functions {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}

// binding is one exported function bound to a Caller.
type binding struct {
	f *function
	c Caller
}

// output is an out-parameter remembered until the reply comes.
type output struct {
	kind           kind
	ptr, n, auxPtr uint32
}

// Call implements api.GoModuleFunction.
func (b *binding) Call(ctx context.Context, mod api.Module, stack []uint64) {
	stack[0] = uint64(uint32(b.call(ctx, mod.Memory(), stack)))
}

func (b *binding) call(ctx context.Context, mem api.Memory, stack []uint64) int32 {
	if mem == nil {
		return wire.EFAULT
	}
	size := uint64(mem.Size())
	fits := func(ptr, n uint32) bool { return uint64(ptr)+uint64(n) <= size }
	req := &wire.Msg{Kind: wire.KindCall, Op: b.f.op}
	var outs [4]output
	nout := 0
	total := 0
	i := 0
	for _, k := range b.f.params {
		switch k {
		case kI32:
			req.Ints = append(req.Ints, int64(int32(uint32(stack[i]))))
			i++
		case kI64:
			req.Ints = append(req.Ints, int64(stack[i]))
			i++
		case kBytes:
			ptr, n := uint32(stack[i]), uint32(stack[i+1])
			i += 2
			data, ok := mem.Read(ptr, n)
			if !ok {
				return wire.EFAULT
			}
			total += len(data)
			req.Bufs = append(req.Bufs, data)
		case kOutI32:
			ptr := uint32(stack[i])
			i++
			if !fits(ptr, 4) {
				return wire.EFAULT
			}
			outs[nout] = output{kind: k, ptr: ptr}
			nout++
		case kOutRecord:
			ptr := uint32(stack[i])
			i++
			if !fits(ptr, b.f.record) {
				return wire.EFAULT
			}
			outs[nout] = output{kind: k, ptr: ptr, n: b.f.record}
			nout++
		case kOutBuf, kOutI32s:
			ptr, n, aux := uint32(stack[i]), uint32(stack[i+1]), uint32(stack[i+2])
			i += 3
			bytes := uint64(n)
			if k == kOutI32s {
				bytes *= 4
			}
			if uint64(ptr)+bytes > size || !fits(aux, 4) {
				return wire.EFAULT
			}
			req.Ints = append(req.Ints, int64(n))
			outs[nout] = output{kind: k, ptr: ptr, n: n, auxPtr: aux}
			nout++
		}
	}
	if total > MaxCallBytes {
		return wire.E2BIG
	}
	reply, err := b.c.Call(ctx, req)
	if err != nil {
		// The host is gone: nothing sensible can be answered. Aborting the
		// guest with the error ends this runner.
		panic(fmt.Errorf("%s.%s: %w", ModuleName, b.f.name, err))
	}
	if reply.Errno == wire.E2SMALL {
		for _, o := range outs[:nout] {
			if o.kind == kOutBuf || o.kind == kOutI32s {
				mem.WriteUint32Le(o.auxPtr, uint32(reply.Int(0)))
				break
			}
		}
		return wire.E2SMALL
	}
	if reply.Errno != wire.OK {
		return reply.Errno
	}
	ni, nb := 0, 0
	// First check that every variable-size output fits, so that a too-small
	// buffer leaves the others unwritten too.
	for _, o := range outs[:nout] {
		switch o.kind {
		case kOutBuf, kOutI32s:
			data := reply.Buf(nb)
			nb++
			count := uint32(len(data))
			if o.kind == kOutI32s {
				count /= 4
			}
			if count > o.n {
				mem.WriteUint32Le(o.auxPtr, count)
				return wire.E2SMALL
			}
		case kOutRecord:
			nb++
		}
	}
	nb = 0
	for _, o := range outs[:nout] {
		switch o.kind {
		case kOutI32:
			mem.WriteUint32Le(o.ptr, uint32(reply.Int(ni)))
			ni++
		case kOutRecord:
			rec := make([]byte, o.n)
			copy(rec, reply.Buf(nb))
			nb++
			mem.Write(o.ptr, rec)
		case kOutBuf, kOutI32s:
			data := reply.Buf(nb)
			nb++
			count := uint32(len(data))
			if o.kind == kOutI32s {
				count /= 4
			}
			mem.WriteUint32Le(o.auxPtr, count)
			mem.Write(o.ptr, data)
		}
	}
	return wire.OK
}
