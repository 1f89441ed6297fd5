//go:build wasip1

// Command probe is the guest of the host's end-to-end tests: one program,
// many scenarios, chosen by the first guest argument:
//
//	sandbox run probe.wasm -- names
//
// Each scenario prints machine-checkable "key=value" lines. To keep their
// order fixed, the main process prints nothing while a child that prints
// is running (it gathers what it sees and prints it after Join). A failed
// step that the scenario does not expect prints "probe: ..." on stderr and
// exits with code 3; an unknown scenario exits with code 2.
//
// Without IPC, the processes synchronise through process names, which live
// in the host: a child renames itself when it reaches a point, and its
// parent polls the name (see waitForName).
package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

const usage = `usage: probe SCENARIO [ARG...]

scenarios:
  hello                 print "hello from MainProcess"
  exit N                main exits with code N
  child-exit N          a child exits with code N; main prints exitcode=N
  panic                 main panics (exit code 1)
  child-panic           a child panics; main prints exitcode=1
  child-error           a child's target returns an error; main prints exitcode=1
  exitcodes             children ending in every way; one line each
  names                 default names, explicit names, a class, renaming, names in a child
  tree                  current, parent and active children from main and from a child
  pid                   pids as seen by main and by the child
  args                  a child receives ints, strings, a struct, a slice, a map, variadic args
  terminate             terminate a sleeping child: exitcode=-15
  kill                  kill a sleeping child: exitcode=-9
  join-timeout          join a sleeping child with a 100ms timeout, then terminate it
  start-twice           misuse of start/join/terminate: the errors
  self-terminate        a process joins/terminates/kills itself (main, then a child): the errors
  not-creator           a child joins/terminates/kills/renames its parent: the errors
  daemon-child          a daemon child tries to start a child: the error
  daemon-end            main returns leaving a daemon (sleeps forever) and a non-daemon (200ms)
  child-end             a child returns leaving a grandchild that prints 200ms later
  output [N]            a child prints N (1000) lines on stdout and 10 on stderr
  killed-output         a child prints a line, then is killed while sleeping
  spawn N [D [held]]    start N children sleeping D (1s) (held: once every start was tried); report how many started
  sleep D               sleep for D (a Go duration, or seconds), then exit 0
  loop                  print "looping", then busy loop forever
  alloc                 allocate memory without end
  flood                 print without end
  forkbomb              every process starts two children that do the same, forever
  recurse               a function that calls itself without end (Go's stack overflow)
  go-panic              a goroutine other than main's panics (Go's own crash, exit code 2)
  hold N                allocate and touch N MiB, print "held=N", then sleep forever
  children N SCENARIO [ARG...]  run a scenario in N children at once; main joins them
  gather N              N children alive at once, however slowly they start: each says it runs, main lets them end once all have
  retry-start           (with --max-procs 2) a start refused by the limit, retried later: the child works
  world                 what the guest sees: args, environment, files, clocks, sleep, randomness
  child SCENARIO [ARG...]  run a scenario in a child; main prints its exitcode
  after-end             a child ends, another starts (on its runner, when runners are reused), the first is killed: the second lives on
  burn N MS [loop]      N children one after another, each busy for MS ms of CPU; then, with loop, one that loops forever
  init-print N          every process prints "init" before mp.Main; N children one after another print "child I"
  init-spin T [D]       every process started after T (Unix ms) loops forever before mp.Main; a child sleeps until
                        past T, main joins it, sleeps D (0) and returns (the next process parked on its runner loops, unassigned)
`

func main() {
	mp.Register(
		noop, exitWith, panicWith, failWith, sleepFor, sleepThenPrint, sleepForever, burn, loop,
		namesChild, treeChild, pidChild, argsChild, daemonChild, childEnd,
		printLines, printThenSleep, forkBomb, selfOps, parentOps, runScenario, putAnswer, gathered, sleepAfter,
		sayChild, sleepUntil,
	)
	mp.RegisterClass(&MyProc{})
	mp.Main(func() {
		if code := dispatch(os.Args[1:]); code != 0 {
			os.Exit(code)
		}
	})
}

// dispatch runs the scenario named by args[0] and returns the exit code.
func dispatch(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	name, args := args[0], args[1:]
	switch name {
	case "hello":
		say("hello from %s", mp.CurrentProcess().Name())
	case "exit":
		return intArg(args, 0, 0)
	case "child-exit":
		p := runChild(exitWith, mp.Args(intArg(args, 0, 0)))
		say("exitcode=%s", exitCode(p))
	case "panic":
		panic("probe: main panics")
	case "child-panic":
		p := runChild(panicWith, mp.Args("probe: child panics"))
		say("exitcode=%s", exitCode(p))
	case "child-error":
		p := runChild(failWith, mp.Args("probe: child fails"))
		say("exitcode=%s", exitCode(p))
	case "exitcodes":
		exitCodes()
	case "names":
		names()
	case "tree":
		tree()
	case "pid":
		pid()
	case "args":
		p := runChild(argsChild, mp.Args(
			42, int64(-7), 2.5, "hello, world", "héllo ✓", true,
			Point{X: 1, Y: -2, Label: "origin"}, []int{1, 2, 3},
			map[string]int{"a": 1, "b": 2}, (*Point)(nil), "x", "y"))
		say("exitcode=%s", exitCode(p))
	case "terminate":
		stopSleeper("terminate", (*mp.Process).Terminate)
	case "kill":
		stopSleeper("kill", (*mp.Process).Kill)
	case "join-timeout":
		joinTimeout()
	case "start-twice":
		startTwice()
	case "self-terminate":
		selfOps()
		p := runChild(selfOps)
		say("child exitcode=%s", exitCode(p))
	case "not-creator":
		p := runChild(parentOps)
		say("child exitcode=%s", exitCode(p))
	case "daemon-child":
		p := runChild(daemonChild, mp.Daemon(true))
		say("exitcode=%s", exitCode(p))
	case "daemon-end":
		daemonEnd()
	case "child-end":
		p := runChild(childEnd)
		say("main after join exitcode=%s", exitCode(p))
	case "output":
		p := runChild(printLines, mp.Args(intArg(args, 0, 1000), 10))
		say("main after join exitcode=%s", exitCode(p))
	case "killed-output":
		killedOutput()
	case "spawn":
		spawn(intArg(args, 0, 10), durationArg(args, 1, time.Second), len(args) > 2 && args[2] == "held")
	case "sleep":
		time.Sleep(durationArg(args, 0, time.Second))
	case "loop":
		loop()
	case "alloc":
		alloc()
	case "flood":
		flood()
	case "forkbomb":
		forkBomb()
	case "recurse":
		say("depth=%d", recurse(0))
	case "go-panic":
		goPanic()
	case "hold":
		hold(intArg(args, 0, 64))
	case "children":
		children(intArg(args, 0, 2), args[1:])
	case "gather":
		gather(intArg(args, 0, 2))
	case "world":
		world()
	case "retry-start":
		retryStart()
	case "after-end":
		afterEnd()
	case "burn":
		burnChildren(intArg(args, 0, 3), time.Duration(intArg(args, 1, 500))*time.Millisecond, len(args) > 2 && args[2] == "loop")
	case "child":
		p := runChild(runScenario, mp.Args(args))
		say("child exitcode=%s", exitCode(p))
	case "init-print":
		for i := range intArg(args, 0, 3) {
			runChild(sayChild, mp.Args(i+1))
		}
	case "init-spin":
		runChild(sleepUntil, mp.Args(int64(intArg(args, 0, 0))+300))
		say("joined")
		time.Sleep(time.Duration(intArg(args, 1, 0)) * time.Millisecond)
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown scenario %q\n\n%s", name, usage)
		return 2
	}
	return 0
}

// init runs in every process before its role is known (before mp.Main),
// so, on a reused runner, in a parked guest (runner/runner.go): what the
// init-* scenarios do there.
func init() {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case "init-print":
		say("init")
	case "init-spin":
		if len(os.Args) > 2 && time.Now().UnixMilli() > int64(intArg(os.Args, 2, 0)) {
			for i := 0; ; i++ {
				sink = i
			}
		}
	}
}

func sayChild(i int) { say("child %d", i) }

// sleepUntil sleeps until ms, Unix milliseconds.
func sleepUntil(ms int64) { time.Sleep(time.Until(time.UnixMilli(ms))) }

// Helpers.

func say(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

// check ends the probe when a step that must succeed fails.
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: unexpected error: %v\n", err)
		os.Exit(3)
	}
}

func intArg(args []string, i, def int) int {
	if i >= len(args) {
		return def
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: argument %d: %v\n", i+1, err)
		os.Exit(2)
	}
	return n
}

func durationArg(args []string, i int, def time.Duration) time.Duration {
	if i >= len(args) {
		return def
	}
	if d, err := time.ParseDuration(args[i]); err == nil {
		return d
	}
	s, err := strconv.ParseFloat(args[i], 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: argument %d: not a duration: %q\n", i+1, args[i])
		os.Exit(2)
	}
	return time.Duration(s * float64(time.Second))
}

// exitCode prints an exit code as Python's exitcode: a number or none.
func exitCode(p *mp.Process) string {
	code, ok := p.ExitCode()
	if !ok {
		return "none"
	}
	return strconv.Itoa(code)
}

func nameList(ps []*mp.Process) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	return "[" + strings.Join(names, ",") + "]"
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// runChild starts a process for target, joins it and returns it.
func runChild(target any, opts ...mp.Option) *mp.Process {
	p := mp.NewProcess(target, opts...)
	check(p.Start())
	check(p.Join())
	return p
}

// waitForName polls p's name until it is want, for at most limit; it
// reports whether it saw it.
func waitForName(p *mp.Process, want string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if p.Name() == want {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Targets.

func noop() {}

func exitWith(code int) { os.Exit(code) }

func panicWith(msg string) { panic(msg) }

func failWith(msg string) error { return errors.New(msg) }

func sleepFor(d time.Duration) { time.Sleep(d) }

func sleepThenPrint(d time.Duration, msg string) {
	time.Sleep(d)
	say("%s", msg)
}

func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// runScenario runs a scenario in a child.
func runScenario(args []string) {
	if code := dispatch(args); code != 0 {
		os.Exit(code)
	}
}

// MyProc is a "subclass" of Process.
type MyProc struct {
	mp.Process
	Greeting string
	Count    int
}

// Run is MyProc's body.
func (p *MyProc) Run() {
	say("myproc name=%s greeting=%s count=%d", p.Name(), p.Greeting, p.Count)
	say("myproc current=%v", mp.CurrentProcess())
	say("myproc same=%v", mp.CurrentProcess() == &p.Process)
}

// Scenarios.

func exitCodes() {
	type child struct {
		what string
		p    *mp.Process
	}
	children := []child{
		{"return", mp.NewProcess(noop)},
		{"exit-0", mp.NewProcess(exitWith, mp.Args(0))},
		{"exit-3", mp.NewProcess(exitWith, mp.Args(3))},
		{"exit-255", mp.NewProcess(exitWith, mp.Args(255))},
		{"panic", mp.NewProcess(panicWith, mp.Args("probe: child panics"))},
		{"error", mp.NewProcess(failWith, mp.Args("probe: child fails"))},
		{"terminate", mp.NewProcess(sleepFor, mp.Args(time.Minute))},
		{"kill", mp.NewProcess(sleepFor, mp.Args(time.Minute))},
	}
	for _, c := range children {
		check(c.p.Start())
	}
	check(children[6].p.Terminate())
	check(children[7].p.Kill())
	for _, c := range children {
		check(c.p.Join())
	}
	for _, c := range children {
		say("%s name=%s exitcode=%s repr=%v", c.what, c.p.Name(), exitCode(c.p), c.p)
	}
}

func names() {
	say("main name=%s", mp.CurrentProcess().Name())
	p1 := mp.NewProcess(namesChild)
	p2 := mp.NewProcess(noop)
	p3 := &MyProc{Greeting: "hi", Count: 3}
	mp.Init(p3)
	p4 := mp.NewProcess(noop, mp.Name("custom"))
	p5 := mp.NewProcess(noop)
	say("p1 name=%s", p1.Name())
	say("p2 name=%s", p2.Name())
	say("p3 name=%s", p3.Name())
	say("p4 name=%s", p4.Name())
	say("p5 name=%s", p5.Name())
	say("p3 repr=%v", p3)
	check(p2.SetName("renamed"))
	say("p2 renamed name=%s", p2.Name())
	say("p2 empty name error=%s", errText(p2.SetName("")))

	check(p1.Start())
	check(p1.Join())
	say("p1 name after join=%s exitcode=%s", p1.Name(), exitCode(p1))
	check(p3.Start())
	check(p3.Join())
	say("p3 exitcode=%s", exitCode(&p3.Process))
}

// namesChild runs as Process-1 in the names scenario.
func namesChild() {
	me := mp.CurrentProcess()
	say("child name=%s", me.Name())
	a := mp.NewProcess(noop)
	b := mp.NewProcess(noop)
	c := mp.NewProcess(noop, mp.Name("grandchild"))
	say("child created name=%s", a.Name())
	say("child created name=%s", b.Name())
	say("child created name=%s", c.Name())
	check(a.Start())
	check(a.Join())
	check(me.SetName("child-renamed"))
	say("child renamed name=%s", me.Name())
}

func tree() {
	say("main current=%v", mp.CurrentProcess())
	if parent := mp.ParentProcess(); parent == nil {
		say("main parent=none")
	} else {
		say("main parent=%v", parent)
	}
	say("main active=%s", nameList(mp.ActiveChildren()))
	c := mp.NewProcess(treeChild, mp.Args(mp.CurrentProcess().Pid()))
	check(c.Start())
	during := nameList(mp.ActiveChildren()) // the child lives at least 300ms
	check(c.Join())
	say("main active while child ran=%s", during)
	say("main active after join=%s", nameList(mp.ActiveChildren()))
	say("child exitcode=%s", exitCode(c))
}

func treeChild(mainPid int) {
	me := mp.CurrentProcess()
	parent := mp.ParentProcess()
	say("child current=%v", me)
	say("child parent=%v", parent)
	say("child parent name=%s", parent.Name())
	say("child parent pid matches=%v", parent.Pid() == mainPid)
	say("child parent alive=%v", parent.IsAlive())
	say("child active=%s", nameList(mp.ActiveChildren()))
	g := mp.NewProcess(sleepFor, mp.Args(300*time.Millisecond))
	check(g.Start())
	say("child active=%s", nameList(mp.ActiveChildren()))
	check(g.Join())
	say("child active=%s", nameList(mp.ActiveChildren()))
}

func pid() {
	me := mp.CurrentProcess()
	say("main pid=%d", me.Pid())
	say("main ppid=%d", me.PPid())
	c := mp.NewProcess(pidChild)
	say("child pid before start=%d", c.Pid())
	check(c.Start())
	seen := c.Pid()
	check(c.Join())
	say("child pid=%d", seen)
	say("child pid after join=%d", c.Pid())
	say("child ppid=%d", c.PPid())
}

func pidChild() {
	me := mp.CurrentProcess()
	say("child self pid=%d", me.Pid())
	say("child self ppid=%d", me.PPid())
	say("child parent pid=%d", mp.ParentProcess().Pid())
}

// Point is a struct argument.
type Point struct {
	X, Y  int
	Label string
}

func argsChild(i int, neg int64, f float64, s, u string, b bool, pt Point, sl []int, m map[string]int, ptr *Point, rest ...string) {
	say("int=%d", i)
	say("int64=%d", neg)
	say("float=%v", f)
	say("string=%q", s)
	say("unicode=%q", u)
	say("bool=%v", b)
	say("struct=%+v", pt)
	say("slice=%v", sl)
	say("map=%v", m)
	say("nil pointer=%v", ptr == nil)
	say("rest=%q", rest)
}

// stopSleeper starts a child that sleeps a minute, stops it with stop and
// prints what is seen.
func stopSleeper(op string, stop func(*mp.Process) error) {
	p := mp.NewProcess(sleepFor, mp.Args(time.Minute))
	check(p.Start())
	say("started alive=%v exitcode=%s", p.IsAlive(), exitCode(p))
	check(stop(p))
	check(p.Join())
	say("%s exitcode=%s", op, exitCode(p))
	say("alive=%v", p.IsAlive())
	say("repr=%v", p)
	check(stop(p)) // a stopped process is left alone
	say("again exitcode=%s", exitCode(p))
}

func joinTimeout() {
	p := mp.NewProcess(sleepFor, mp.Args(time.Minute))
	check(p.Start())
	start := time.Now()
	stopped, err := p.JoinTimeout(100 * time.Millisecond)
	check(err)
	waited := time.Since(start)
	say("stopped=%v alive=%v exitcode=%s", stopped, p.IsAlive(), exitCode(p))
	say("waited at least 100ms=%v", waited >= 100*time.Millisecond)
	stopped, err = p.JoinTimeout(0)
	check(err)
	say("poll stopped=%v", stopped)
	check(p.Terminate())
	stopped, err = p.JoinTimeout(time.Minute)
	check(err)
	say("after terminate stopped=%v alive=%v exitcode=%s", stopped, p.IsAlive(), exitCode(p))
}

func startTwice() {
	q := mp.NewProcess(noop)
	say("unstarted alive=%v exitcode=%s pid=%d", q.IsAlive(), exitCode(q), q.Pid())
	err := q.Join()
	say("join unstarted error=%s state=%v", errText(err), errors.Is(err, mp.ErrState))
	say("terminate unstarted error=%s", errText(q.Terminate()))
	say("kill unstarted error=%s", errText(q.Kill()))

	p := runChild(noop)
	err = p.Start()
	say("start twice error=%s state=%v", errText(err), errors.Is(err, mp.ErrState))
	say("set daemon after start error=%s", errText(p.SetDaemon(true)))
	say("join again error=%s", errText(p.Join()))
}

// selfOps runs in main and in a child of the self-terminate scenario.
func selfOps() {
	me := mp.CurrentProcess()
	who := me.Name()
	err := me.Join()
	say("%s join self error=%s permission=%v", who, errText(err), errors.Is(err, mp.ErrPermission))
	say("%s terminate self error=%s", who, errText(me.Terminate()))
	say("%s kill self error=%s", who, errText(me.Kill()))
	say("%s start self error=%s", who, errText(me.Start()))
	say("%s alive=%v", who, me.IsAlive())
}

// parentOps runs in a child of the not-creator scenario.
func parentOps() {
	parent := mp.ParentProcess()
	err := parent.Join()
	say("join parent error=%s permission=%v", errText(err), errors.Is(err, mp.ErrPermission))
	say("terminate parent error=%s", errText(parent.Terminate()))
	say("kill parent error=%s", errText(parent.Kill()))
	say("start parent error=%s", errText(parent.Start()))
	say("rename parent error=%s", errText(parent.SetName("hijacked")))
	say("set daemon of parent error=%s", errText(parent.SetDaemon(true)))
	say("parent name=%s alive=%v", parent.Name(), parent.IsAlive())
}

// daemonChild runs as a daemon in the daemon-child scenario.
func daemonChild() {
	me := mp.CurrentProcess()
	say("child daemon=%v repr=%v", me.Daemon(), me)
	q := mp.NewProcess(noop)
	say("grandchild daemon=%v repr=%v", q.Daemon(), q)
	err := q.Start()
	say("start error=%s permission=%v", errText(err), errors.Is(err, mp.ErrPermission))
	r := mp.NewProcess(noop, mp.Daemon(false))
	err = r.Start()
	say("start non-daemon error=%s permission=%v", errText(err), errors.Is(err, mp.ErrPermission))
}

func daemonEnd() {
	d := mp.NewProcess(sleepForever, mp.Daemon(true))
	n := mp.NewProcess(sleepThenPrint, mp.Args(200*time.Millisecond, "non-daemon done"))
	check(d.Start())
	check(n.Start())
	say("main done")
}

// childEnd returns without joining its child, which the host must join
// before the child counts as stopped.
func childEnd() {
	g := mp.NewProcess(sleepThenPrint, mp.Args(200*time.Millisecond, "grandchild done"))
	check(g.Start())
	say("child returns")
}

func printLines(n, errN int) {
	w := bufio.NewWriter(os.Stdout)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	check(w.Flush())
	for i := 1; i <= errN; i++ {
		fmt.Fprintf(os.Stderr, "err %d\n", i)
	}
}

// printThenSleep prints a line, tells its parent through its name, and
// sleeps until killed.
func printThenSleep(mark string) {
	say("child line before kill")
	check(mp.CurrentProcess().SetName(mark))
	sleepForever()
}

func killedOutput() {
	p := mp.NewProcess(printThenSleep, mp.Args("printed"))
	check(p.Start())
	if !waitForName(p, "printed", 30*time.Second) {
		fmt.Fprintln(os.Stderr, "probe: the child did not report in 30s; killing it anyway")
	}
	check(p.Kill())
	check(p.Join())
	say("killed exitcode=%s", exitCode(p))
}

func spawn(n int, d time.Duration, held bool) {
	var started []*mp.Process
	var firstErr error
	failed := 0
	// held: the children sleep only once every start was tried, so a
	// limit counts them all alive however slowly the starts go.
	tried := mp.NewEvent()
	if !held {
		tried.Set()
	}
	for range n {
		p := mp.NewProcess(sleepAfter, mp.Args(tried, d))
		if err := p.Start(); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		started = append(started, p)
	}
	tried.Set()
	for _, p := range started {
		check(p.Join())
	}
	say("started=%d failed=%d", len(started), failed)
	say("first error=%s limit=%v", errText(firstErr), errors.Is(firstErr, mp.ErrLimit))
}

// sleepAfter waits for ev, then sleeps for d.
func sleepAfter(ev *mp.Event, d time.Duration) {
	ev.Wait(-1)
	time.Sleep(d)
}

// afterEnd: a kill of a process that has ended reaches nothing, even when
// its runner now serves another process.
func afterEnd() {
	a := runChild(noop)
	b := mp.NewProcess(sleepThenPrint, mp.Args(300*time.Millisecond, "b lived"))
	check(b.Start())
	say("same pid=%v", a.Pid() == b.Pid())
	check(a.Kill())
	check(a.Terminate())
	check(b.Join())
	say("a exitcode=%s b exitcode=%s", exitCode(a), exitCode(b))
}

// burnChildren runs n children one after another, each busy for d; then,
// with loop, one that loops until its CPU limit ends it.
func burnChildren(n int, d time.Duration, withLoop bool) {
	for i := range n {
		p := runChild(burn, mp.Args(d))
		say("burn %d exitcode=%s", i+1, exitCode(p))
	}
	if withLoop {
		p := runChild(loop)
		say("loop exitcode=%s", exitCode(p))
	}
}

// burn keeps the CPU busy for d of wall-clock time.
func burn(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
		sink++
	}
}

var sink int

func loop() {
	say("looping")
	for i := 0; ; i++ {
		sink = i
	}
}

func alloc() {
	const chunk = 16 << 20
	var hoard [][]byte
	for i := 1; ; i++ {
		b := make([]byte, chunk)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i)
		}
		hoard = append(hoard, b)
		say("allocated=%dMiB", i*chunk>>20)
	}
}

// recurse calls itself until the goroutine's stack is exhausted.
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[(n+1)%64])
}

func goPanic() {
	go func() { panic("boom in a goroutine") }()
	time.Sleep(time.Hour)
}

// hold allocates n MiB, touches every page, and keeps it.
func hold(n int) {
	b := make([]byte, n<<20)
	for j := 0; j < len(b); j += 4096 {
		b[j] = 1
	}
	say("held=%d", n)
	holding = b
	sleepForever()
}

var holding []byte

// children runs the scenario args in n children at once and joins them.
func children(n int, args []string) {
	ps := make([]*mp.Process, n)
	for i := range ps {
		ps[i] = mp.NewProcess(runScenario, mp.Args(args))
		check(ps[i].Start())
	}
	for _, p := range ps {
		check(p.Join())
	}
}

// gather starts n children that each put on a queue and wait for an
// event; main sets it once it got all n: the n are alive at once however
// long each takes to start.
func gather(n int) {
	q, ev := mp.NewQueue(0), mp.NewEvent()
	ps := make([]*mp.Process, n)
	for i := range ps {
		ps[i] = mp.NewProcess(gathered, mp.Args(q, ev))
		check(ps[i].Start())
	}
	for range n {
		var got string
		check(q.Get(&got))
	}
	ev.Set()
	for _, p := range ps {
		check(p.Join())
	}
	say("gathered %d", n)
}

func gathered(q *mp.Queue, ev *mp.Event) error {
	if err := q.Put(mp.CurrentProcess().Name()); err != nil {
		return err
	}
	ev.Wait(-1)
	return nil
}

func flood() {
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for i := 0; ; i++ {
		if _, err := fmt.Fprintf(w, "flood %d ................................................................\n", i); err != nil {
			os.Exit(3)
		}
	}
}

// forkBomb starts two children that do the same, retrying while the run's
// process limit refuses, then sleeps forever.
func forkBomb() {
	for range 2 {
		p := mp.NewProcess(forkBomb)
		for {
			err := p.Start()
			if err == nil {
				break
			}
			if !errors.Is(err, mp.ErrLimit) {
				check(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sleepForever()
}

// world prints what the sandbox lets a guest see of the world.
func world() {
	say("args=%q", os.Args)
	say("environ=%d", len(os.Environ()))
	_, err := os.ReadDir("/")
	say("read root error=%v", err != nil)
	_, err = os.Create("probe-file")
	say("create file error=%v", err != nil)
	say("year after 2020=%v", time.Now().Year() > 2020)
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	say("slept at least 50ms=%v", time.Since(start) >= 50*time.Millisecond)
	var b1, b2 [16]byte
	rand.Read(b1[:])
	rand.Read(b2[:])
	say("random differs=%v", b1 != b2)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	say("stdin=%q", line)
}

// retryStart starts a child while the process limit (2) is used up, then
// again once there is room: the retried child must be whole (its IPC works).
func retryStart() {
	refused := mp.NewEvent()
	blocker := mp.NewProcess(sleepAfter, mp.Args(refused, 0))
	check(blocker.Start())
	q := mp.NewQueue(0)
	p := mp.NewProcess(putAnswer, mp.Args(q))
	err := p.Start()
	say("first start error=%s limit=%v", errText(err), errors.Is(err, mp.ErrLimit))
	refused.Set() // the blocker ends
	check(blocker.Join())
	check(p.Start())
	var got int
	check(q.Get(&got))
	check(p.Join())
	say("retried child put=%d exitcode=%s", got, exitCode(p))
}

func putAnswer(q *mp.Queue) error { return q.Put(42) }
