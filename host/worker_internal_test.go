package host

import (
	"net"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// TestTakeIdleParkedFirst: a start takes the idle runner whose next guest
// is parked (its KindParked frame waits in the socket) over one still on
// its way, whichever went idle last; among parked ones, and when none is,
// the last to go idle; with parkedOnly and none parked, none, and it says
// some are parking; a runner that ended while idle is never taken.
func TestTakeIdleParkedFirst(t *testing.T) {
	if !runnersPark {
		t.Skip("runners park guests on Linux only")
	}
	idle := func(name string, parked bool) *worker {
		t.Helper()
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		conn := func(fd int) net.Conn {
			f := os.NewFile(uintptr(fd), name)
			defer f.Close()
			c, err := net.FileConn(f)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
		host, runner := conn(fds[0]), conn(fds[1])
		if parked {
			if err := wire.NewConn(runner).Send(wire.Parked()); err != nil {
				t.Fatal(err)
			}
		}
		return &worker{started: &started{}, conn: wire.NewConn(host), next: make(chan *proc, 1), gone: make(chan struct{})}
	}
	s := &Supervisor{log: hclog.NewNullLogger()}
	a, b, c := idle("a", true), idle("b", false), idle("c", false)
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
	d, e, f := idle("d", true), idle("e", true), idle("f", true)
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
