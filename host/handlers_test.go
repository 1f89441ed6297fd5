package host

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestEveryOpHasHandler: an import without a handler is caught here, not
// when a guest first calls it. An import that posts another is served by
// that one's handler (Supervisor.call) and has none of its own.
func TestEveryOpHasHandler(t *testing.T) {
	for _, s := range abi.Ops() {
		if s.Posts != 0 {
			if handlers[s.Op] != nil {
				t.Errorf("%s posts %s but has a handler of its own", s.Name, s.Posts)
			}
			continue
		}
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
	// proc_new may prepare spare runners; here their start fails (there
	// is no runner to start), which leaves nothing behind.
	s.spawner = newSpawner()
	t.Cleanup(func() {
		// As Run ends: the spares' starts must be over before the spawner
		// goes.
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.dropSpares()
		s.spawner.stop()
	})
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
	// call returns a copy of the reply, which is reused by the next call.
	call := func(op abi.Op, ints []int64, bufs ...[]byte) *wire.Msg {
		r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: op, Ints: ints, Bufs: bufs})
		cp := &wire.Msg{Kind: r.Kind, Errno: r.Errno, Ints: slices.Clone(r.Ints)}
		for _, b := range r.Bufs {
			cp.Bufs = append(cp.Bufs, slices.Clone(b))
		}
		return cp
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

	// lock_acquire and lock_info on a condition act on its lock
	// (docs/ABI.md; lock_info answered EBADH before).
	lock := call(abi.OpLockNew, []int64{int64(abi.Lock), 0}).Ints[0]
	cond := call(abi.OpCondNew, []int64{lock}).Ints[0]
	if r := call(abi.OpLockAcquire, []int64{cond, 0}); r.Errno != abi.OK || r.Ints[0] != 1 {
		t.Fatalf("lock_acquire on a condition = %+v, want acquired", r)
	}
	r = call(abi.OpLockInfo, []int64{cond})
	if r.Errno != abi.OK || len(r.Bufs) != 1 || r.Bufs[0][0] != 1 || int32(r.Bufs[0][4]) != p.handle {
		t.Errorf("lock_info on a condition = %+v, want its lock held by %d", r, p.handle)
	}
}

// BenchmarkCallPipeline is the host's own cost of serving a pipe round
// trip's two calls (conn_send, then conn_recv of the message), without the
// sockets and runners around it: decode, handler, record, reply. Compare it
// with the pipe ping-pong of make bench (hundreds of microseconds a round
// trip) to see what the pipeline costs.
func BenchmarkCallPipeline(b *testing.B) {
	for _, level := range []hclog.Level{hclog.Warn, hclog.Trace} {
		b.Run(level.String(), func(b *testing.B) {
			s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
			if err != nil {
				b.Fatal(err)
			}
			p := s.newProc(nil, "", nil, "MainProcess", "", false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.ctx, p.cancel = ipc.WithCaller(ctx, caller{s, p}), cancel
			p.log = hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: level})
			p.state = stateStarted
			r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: abi.OpPipeNew, Ints: []int64{1}})
			end0, end1 := r.Ints[0], r.Ints[1]
			msg := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.call(p, &wire.Msg{Kind: wire.KindCall, Op: abi.OpConnSend, Ints: []int64{end1}, Bufs: [][]byte{msg}})
				if r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: abi.OpConnRecv, Ints: []int64{end0, 0, 4096}}); r.Errno != abi.OK {
					b.Fatalf("recv: %s", r.Errno)
				}
			}
		})
	}
}

// TestEveryHandlerOnEveryObject calls every import on a handle of every
// kind (and on the process itself), with no waiting: whatever the answer,
// no handler may fail inside (a panic, such as reading a parameter its
// import lacks, is answered EIO) or block.
func TestEveryHandlerOnEveryObject(t *testing.T) {
	s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
	if err != nil {
		t.Fatal(err)
	}
	p := testProc(t, s)
	call := func(op abi.Op, ints []int64, bufs ...[]byte) (abi.Errno, []int64) {
		r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: op, Ints: ints, Bufs: bufs})
		return r.Errno, slices.Clone(r.Ints)
	}
	handles := map[string]int64{"process": int64(p.handle)}
	make := func(name string, op abi.Op, ints ...int64) {
		e, out := call(op, ints)
		if e != abi.OK || len(out) == 0 {
			t.Fatalf("%s: %s", op, e)
		}
		handles[name] = out[0]
		if op == abi.OpPipeNew {
			handles["pipe end 1"] = out[1]
		}
	}
	make("pipe end 0", abi.OpPipeNew, 1)
	make("queue", abi.OpQueueNew, 0, 0)
	make("joinable queue", abi.OpQueueNew, 2, 1)
	make("barrier", abi.OpBarrierNew, 2, -1, 0)
	make("lock", abi.OpLockNew, int64(abi.Lock), 0)
	make("rlock", abi.OpLockNew, int64(abi.RLock), 0)
	make("semaphore", abi.OpLockNew, int64(abi.Semaphore), 1)
	make("bounded semaphore", abi.OpLockNew, int64(abi.BoundedSemaphore), 1)
	make("event", abi.OpEventNew)
	make("condition", abi.OpCondNew, handles["rlock"])
	make("namespace", abi.OpNsNew, int64(abi.Namespace))
	make("dict", abi.OpNsNew, int64(abi.Dict))
	make("list", abi.OpNsNew, int64(abi.List))

	for _, spec := range abi.Ops() {
		if spec.Op == abi.OpProcStart {
			continue // on a process of its own it would start a runner
		}
		for kind, h := range handles {
			var ints []int64
			var bufs [][]byte
			for _, f := range spec.Params {
				switch f.Kind {
				case abi.Handle:
					ints = append(ints, h)
				case abi.I32, abi.Bool:
					ints = append(ints, 1)
				case abi.Timeout:
					ints = append(ints, 0)
				case abi.Bytes, abi.Text:
					bufs = append(bufs, []byte("k"))
				case abi.OutBuf, abi.OutText, abi.OutI32s:
					ints = append(ints, 64)
				}
			}
			if e, _ := call(spec.Op, ints, bufs...); e == abi.EIO {
				t.Errorf("%s on a %s: EIO (the handler failed inside)", spec.Name, kind)
			}
		}
	}
	if w := s.Waits(); len(w) != 0 {
		t.Errorf("Waits() = %v after calls that could not block", w)
	}
}

// TestIPCLimits: past a limit of the shared objects the call fails, no
// object changes, and the run is stopped with VerdictIPCLimit.
func TestIPCLimits(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		calls func(call func(abi.Op, []int64, ...[]byte) abi.Errno) abi.Errno // the last call's errno
		want  abi.Errno
	}{
		{"objects", Config{MaxObjects: 3}, func(call func(abi.Op, []int64, ...[]byte) abi.Errno) abi.Errno {
			// MainProcess is the first object.
			call(abi.OpPipeNew, []int64{1}) // one object, two handles
			call(abi.OpEventNew, nil)
			return call(abi.OpQueueNew, []int64{0, 0})
		}, abi.EAGAIN},
		{"message", Config{MaxMessage: 10}, func(call func(abi.Op, []int64, ...[]byte) abi.Errno) abi.Errno {
			call(abi.OpQueueNew, []int64{0, 0})
			if e := call(abi.OpQueuePut, []int64{2, 0}, make([]byte, 10)); e != abi.OK {
				return e
			}
			return call(abi.OpQueuePut, []int64{2, 0}, make([]byte, 11))
		}, abi.E2BIG},
		{"bytes held", Config{MaxIPCBytes: 20}, func(call func(abi.Op, []int64, ...[]byte) abi.Errno) abi.Errno {
			call(abi.OpNsNew, []int64{int64(abi.List)})
			call(abi.OpListAppend, []int64{2}, make([]byte, 15))
			call(abi.OpListPop, []int64{2, -1, 64}) // gives its 15 bytes back
			call(abi.OpListAppend, []int64{2}, make([]byte, 15))
			return call(abi.OpListAppend, []int64{2}, make([]byte, 6))
		}, abi.EAGAIN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Module, tt.cfg.Runner = "m.wasm", []string{"runner"}
			s, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			p := testProc(t, s)
			call := func(op abi.Op, ints []int64, bufs ...[]byte) abi.Errno {
				return s.call(p, &wire.Msg{Kind: wire.KindCall, Op: op, Ints: ints, Bufs: bufs}).Errno
			}
			if got := tt.calls(call); got != tt.want {
				t.Fatalf("the call past the limit = %s, want %s", got, tt.want)
			}
			select {
			case <-s.stopped:
			default:
				t.Fatal("the run was not stopped")
			}
			var le *LimitError
			if !errors.As(s.stopErr, &le) || le.Verdict != VerdictIPCLimit || !strings.HasPrefix(le.Msg, "IPC limit: ") {
				t.Errorf("stopped by %v, want an IPC limit", s.stopErr)
			}
		})
	}
}

// TestObjectOps: the imports that create objects and those that store
// bytes in one, as read from the ABI's table.
func TestObjectOps(t *testing.T) {
	var gotCreates, gotPayload []string
	for _, s := range abi.Ops() {
		if creates[s.Op] {
			gotCreates = append(gotCreates, s.Name)
		}
		if payload[s.Op] != 0 {
			gotPayload = append(gotPayload, s.Name+":"+payload[s.Op].String())
		}
	}
	wantCreates := "proc_new pipe_new queue_new barrier_new lock_new event_new cond_new ns_new"
	wantPayload := "conn_send:data queue_put:data ns_set:value list_append:value list_set:value"
	if got := strings.Join(gotCreates, " "); got != wantCreates {
		t.Errorf("creating imports %q, want %q", got, wantCreates)
	}
	if got := strings.Join(gotPayload, " "); got != wantPayload {
		t.Errorf("storing imports %q, want %q", got, wantPayload)
	}
}
