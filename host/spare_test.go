package host

import (
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestSparesWished: spares wished for ahead of need (after a child's
// start) are not loaded at once when the usage sampler runs (a runner's
// load is CPU the processes just started would lose); the
// wish is granted once, when a sample finds a CPU idle or a start needs a
// runner (grantWish). With no sampler (no run limit), they load at once.
// proc_new loads them at once either way: a loop that creates and starts
// processes runs them together.
func TestSparesWished(t *testing.T) {
	for _, sampling := range []bool{true, false} {
		cfg := Config{Module: "m.wasm", Runner: []string{"runner"}}
		if sampling {
			cfg.RunCPULimit = time.Minute // (a run limit: the usage is sampled)
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		testProc(t, s)
		s.wishSpares()
		if !sampling {
			if n := spareCount(s); n != spareTarget || s.spareWish.Load() {
				t.Errorf("no sampler, wished: %d spares, wished %v; want %d, not wished", n, s.spareWish.Load(), spareTarget)
			}
			continue
		}
		if n := spareCount(s); n != 0 || !s.spareWish.Load() {
			t.Fatalf("wished: %d spares started, wished %v; want none started, wished", n, s.spareWish.Load())
		}
		s.grantWish()
		if n := spareCount(s); n != spareTarget || s.spareWish.Load() {
			t.Fatalf("after grantWish: %d spares, wished %v; want %d, not wished", n, s.spareWish.Load(), spareTarget)
		}
		s.grantWish() // nothing wished: nothing more
		if n := spareCount(s); n != spareTarget {
			t.Errorf("a second grantWish: %d spares, want %d", n, spareTarget)
		}
	}
	// proc_new: at once, with the sampler too.
	s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}, RunCPULimit: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := testProc(t, s)
	r := s.call(p, &wire.Msg{Kind: wire.KindCall, Op: abi.OpProcNew, Ints: []int64{0},
		Bufs: [][]byte{[]byte("target"), []byte("[]"), nil, nil}})
	if r.Errno != abi.OK {
		t.Fatalf("proc_new: %s", r.Errno)
	}
	if n := spareCount(s); n != spareTarget {
		t.Errorf("after proc_new: %d spares, want %d started at once", n, spareTarget)
	}
}

// spareCount is how many spares s holds.
func spareCount(s *Supervisor) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spares)
}

// TestQuiet: a sampled interval leaves room for a spare's load when no
// runner began serving a process in it and the runners seen at both
// samples used at least half a CPU less than there are.
func TestQuiet(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		before, after map[int]time.Duration
		cpus          int
		want          bool
	}{
		{"idle", map[int]time.Duration{1: 100 * ms}, map[int]time.Duration{1: 110 * ms}, 2, true},
		{"one CPU busy of two", map[int]time.Duration{1: 0}, map[int]time.Duration{1: 50 * ms}, 2, true},
		{"both CPUs busy", map[int]time.Duration{1: 0, 2: 0}, map[int]time.Duration{1: 40 * ms, 2: 40 * ms}, 2, false},
		{"one CPU busy of one", map[int]time.Duration{1: 0}, map[int]time.Duration{1: 30 * ms}, 1, false},
		// A runner that began serving a process: its load before (100 ms
		// of CPU) is not the processes', but it will likely run now.
		{"a process started", map[int]time.Duration{1: 0}, map[int]time.Duration{1: 0, 2: 100 * ms}, 2, false},
		{"a runner gone", map[int]time.Duration{1: 0, 2: 0}, map[int]time.Duration{1: 5 * ms}, 2, true},
		{"no runner", nil, map[int]time.Duration{}, 2, true},
	}
	for _, tt := range tests {
		if got := quiet(tt.before, tt.after, 50*ms, tt.cpus); got != tt.want {
			t.Errorf("%s: quiet = %v, want %v", tt.name, got, tt.want)
		}
	}
}
