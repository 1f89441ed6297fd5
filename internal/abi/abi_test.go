package abi

import (
	"errors"
	"strings"
	"testing"
)

// TestTable checks the facts every user of the table relies on.
func TestTable(t *testing.T) {
	ops := table()
	if len(ops) != NumOps {
		t.Fatalf("%d imports in the table, %d ops declared", len(ops), NumOps)
	}
	names := map[string]bool{}
	for i := range ops {
		s := &ops[i]
		if s.Op != Op(i+1) {
			t.Errorf("%s is at place %d but has op %d", s.Name, i, s.Op)
		}
		if names[s.Name] {
			t.Errorf("%s is in the table twice", s.Name)
		}
		names[s.Name] = true
		if len(s.Params) > MaxParams {
			t.Errorf("%s has %d parameters, MaxParams is %d", s.Name, len(s.Params), MaxParams)
		}
		seen := map[Param]bool{}
		records := 0
		for _, f := range s.Params {
			if seen[f.Param] {
				t.Errorf("%s has parameter %s twice", s.Name, f.Param)
			}
			seen[f.Param] = true
			if f.Kind == OutRecord {
				records++
			}
			if f.Kind == Timeout && f.Param != PTimeout {
				t.Errorf("%s: timeout parameter named %s", s.Name, f.Param)
			}
		}
		if (records == 1) != (s.Record != nil) || records > 1 {
			t.Errorf("%s: %d record results, record layout %v", s.Name, records, s.Record)
		}
		if got := Lookup(s.Op); got != s {
			t.Errorf("Lookup(%d) = %v, want %s", s.Op, got, s.Name)
		}
		if got := ByName(s.Name); got != s {
			t.Errorf("ByName(%q) = %v", s.Name, got)
		}
		if s.Op.String() != s.Name {
			t.Errorf("op %d prints as %q, want %q", s.Op, s.Op.String(), s.Name)
		}
		if s.Posts != 0 {
			checkPosts(t, s)
		}
	}
	if Lookup(0) != nil || Lookup(opEnd) != nil || ByName("nope") != nil {
		t.Error("lookups of unknown imports must give nil")
	}
	for p := PHandle; p < paramEnd; p++ {
		if paramNames[p] == "" {
			t.Errorf("parameter %d has no name", p)
		}
	}
}

func TestRecordSizes(t *testing.T) {
	if ProcInfo.Size() != ProcInfoSize {
		t.Errorf("proc_info is %d bytes, ProcInfoSize %d", ProcInfo.Size(), ProcInfoSize)
	}
	for _, r := range []*Record{QueueInfo, BarrierInfo, LockInfo} {
		if r.Size() != InfoSize {
			t.Errorf("%s is %d bytes, InfoSize %d", r.Name, r.Size(), InfoSize)
		}
	}
}

func TestErrnos(t *testing.T) {
	seen := map[string]bool{}
	for i, e := range Errnos() {
		if int(e) != i {
			t.Errorf("errno %d at place %d", e, i)
		}
		if e.String() == "" || e.Text() == "" || seen[e.String()] {
			t.Errorf("errno %d: name %q text %q (duplicate: %v)", e, e.String(), e.Text(), seen[e.String()])
		}
		seen[e.String()] = true
	}
	if got := Errno(99).String(); got != "errno(99)" {
		t.Errorf("unknown errno prints %q", got)
	}
	if EAGAIN.String() != "EAGAIN" || EINDEX != 21 {
		t.Errorf("EAGAIN = %s, EINDEX = %d", EAGAIN, EINDEX)
	}
}

// sample returns a value for every input of s, distinct per parameter.
func sample(s *Spec) Args {
	a := NewArgs(s)
	for i, f := range s.Params {
		switch {
		case f.Kind == Bytes || f.Kind == Text:
			a.vals[i].b = []byte(strings.Repeat("x", i+1))
		case f.Kind.inInt():
			a.vals[i].n = int64(100 + i)
		}
	}
	return a
}

// TestDecodeEveryOp: every import's inputs survive Encode and Decode, and
// each is found by its name.
func TestDecodeEveryOp(t *testing.T) {
	for _, s := range Ops() {
		t.Run(s.Name, func(t *testing.T) {
			in := sample(s)
			ints, bufs := in.Encode()
			got, err := Decode(s.Op, ints, bufs)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			for i, f := range s.Params {
				switch {
				case f.Kind == Bytes || f.Kind == Text:
					if want := strings.Repeat("x", i+1); string(got.Bytes(f.Param)) != want {
						t.Errorf("%s = %q, want %q", f.Param, got.Bytes(f.Param), want)
					}
				case f.Kind.inInt():
					if got.Int(f.Param) != int64(100+i) {
						t.Errorf("%s = %d, want %d", f.Param, got.Int(f.Param), 100+i)
					}
				}
			}
			if !strings.HasPrefix(got.String(), s.Name+"(") {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}

// TestDecodeBadLengths: a call with a value too many or too few, of either
// sort, is refused for every import.
func TestDecodeBadLengths(t *testing.T) {
	for _, s := range Ops() {
		a := sample(s)
		ints, bufs := a.Encode()
		bad := map[string]func() error{
			"extra int": func() error { _, err := Decode(s.Op, append(append([]int64{}, ints...), 1), bufs); return err },
			"extra buf": func() error { _, err := Decode(s.Op, ints, append(append([][]byte{}, bufs...), nil)); return err },
		}
		if len(ints) > 0 {
			bad["missing int"] = func() error { _, err := Decode(s.Op, ints[1:], bufs); return err }
		}
		if len(bufs) > 0 {
			bad["missing buf"] = func() error { _, err := Decode(s.Op, ints, bufs[1:]); return err }
		}
		for name, f := range bad {
			if err := f(); !errors.Is(err, ErrBadCall) {
				t.Errorf("%s, %s: err = %v, want ErrBadCall", s.Name, name, err)
			}
		}
	}
	if _, err := Decode(0, nil, nil); !errors.Is(err, ErrBadCall) {
		t.Errorf("op 0: err = %v, want ErrBadCall", err)
	}
	if _, err := Decode(opEnd, nil, nil); !errors.Is(err, ErrBadCall) {
		t.Errorf("op past the end: err = %v, want ErrBadCall", err)
	}
}

// TestResults: results travel in parameter order, integers apart from
// bytes, and unset ones as zero.
func TestResults(t *testing.T) {
	a := NewArgs(Lookup(OpBarrierWait))
	a.SetInt(PIndex, 2)
	a.SetBool(PRunAction, true)
	ints, bufs := a.Results()
	if len(ints) != 2 || ints[0] != 2 || ints[1] != 1 || len(bufs) != 0 {
		t.Errorf("barrier_wait results = %v %v, want [2 1] []", ints, bufs)
	}
	a = NewArgs(Lookup(OpQueueInfo))
	a.SetRecord(PInfo, 3, 10, -1)
	_, bufs = a.Results()
	if len(bufs) != 1 || len(bufs[0]) != InfoSize || bufs[0][8] != 0xff {
		t.Errorf("queue_info record = %v", bufs)
	}
	if got := a.ResultString(); got != "info={qsize=3 maxsize=10 unfinished=-1}" {
		t.Errorf("ResultString = %q", got)
	}
	a = NewArgs(Lookup(OpPipeNew))
	a.SetInt(PEnd0, 7)
	a.SetInt(PEnd1, 8)
	if hs := a.Handles(); len(hs) != 2 || hs[0] != 7 || hs[1] != 8 {
		t.Errorf("pipe_new handles = %v, want [7 8]", hs)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		op   Op
		ints []int64
		bufs [][]byte
		want string
	}{
		{OpConnSend, []int64{3}, [][]byte{make([]byte, 64)}, "conn_send(handle=3, data=<64 bytes>)"},
		{OpConnRecv, []int64{3, -1, 4096}, nil, "conn_recv(handle=3, timeout=none, data_cap=4096)"},
		{OpProcJoin, []int64{4, 1500000000}, nil, "proc_join(handle=4, timeout=1.5s)"},
		{OpProcSetName, []int64{4}, [][]byte{[]byte("worker")}, `proc_set_name(handle=4, name="worker")`},
		{OpProcSelf, nil, nil, "proc_self()"},
		{OpNsGet, []int64{9, 64}, [][]byte{{0xff}}, "ns_get(handle=9, key=<1 bytes>, value_cap=64)"},
	}
	for _, tt := range tests {
		a, err := Decode(tt.op, tt.ints, tt.bufs)
		if err != nil {
			t.Fatalf("%s: %v", tt.op, err)
		}
		if got := a.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestMissingParamPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "conn_send has no parameter key") {
			t.Errorf("recover() = %v, want a panic naming the import and parameter", r)
		}
	}()
	a := NewArgs(Lookup(OpConnSend))
	a.Bytes(PKey)
}

func TestSignature(t *testing.T) {
	for op, want := range map[Op]string{
		OpConnRecv:   "conn_recv(handle, timeout_ns: i64, buf, buf_len, size_ptr)",
		OpProcNew:    "proc_new(target_ptr, target_len, args_ptr, args_len, name_ptr, name_len, class_ptr, class_len, daemon: i32, handle_ptr)",
		OpBarrierNew: "barrier_new(parties: i32, timeout_ns: i64, has_action: i32, handle_ptr)",
		OpCondNew:    "cond_new(lock_handle, handle_ptr)",
	} {
		if got := Lookup(op).Signature(); got != want {
			t.Errorf("Signature() = %q, want %q", got, want)
		}
	}
}

// checkPosts checks what the host and the runner rely on for an import
// that posts another: the frame of one decodes as the other (the same
// parameters), and nothing is answered (no results; it never blocks the
// caller).
func checkPosts(t *testing.T, s *Spec) {
	t.Helper()
	target := Lookup(s.Posts)
	switch {
	case target == nil || target == s:
		t.Errorf("%s posts op %d, not another import", s.Name, s.Posts)
		return
	case target.Posts != 0:
		t.Errorf("%s posts %s, which posts in turn", s.Name, target.Name)
	case s.Blocks:
		t.Errorf("%s posts %s but is marked blocking: the caller never waits", s.Name, target.Name)
	}
	if len(s.Params) != len(target.Params) {
		t.Errorf("%s has %d parameters, %s %d", s.Name, len(s.Params), target.Name, len(target.Params))
		return
	}
	for i, f := range s.Params {
		if f != target.Params[i] {
			t.Errorf("%s parameter %d is %v, %s has %v", s.Name, i, f, target.Name, target.Params[i])
		}
		if f.Kind.Out() {
			t.Errorf("%s posts %s, which has a result (%s): a posted call gets no answer", s.Name, target.Name, f.Param)
		}
	}
}
