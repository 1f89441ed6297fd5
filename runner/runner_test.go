package runner_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/testutil"
	"github.com/sandbox-dev/sandbox/internal/wire"
	"github.com/sandbox-dev/sandbox/runner"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(testutil.RepoRoot(t), "cmd", "sandbox", "testdata", name)
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "text.wasm")
	os.WriteFile(notWasm, []byte("hello, world"), 0o644)
	full, err := os.ReadFile(fixture(t, "badptr.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.wasm")
	os.WriteFile(truncated, full[:len(full)/2], 0o644)

	tests := []struct {
		name, path string
		unreadable bool
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.wasm"), true, "no such file"},
		{"directory", dir, true, "is a directory"},
		{"not wasm", notWasm, false, "not a WebAssembly module"},
		{"truncated", truncated, false, "invalid module"},
		{"missing imports", fixture(t, "badimport.wasm"), false, "imports functions the sandbox does not provide: env.foo, sandbox.no_such_function"},
		{"no _start", fixture(t, "nostart.wasm"), false, "no exported _start function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runner.Load(context.Background(), runner.LoadConfig{Path: tt.path, CacheDir: t.TempDir()})
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var me *runner.ModuleError
			if got := errors.Is(err, runner.ErrUnreadable); got != tt.unreadable {
				t.Errorf("errors.Is(err, ErrUnreadable) = %v, want %v (err: %v)", got, tt.unreadable, err)
			}
			if !tt.unreadable && !errors.As(err, &me) {
				t.Errorf("err is not a *ModuleError: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestCorruptCacheIsRebuilt truncates every cache entry: the next Load
// deletes the cache, compiles again and succeeds.
func TestCorruptCacheIsRebuilt(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	cfg := runner.LoadConfig{Path: fixture(t, "badptr.wasm"), CacheDir: cache}
	m, err := runner.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	var entries []string
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return nil
	})
	if len(entries) == 0 {
		t.Fatal("no cache entry written")
	}
	for _, e := range entries {
		b, _ := os.ReadFile(e)
		os.WriteFile(e, b[:min(len(b), 20)], 0o644)
	}
	// Something of the user's in the same directory must survive.
	keep := filepath.Join(cache, "keep.txt")
	os.WriteFile(keep, []byte("mine"), 0o644)
	var logbuf strings.Builder
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: &logbuf})
	m, err = runner.Load(ctx, cfg)
	if err != nil {
		t.Fatalf("Load with a corrupt cache: %v", err)
	}
	m.Close(ctx)
	if !strings.Contains(logbuf.String(), "compilation cache is corrupt") {
		t.Errorf("no warning logged; log:\n%s", logbuf.String())
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("the user's file in the cache dir was harmed: %q, %v", b, err)
	}
	// And the rebuilt cache works without complaint.
	logbuf.Reset()
	m, err = runner.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
	if logbuf.Len() != 0 {
		t.Errorf("third Load logged: %s", logbuf.String())
	}
}

// host is the host's side of one runner's control socket, driven by hand.
type host struct {
	t    *testing.T
	conn *wire.Conn
	raw  net.Conn
}

// startRunner runs a runner in this process on one end of a socket pair
// and returns the other end and the runner's exit status channel.
func startRunner(t *testing.T, module string) (*host, <-chan int) {
	t.Helper()
	return startRunnerWith(t, runner.Config{Load: runner.LoadConfig{Path: module}})
}

// startRunnerWith is startRunner with cfg (its control socket and logger
// set here).
func startRunnerWith(t *testing.T, cfg runner.Config) (*host, <-chan int) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	status := make(chan int, 1)
	cfg.Control, cfg.Logger = b, hclog.NewNullLogger()
	go func() { status <- runner.Run(context.Background(), cfg) }()
	return &host{t: t, conn: wire.NewConn(a), raw: a}, status
}

func (h *host) recv(kind wire.Kind) *wire.Msg {
	h.t.Helper()
	m, err := h.conn.Recv()
	if err != nil {
		h.t.Fatalf("recv: %v", err)
	}
	if m.Kind != kind {
		h.t.Fatalf("got frame kind %d, want %d", m.Kind, kind)
	}
	return m
}

// TestProtocol drives a runner through its whole life: hello, assignment,
// calls (with a guest passing bad pointers, which never reach the host),
// the exit report, and the exit status; the same for a runner told of a
// lean form it cannot take (its code file gone), which loads the module
// itself.
func TestProtocol(t *testing.T) {
	module := fixture(t, "badptr.wasm")
	gone := runner.Lean{Path: filepath.Join(t.TempDir(), "lean.wasm"), ID: "00", Code: "00000000-4096", Full: filepath.Join(t.TempDir(), "entry")}
	for _, tt := range []struct {
		name string
		load runner.LoadConfig
	}{
		{"module", runner.LoadConfig{Path: module}},
		{"lean form refused", runner.LoadConfig{Path: module, CacheDir: t.TempDir(), Lean: gone}},
	} {
		t.Run(tt.name, func(t *testing.T) { protocol(t, tt.load) })
	}
}

// protocol is TestProtocol with a runner that loads as cfg says.
func protocol(t *testing.T, cfg runner.LoadConfig) {
	h, status := startRunnerWith(t, runner.Config{Load: cfg})
	hello := h.recv(wire.KindHello)
	if hello.Int(0) != int64(os.Getpid()) {
		t.Errorf("hello pid = %d, want %d", hello.Int(0), os.Getpid())
	}
	h.conn.Send(&wire.Msg{Kind: wire.KindAssign, Ints: []int64{1}, Bufs: [][]byte{[]byte("badptr.wasm")}})
	// The guest's one good call: proc_self.
	call := h.recv(wire.KindCall)
	if call.Op != abi.OpProcSelf {
		t.Fatalf("first call op = %d, want proc_self", call.Op)
	}
	h.conn.Send(&wire.Msg{Kind: wire.KindReply, Ints: []int64{1}})
	// The bad pointers were refused in the runner: next comes the exit.
	exit := h.recv(wire.KindExit)
	if exit.Int(0) != 4 || exit.Int(1) != 0 {
		t.Errorf("exit report = %v, want code 4, not trapped", exit.Ints)
	}
	h.conn.Send(&wire.Msg{Kind: wire.KindReply})
	if got := <-status; got != 4 {
		t.Errorf("runner status = %d, want 4", got)
	}
}

// TestTrapReported: a trap is reported as exit code 1, trapped, with the
// trap message on the guest's stderr.
func TestTrapReported(t *testing.T) {
	h, status := startRunner(t, fixture(t, "trap.wasm"))
	h.recv(wire.KindHello)
	h.conn.Send(&wire.Msg{Kind: wire.KindAssign, Ints: []int64{1}, Bufs: [][]byte{[]byte("trap.wasm")}})
	out := h.recv(wire.KindOutput)
	if out.Int(0) != wire.Stderr || !strings.Contains(string(out.Buf(0)), "wasm error: unreachable") {
		t.Errorf("output = stream %d %q, want the trap on stderr", out.Int(0), out.Buf(0))
	}
	exit := h.recv(wire.KindExit)
	if exit.Int(0) != 1 || exit.Int(1) != 1 {
		t.Errorf("exit report = %v, want code 1, trapped", exit.Ints)
	}
	h.conn.Send(&wire.Msg{Kind: wire.KindReply})
	if got := <-status; got != 1 {
		t.Errorf("runner status = %d, want 1", got)
	}
}

// TestHostGone: when the host's end closes before the assignment, the
// runner gives up with ExitHostGone.
func TestHostGone(t *testing.T) {
	h, status := startRunner(t, fixture(t, "trap.wasm"))
	h.recv(wire.KindHello)
	h.raw.Close()
	if got := <-status; got != runner.ExitHostGone {
		t.Errorf("runner status = %d, want %d", got, runner.ExitHostGone)
	}
}

// TestParkedGuest: a runner told to stay starts its next guest at once,
// before the host assigns it a process (a parked guest), and the guest
// waits for its assignment at the first thing it does that could be seen
// or must be counted: growing its memory past what a parked guest may
// hold, a sleep, a call to the host, its end. With none of those first,
// it runs ahead: the clock it reads is older than the assignment. Once it
// waits, the runner says so (KindParked), its first frame after the
// reply, whether the assignment was sent long after the reply or right
// after it.
func TestParkedGuest(t *testing.T) {
	skipUnparked(t)
	large := largeMemory(t, fixture(t, "park.wasm"))
	tests := []struct {
		name, mode string
		module     string // park.wasm unless set
		ahead      bool   // the clock the guest writes may be older than its assignment
	}{
		{name: "nothing first", mode: "n", ahead: true},
		{name: "memory grown", mode: "g"},
		{name: "a large initial memory", mode: "n", module: large},
		{name: "a sleep", mode: "s"},
		{name: "a call", mode: "c"},
		{name: "an exit", mode: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			module := tt.module
			if module == "" {
				module = fixture(t, "park.wasm")
			}
			h, status := startRunner(t, module)
			h.recv(wire.KindHello)
			args := [][]byte{[]byte("park.wasm"), []byte(tt.mode)}
			for handle := int32(1); handle <= 3; handle++ {
				var at time.Time
				switch handle {
				case 2:
					// The parked guest has had time to run ahead; it said
					// it is parked, and nothing it did reached the host.
					h.recv(wire.KindParked)
					h.raw.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
					if m, err := h.conn.Recv(); err == nil {
						t.Fatalf("the parked guest sent a frame of kind %d before its assignment", m.Kind)
					}
					h.raw.SetReadDeadline(time.Time{})
					at = time.Now()
					h.conn.Send(wire.Assign(handle, args))
				case 3:
					// Its assignment sent right after the reply (below),
					// while the runner parks (a net.Pipe holds no frame:
					// the send waits for the runner's read): still
					// KindParked first.
					h.recv(wire.KindParked)
				default:
					h.conn.Send(wire.Assign(handle, args))
				}
				if tt.mode == "c" {
					h.recv(wire.KindCall)
					h.conn.Send(&wire.Msg{Kind: wire.KindReply, Ints: []int64{int64(handle)}})
				}
				if tt.mode != "x" {
					out := h.recv(wire.KindOutput)
					if len(out.Buf(0)) != 8 {
						t.Fatalf("output %q, want 8 bytes of clock", out.Buf(0))
					}
					clock := time.Unix(0, int64(binary.LittleEndian.Uint64(out.Buf(0))))
					if handle == 2 && clock.Before(at) != tt.ahead {
						t.Errorf("the parked guest read the clock %v before its assignment: ahead = %v, want %v",
							at.Sub(clock), clock.Before(at), tt.ahead)
					}
				}
				exit := h.recv(wire.KindExit)
				if want := parkExitCode(tt.mode); exit.Int(0) != want {
					t.Errorf("process %d: exit code %d, want %d", handle, exit.Int(0), want)
				}
				h.conn.Send(wire.ExitReply(handle < 3))
				if handle == 2 {
					// (A goroutine: the test's stream is a net.Pipe, whose
					// writes wait for the read.)
					go h.conn.Send(wire.Assign(3, args))
				}
			}
			if got := <-status; got != int(parkExitCode(tt.mode)) {
				t.Errorf("runner status = %d, want %d", got, parkExitCode(tt.mode))
			}
		})
	}
}

// parkExitCode is park.wasm's exit code in mode.
func parkExitCode(mode string) int64 {
	if mode == "x" {
		return 7
	}
	return 0
}

// largeMemory writes, from the module at path, whose memory section
// declares one page, one that declares 600 (37.5 MiB, more than a parked
// guest may hold), and returns its path.
func largeMemory(t *testing.T, path string) string {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Section 5, 3 bytes: one memory, no maximum, a minimum of 1 page.
	one := []byte{5, 3, 1, 0, 1}
	if bytes.Count(bin, one) != 1 {
		t.Fatalf("%s: no single memory section of one page", path)
	}
	big := filepath.Join(t.TempDir(), "park-large.wasm")
	if err := os.WriteFile(big, bytes.Replace(bin, one, []byte{5, 4, 1, 0, 0xd8, 0x04}, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return big
}

// TestParkedGuestArgs: the run's arguments are the same for every process;
// an assignment with others is a protocol error, not a guest run with the
// wrong ones, and the runner says so at once (Config.Failed), not when
// the guest next calls the host.
func TestParkedGuestArgs(t *testing.T) {
	skipUnparked(t)
	failed := make(chan struct{}, 1)
	h, status := startRunnerWith(t, runner.Config{
		Load:   runner.LoadConfig{Path: fixture(t, "park.wasm")},
		Failed: func() { failed <- struct{}{} },
	})
	h.recv(wire.KindHello)
	h.conn.Send(wire.Assign(1, [][]byte{[]byte("park.wasm"), []byte("n")}))
	h.recv(wire.KindOutput)
	h.recv(wire.KindExit)
	h.conn.Send(wire.ExitReply(true))
	h.recv(wire.KindParked)
	h.conn.Send(wire.Assign(2, [][]byte{[]byte("park.wasm"), []byte("x")}))
	select {
	case <-failed:
	case <-time.After(time.Minute):
		t.Fatal("Config.Failed not called")
	}
	if got := <-status; got != runner.ExitFailed {
		t.Errorf("runner status = %d, want %d", got, runner.ExitFailed)
	}
}

// TestGCPercent: Config.GCPercent is the collector's percentage once the
// module is loaded, with a soft memory limit.
func TestGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	h, status := startRunnerWith(t, runner.Config{Load: runner.LoadConfig{Path: fixture(t, "park.wasm")}, GCPercent: 300})
	h.recv(wire.KindHello)
	if got := debug.SetGCPercent(100); got != 300 {
		t.Errorf("GC percent %d once loaded, want 300", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got == math.MaxInt64 {
		t.Error("no memory limit once loaded")
	}
	h.raw.Close()
	<-status

	// An interpreting runner keeps the collector as it was.
	h, status = startRunnerWith(t, runner.Config{Load: runner.LoadConfig{Path: fixture(t, "park.wasm"), Interpret: true}, GCPercent: 300})
	h.recv(wire.KindHello)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d once an interpreting runner loaded, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit %d once an interpreting runner loaded, want none", got)
	}
	h.raw.Close()
	<-status
}

// TestNotAnAssignment: a first frame that is not an assignment is a
// protocol error: the runner ends with ExitFailed, running no guest.
func TestNotAnAssignment(t *testing.T) {
	h, status := startRunner(t, fixture(t, "park.wasm"))
	h.recv(wire.KindHello)
	h.conn.Send(&wire.Msg{Kind: wire.KindReply, Bufs: [][]byte{[]byte("park.wasm"), []byte("n")}})
	if got := <-status; got != runner.ExitFailed {
		t.Errorf("runner status = %d, want %d", got, runner.ExitFailed)
	}
}

// skipUnparked skips a test of parked guests where runners do not park
// them (runner.parkGuests: Linux only).
func skipUnparked(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("runners park guests on Linux only")
	}
}
