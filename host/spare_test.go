package host

import (
	"testing"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestSparesWished: spares wished for ahead of need (after a child's
// start) are not loaded at once when the usage sampler runs (a runner's
// load is about 0.1 s of CPU the processes just started would lose); the
// wish is granted once, when a sample finds a CPU idle or a start needs a
// runner (grantWish). With no sampler (no run limit), they load at once.
// proc_new loads them at once either way: a loop that creates and starts
// processes runs them together.
func TestSparesWished(t *testing.T) {
	for _, sampling := range []bool{true, false} {
		s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
		if err != nil {
			t.Fatal(err)
		}
		s.sampling.Store(sampling)
		testProc(t, s)
		spares := func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.spares)
		}
		s.wishSpares()
		if !sampling {
			if n := spares(); n != spareTarget || s.spareWish.Load() {
				t.Errorf("no sampler, wished: %d spares, wished %v; want %d, not wished", n, s.spareWish.Load(), spareTarget)
			}
			continue
		}
		if n := spares(); n != 0 || !s.spareWish.Load() {
			t.Fatalf("wished: %d spares started, wished %v; want none started, wished", n, s.spareWish.Load())
		}
		s.grantWish()
		if n := spares(); n != spareTarget || s.spareWish.Load() {
			t.Fatalf("after grantWish: %d spares, wished %v; want %d, not wished", n, s.spareWish.Load(), spareTarget)
		}
		s.grantWish() // nothing wished: nothing more
		if n := spares(); n != spareTarget {
			t.Errorf("a second grantWish: %d spares, want %d", n, spareTarget)
		}
	}
	// proc_new: at once, with the sampler too.
	s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
	if err != nil {
		t.Fatal(err)
	}
	s.sampling.Store(true)
	p := testProc(t, s)
	r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: abi.OpProcNew, Ints: []int64{0},
		Bufs: [][]byte{[]byte("target"), []byte("[]"), nil, nil}})
	if r.Errno != abi.OK {
		t.Fatalf("proc_new: %s", r.Errno)
	}
	s.mu.Lock()
	n := len(s.spares)
	s.mu.Unlock()
	if n != spareTarget {
		t.Errorf("after proc_new: %d spares, want %d started at once", n, spareTarget)
	}
}
