package host

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// control is the host's end of an idle runner's control stream, with the
// runner's KindParked waiting in it when parked (a pipe: Conn.Pending
// asks the kernel of it as of a socket).
func control(t *testing.T, parked bool) *wire.Conn {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if parked {
		if err := wire.NewConn(w).Send(wire.Parked()); err != nil {
			t.Fatal(err)
		}
	}
	return wire.NewConn(r)
}

// TestTakeIdleParkedFirst: a start takes the idle runner whose next guest
// is parked (its KindParked frame waits in the socket) over one still on
// its way, whichever went idle last; among parked ones, and when none is,
// the last to go idle; with parkedOnly and none parked, none, and it says
// some are parking; a runner that ended while idle is never taken.
func TestTakeIdleParkedFirst(t *testing.T) {
	if !runnersPark {
		t.Skip("runners park guests on Linux only")
	}
	idle := func(parked bool) *worker {
		return &worker{started: &started{}, conn: control(t, parked), next: make(chan *proc, 1), gone: make(chan struct{})}
	}
	s := &Supervisor{log: hclog.NewNullLogger()}
	a, b, c := idle(true), idle(false), idle(false)
	s.idle = []*worker{a, b, c}
	take := func(parkedOnly bool, want *worker, wantParking bool) {
		t.Helper()
		w, parking := s.takeIdle(parkedOnly)
		if w != want || parking != wantParking {
			t.Fatalf("takeIdle(%v) = %p, %v; want %p, %v (a %p, b %p, c %p)", parkedOnly, w, parking, want, wantParking, a, b, c)
		}
	}
	take(true, a, false)  // parked, though not the last to go idle
	take(true, nil, true) // b and c still on their way
	take(false, c, false) // the last to go idle
	d, e, f := idle(true), idle(true), idle(true)
	close(f.gone) // (its runner ended while idle)
	s.idle = append(s.idle, d, e, f)
	take(true, e, false) // f ended; e is the last parked one
	take(true, d, false)
	take(true, nil, true)
	take(false, b, false)
	take(false, nil, false)
}

// TestIdleCountAsSpares: the spares the host prepares are fewer by the
// idle runners that could take a process (not one that ended while idle,
// nor one that interprets a module compiled since).
func TestIdleCountAsSpares(t *testing.T) {
	compiled := make(chan struct{})
	close(compiled)
	s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}, Compiled: compiled})
	if err != nil {
		t.Fatal(err)
	}
	testProc(t, s) // (the spares' starts fail: there is no runner to start)
	idle := func(gone, interpreted bool) *worker {
		w := &worker{started: &started{interpreted: interpreted}, gone: make(chan struct{})}
		if gone {
			close(w.gone)
		}
		return w
	}
	s.idle = []*worker{idle(false, false), idle(true, false), idle(false, true)}
	s.prepareSpares()
	if n := spareCount(s); n != spareTarget-1 {
		t.Errorf("%d spares beside one idle runner that could take a process, want %d", n, spareTarget-1)
	}
}

// TestAcquireChoice: a start takes an idle runner whose guest is parked
// over a loaded spare; a loaded spare over an idle runner whose guest is
// still on its way (which stays idle); and that runner when no spare has
// loaded.
func TestAcquireChoice(t *testing.T) {
	if !runnersPark {
		t.Skip("runners park guests on Linux only")
	}
	tests := []struct {
		name         string
		parked       bool
		spare        bool
		wantIdle     bool // the idle runner taken, not the spare
		wantLeftIdle int
	}{
		{"parked over a spare", true, true, true, 0},
		{"a spare over one parking", false, true, false, 1},
		{"one parking, no spare", false, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{Module: "m.wasm", Runner: []string{"runner"}})
			if err != nil {
				t.Fatal(err)
			}
			p := testProc(t, s) // (spares wished for fail to start: no runner)
			idle := &worker{started: &started{}, conn: control(t, tt.parked), next: make(chan *proc, 1), gone: make(chan struct{})}
			s.idle = []*worker{idle}
			var sp *spare
			if tt.spare {
				// A loaded spare: a process of its own (newWorker takes its
				// pid), its Hello read.
				cmd := exec.Command("sleep", "60")
				if err := cmd.Start(); err != nil {
					t.Skip("no sleep to stand for a spare runner:", err)
				}
				t.Cleanup(func() {
					// (Before testProc's cleanup: this spare, left listed, is
					// not one dropSpares can dispose of; those acquire
					// wished for are.)
					s.mu.Lock()
					s.spares = slices.DeleteFunc(s.spares, func(x *spare) bool { return x == sp })
					s.mu.Unlock()
					cmd.Process.Kill()
					cmd.Wait()
				})
				sp = &spare{r: &started{cmd: cmd}, conn: control(t, false), started: make(chan struct{}), ready: make(chan struct{})}
				close(sp.started)
				close(sp.ready)
				s.spares = []*spare{sp}
			}
			w, fresh, hello, err := s.acquire(p)
			if err != nil || hello {
				t.Fatalf("acquire: %v, hello %v", err, hello)
			}
			if took := w == idle; took != tt.wantIdle || fresh == tt.wantIdle || w.current() != p {
				t.Errorf("took the idle runner: %v (fresh %v), want %v; serves %v", took, fresh, tt.wantIdle, w.current())
			}
			if !tt.wantIdle && (w.conn != sp.conn || spareCount(s) != 0) {
				t.Error("the spare was not the one taken, or is still listed")
			}
			s.mu.Lock()
			left := len(s.idle)
			s.mu.Unlock()
			if left != tt.wantLeftIdle {
				t.Errorf("%d idle runners left, want %d", left, tt.wantLeftIdle)
			}
		})
	}
}
