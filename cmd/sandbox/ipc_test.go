package main

import (
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// TestIPC runs the scenarios of the ipc test guest (internal/testguests/ipc)
// with the real binary, real runners and real guests: one rule of the
// shared objects (docs/ABI.md, "Shared objects") per case. The guest
// prints from MainProcess only, so each output is exact.
func TestIPC(t *testing.T) {
	ipc := testutil.Guest(t, "internal/testguests/ipc")
	tests := []struct {
		scenario string
		want     string // exact stdout
		stderr   string // a regexp stderr must match, if not empty
	}{
		{"pipe-eof", `
readable=true,false writable=false,true
recv=0
recv=1
recv=2
recv error=EOF is_eof=true is_io_eof=true
again is_eof=true
poll at eof=true err=none
`, ""},
		{"pipe-errors", `
send on read end: connection is read-only direction=true
recv on write end: connection is write-only direction=true
poll on write end: connection is write-only direction=true
close again=none closed=true
send after close: handle is closed closed=true
recv buffered after writer closed=kept
then: EOF
send to closed end: [Errno 32] Broken pipe broken=true
1 MiB to closed end, 300 times: broken=300
recv on closed end: handle is closed closed=true
decode error=true
next=5
`, ""},
		{"pipe-duplex", `
poll empty=false err=none
poll 100ms=false waited=true err=none
poll forever=true err=none
echoed=100
big len=1048576 same=true
struct={Name:x List:[1 2] Map:map[k:true]}
child exitcode=0
`, ""},
		{"pipe-many", `
received=300 of 300
`, ""},
		{"queue-full-empty", `
qsize=2 full=true empty=false maxsize=2
put_nowait full: queue is full is_full=true
put timeout full: is_full=true waited=true
get=a
get=b
qsize=0 full=false empty=true
get_nowait empty: queue is empty is_empty=true
get timeout empty: is_empty=true waited=true
fifo=[100 0 1 2 3 4 5 6 7 8 9]
`, ""},
		{"queue-blocking", `
got=[-1 0 1 2] exitcode=0
`, ""},
		{"queue-close", `
close again=none
put after close: Queue is closed closed=true
get after close: handle is closed closed=true
child got=1
`, ""},
		{"joinable", `
join_timeout(0) done=false err=none
after join qsize=0 unfinished=0 finished=5
task_done too often: task_done() called too many times value=true
`, ""},
		{"barrier-index", `
parties=4 n_waiting=0 broken=false
round=0 indexes=[0 1 2 3]
round=1 indexes=[0 1 2 3]
round=2 indexes=[0 1 2 3]
`, ""},
		{"barrier-timeout", `
main: broken barrier broken=true waited=true
child: index=0 err=broken barrier broken=true
broken=true n_waiting=0
wait on broken: broken=true
after reset broken=false
default timeout: broken=true waited=true
after reset: [index=0 index=1 index=2]
`, ""},
		{"barrier-abort", `
child: index=0 err=broken barrier broken=true
child: index=0 err=broken barrier broken=true
later wait: broken barrier broken=true
after reset broken=false
`, ""},
		{"barrier-action", `
actions=2 seen_before_release=true
`, ""},
		{"barrier-action-fail", `
runner: the action failed
other: index=0 err=broken barrier broken=true
broken=true
`, ""},
		{"lock-release", `
lock release unheld: semaphore or lock released too many times value=true
lock repr=<Lock(owner=None)>
lock locked=true repr=<Lock(owner=MainProcess)>
lock released by a child: none locked=false
rlock release unheld: attempt to release recursive lock not owned by thread not_owner=true
rlock repr=<RLock(MainProcess, 2)>
rlock release by another process: attempt to release recursive lock not owned by thread not_owner=true
rlock release once too often: attempt to release recursive lock not owned by thread
semaphore value=2 repr=<Semaphore(value=2)>
semaphore try=true err=none value=1
bounded release above initial: semaphore or lock released too many times value=true
bounded repr=<BoundedSemaphore(value=2, maxvalue=2)>
`, ""},
		{"lock-timeout", `
repr while a child holds it=<Lock(owner=SomeOtherProcess)>
try_acquire=false err=none
acquire 200ms=false waited=true err=none
acquire after release=true err=none
semaphore acquire at 0=false waited=true err=none
`, ""},
		{"lock-counter 4", `
counter=800 want=800
`, ""},
		{"event", `
is_set=false
wait 100ms=false waited=true
woken=3 is_set=true wait(0)=true
after clear is_set=false wait(0)=false
`, ""},
		{"condition", `
wait without the lock: must acquire() condition before using wait() not_owner=true
notify without the lock: lock is not owned not_owner=true
wait 100ms notified=false waited=true err=none
notify(1): first woken=true second still waiting=true
notify_all: second woken=true
wait_for=true
wait_for false 100ms=false err=none
`, ""},
		// Three processes (main, Process-2, Process-3) share one
		// namespace; Manager() uses up number 1, as CPython's server
		// process does.
		{"namespace", `
manager=SyncManager-1 repr=Namespace()
child2 saw a=2 b=a was 1 missing='Namespace' object has no attribute 'z'
names=Process-2,Process-3
repr=Namespace(a=2, b='a was 1', c=[1, 'two', None, True, 2.5])
missing: 'Namespace' object has no attribute 'nope' no_key=true
delete missing: 'Namespace' object has no attribute 'nope'
has a=true nope=false names=[a b c]
repr=Namespace(a=2, b='a was 1', c=[1, 'two', None, True, 2.5], x1=2, x=3)
`, ""},
		{"dict-list", `
dict={1: '1', '2': 2, 0.25: None} len=3
list=[4, 3, 2, 1, 0] len=5
d[1]=1 contains 2=false contains '2'=true
missing: KeyError: 3 no_key=true
keys=[1 0.25]
pop=0 list=[4, 3, 2, 1]
get out of range: list index out of range index=true
set out of range: list assignment index out of range
pop empty: pop from empty list
list=[4, 3, 2, 1, {'k': 1}]
`, ""},
		{"class-fields", `
got=[Producer-1:0 Producer-1:1 Producer-1:2] exitcode=0
`, ""},
		{"pool", `
repr=<multiprocessing.pool.Pool state=RUN pool_size=4>
workers=[ForkPoolWorker-1 ForkPoolWorker-2 ForkPoolWorker-3 ForkPoolWorker-4] daemon=true
map len=100 in_order=true first=[0 1 4 9 16]
imap len=20 in_order=true
imap_unordered len=20 complete=true
starmap=[3 7 11] err=none
apply=42 err=none
apply_async wait=true
apply_async ready=true successful=true err=none get=49 err=none
map_async=[1 4 9] err=none
map empty=[] err=none
workers named ForkPoolWorker-N=true
initializer=[init-ok self_repr_ok=true] err=none
map after close: Pool not running value=true
repr=<multiprocessing.pool.Pool state=CLOSE pool_size=4>
alive after join=0
`, ""},
		{"pool-error", `
join while running: Pool is still running
map error: bad input 3 remote=true
remote func=main.failingSquare worker=true
apply panic: panic: five is right out panic=true stack=true
apply_async successful=false err=none
imap v=4 err=none
imap v=0 err=bad input 3
imap v=16 err=none
pool still works: [1 4 9] err=none
wrong arity: main.add takes 2 arguments (1 given)
same workers=true
`, ""},
		{"pool-terminate", `
pending after terminate: the pool was terminated before the result arrived state=true
worker exitcodes=[-15 -15] repr=<multiprocessing.pool.Pool state=TERMINATE pool_size=2>
apply after terminate: Pool not running
`, ""},
		// A process killed holding a Lock releases it: a process waiting
		// for it gets it, and the host warns (docs/ABI.md).
		{"die-lock", `
held by the child: try_acquire=false err=none
holder exitcode=-9
waiter acquired=true
main acquired=true err=none
`, `(?m)\[WARN\] +sandbox\.Process-1: process was killed holding a lock; the lock was released`},
		// A process killed waiting at a Barrier breaks it for the others.
		{"die-barrier", `
victim exitcode=-9
other: index=0 err=broken barrier broken=true
main: broken barrier broken=true
broken=true
`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"run", ipc, "--"}, strings.Fields(tt.scenario)...)
			res := runSandbox(t, args...)
			if res.code != 0 {
				t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if want := strings.TrimPrefix(tt.want, "\n"); res.stdout != want {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", res.stdout, want, res.stderr)
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(res.stderr) {
				t.Errorf("stderr does not match %q:\n%s", tt.stderr, res.stderr)
			}
		})
	}
}

// stressMessages is the number of messages of the stress tests:
// SANDBOX_STRESS_MESSAGES if set, else 100,000, or 20,000 with -short or
// -race. Every message costs two host calls (about 75 µs each on a 2-vCPU
// machine, ten times that with the race detector in the host and the
// runners), so 100,000 take about 30 s without -race and over two minutes
// with it.
func stressMessages(t *testing.T) int {
	t.Helper()
	if s := os.Getenv("SANDBOX_STRESS_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 {
			t.Fatalf("SANDBOX_STRESS_MESSAGES=%q: want a number >= 4", s)
		}
		return n - n%4
	}
	if testing.Short() || raceEnabled() {
		return 20_000
	}
	return 100_000
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestIPCStress moves messages from 4 producer to 4 consumer processes,
// through one Queue and through Pipes: every message must arrive exactly
// once (count and checksum) and each producer's messages in order.
func TestIPCStress(t *testing.T) {
	ipc := testutil.Guest(t, "internal/testguests/ipc")
	n := stressMessages(t)
	for _, kind := range []string{"queue", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			start := time.Now()
			res := runSandbox(t, "run", ipc, "--", "stress-"+kind, strconv.Itoa(n))
			if res.code != 0 {
				t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			want := kind + " messages=" + strconv.Itoa(n) + " count=" + strconv.Itoa(n) + " checksum_ok=true disorder=0\n"
			if res.stdout != want {
				t.Errorf("stdout %q, want %q\nstderr:\n%s", res.stdout, want, res.stderr)
			}
			t.Logf("%d messages through %ss in %v (run: %v)", n, kind, time.Since(start).Round(time.Millisecond),
				strings.TrimSpace(res.stderr))
		})
	}
}
