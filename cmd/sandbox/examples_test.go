package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// An example is one guest of guests/ (the book's "Process-Based
// Parallelism" chapter, issue 4) and what a run of it must print.
//
// Deterministic examples are checked line by line (exactLines). The
// timing-dependent ones run with --prefix, so that every line is known by
// the process that printed it (byProcess), and are checked for the set of
// lines each process prints, their order within the process, and the
// rules of the example. An example whose rules are about when its
// processes called the host (processes_barrier) also runs with
// --log-level trace and is checked against that log (traced). Nothing here
// sleeps: a run ends when its guest does.
type example struct {
	name  string   // the guest's folder: guests/NAME, built to guests/NAME.wasm
	flags []string // flags of `sandbox run` before the module
	code  int      // exit status of `sandbox run`
	check func(t *testing.T, stdout string)
	// traced, if not nil, is the check of an example run with --log-level
	// trace (among its flags) instead of check: it gets the run's stdout
	// and its log (stderr), which then holds TRACE and DEBUG lines only.
	traced func(t *testing.T, stdout, log string)
	// timed, if not nil, is the check instead of check of an example whose
	// rules depend on how fast processes started: it gets the event log
	// too.
	timed func(t *testing.T, stdout string, evs []events.Event)
}

var examples = []example{
	{
		name: "spawning_processes",
		check: exactLines(
			"calling myFunc from process n°: 0",
			"calling myFunc from process n°: 1",
			"output from myFunc is :0",
			"calling myFunc from process n°: 2",
			"output from myFunc is :0",
			"output from myFunc is :1",
			"calling myFunc from process n°: 3",
			"output from myFunc is :0",
			"output from myFunc is :1",
			"output from myFunc is :2",
			"calling myFunc from process n°: 4",
			"output from myFunc is :0",
			"output from myFunc is :1",
			"output from myFunc is :2",
			"output from myFunc is :3",
			"calling myFunc from process n°: 5",
			"output from myFunc is :0",
			"output from myFunc is :1",
			"output from myFunc is :2",
			"output from myFunc is :3",
			"output from myFunc is :4",
			"Spawning new process with PID {pid}",
			"Spawning new process with PID {pid}",
			"Spawning new process with PID {pid}",
			"Spawning new process with PID {pid}",
			"Spawning new process with PID {pid}",
			"Spawning new process with PID {pid}",
		),
	},
	{
		name: "process_in_subclass",
		check: exactLines(
			"called run method in MyProcess-1",
			"called run method in MyProcess-2",
			"called run method in MyProcess-3",
			"called run method in MyProcess-4",
			"called run method in MyProcess-5",
			"called run method in MyProcess-6",
			"called run method in MyProcess-7",
			"called run method in MyProcess-8",
			"called run method in MyProcess-9",
			"called run method in MyProcess-10",
			"Custom process subclass executed.",
		),
	},
	{
		name: "myFunc",
		check: exactLines(
			"calling myFunc from process n°: 3",
			"output from myFunc is :0",
			"output from myFunc is :1",
			"output from myFunc is :2",
			"Function executed in child process.",
		),
	},
	{
		name:  "killing_processes",
		flags: []string{"--prefix"},
		check: checkKillingProcesses,
	},
	{
		name:  "naming_processes",
		flags: []string{"--prefix"},
		check: checkNamingProcesses,
	},
	{
		name:  "derom",
		flags: []string{"--prefix"},
		check: checkDerom,
	},
	{
		name:  "run_background_processes",
		flags: []string{"--prefix"},
		timed: checkBackgroundProcesses(true, "Background process started."),
	},
	{
		name:  "run_background_processes_no_daemons",
		flags: []string{"--prefix"},
		timed: checkBackgroundProcesses(false, "Non-daemon background process started."),
	},
	{
		name: "communicating_with_pipe",
		check: exactLines(
			"0", "1", "4", "9", "16", "25", "36", "49", "64", "81",
			"End",
			"Process 1 sending message: 9",
			"Process 2 received message: 9",
		),
	},
	{
		name: "process_pool",
		check: exactLines(
			"Pool    : "+pySquares(100),
			"Process pool task completed.",
		),
	},
	{
		name:  "spawning_processes_namespace",
		check: exactLines(append(myFuncLines(0, 1, 2, 3, 4, 5), "Namespace value: 42")...),
	},
	{
		name:   "processes_barrier",
		flags:  []string{"--prefix", "--log-level", "trace"},
		traced: checkProcessesBarrier,
	},
	{
		name:  "communicating_with_queue",
		flags: []string{"--prefix"},
		check: checkCommunicatingWithQueue,
	},
}

// TestExamples runs every example guest under `sandbox run`, all at once,
// and checks its exit status, that the sandbox logged nothing (or, for a
// traced example, nothing above DEBUG), and its output.
func TestExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			module := testutil.Guest(t, "guests/"+ex.name)
			views := t.TempDir()
			args := append(append(append([]string{"run"}, ex.flags...), viewFlagsFor(views)...), module)
			r := runSandbox(t, args...)
			logOK := r.stderr == ""
			if ex.traced != nil {
				logOK = onlyTraceAndDebug(r.stderr)
			}
			if r.code != ex.code || !logOK {
				t.Errorf("sandbox %s: exit status %d, want %d; stderr:\n%s", strings.Join(args, " "), r.code, ex.code, r.stderr)
			}
			switch {
			case ex.traced != nil:
				ex.traced(t, r.stdout, r.stderr)
			case ex.timed != nil:
				ex.timed(t, r.stdout, readEvents(t, filepath.Join(views, "run.jsonl")))
			default:
				ex.check(t, r.stdout)
			}
			guestErr := r.stderr
			if ex.traced != nil {
				guestErr = "" // the sandbox's log, not the guest's
			}
			checkViews(t, views, r.stdout, guestErr)
			if t.Failed() {
				t.Logf("stdout:\n%s", r.stdout)
			}
		})
	}
}

// logLine matches a line of the sandbox's log (hclog's text format): its
// time, level, logger (sandbox.PROCESS-NAME) and message.
var logLine = regexp.MustCompile(`^(\S+) \[(TRACE|DEBUG|INFO|WARN|ERROR)\] +(\S.*)$`)

// onlyTraceAndDebug reports whether every line of log is a TRACE or DEBUG
// line: the sandbox logged nothing that a run at the default level (warn)
// would show, nor anything at info.
func onlyTraceAndDebug(log string) bool {
	if log == "" {
		return true
	}
	for _, l := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		m := logLine.FindStringSubmatch(l)
		if m == nil || (m[2] != "TRACE" && m[2] != "DEBUG") {
			return false
		}
	}
	return true
}

// pidPattern matches a pid in a line pattern of exactLines and linePattern.
const pidPattern = "{pid}"

// linePattern compiles want, a line in which every {pid} stands for a
// positive number and everything else is literal, to a regexp matching
// the whole line, with a group for each pid.
func linePattern(want string) *regexp.Regexp {
	parts := strings.Split(want, pidPattern)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, "([1-9][0-9]*)") + "$")
}

// lines splits output into its lines; the output must end with a newline.
func lines(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline")
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// exactLines is the check of a deterministic example: the output is
// exactly these lines ({pid} matches any pid).
func exactLines(want ...string) func(*testing.T, string) {
	return func(t *testing.T, stdout string) {
		t.Helper()
		got := lines(t, stdout)
		for i := range max(len(got), len(want)) {
			switch {
			case i >= len(got):
				t.Errorf("line %d missing, want %q", i+1, want[i])
			case i >= len(want):
				t.Errorf("line %d is %q, want no more lines", i+1, got[i])
			case !linePattern(want[i]).MatchString(got[i]):
				t.Errorf("line %d is %q, want %q", i+1, got[i], want[i])
			}
		}
	}
}

// A printed is one line of a --prefix run.
type printed struct {
	proc string // the name of the process that printed it
	pid  string
	text string
}

var prefixed = regexp.MustCompile(`^\[(.+?) ([1-9][0-9]*)\] (.*)$`)

// byProcess parses the output of a --prefix run into its lines, in order,
// and the lines of each process, by name.
func byProcess(t *testing.T, stdout string) ([]printed, map[string][]string) {
	t.Helper()
	var all []printed
	per := map[string][]string{}
	for _, l := range lines(t, stdout) {
		m := prefixed.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %q has no [name pid] prefix", l)
			continue
		}
		all = append(all, printed{proc: m[1], pid: m[2], text: m[3]})
		per[m[1]] = append(per[m[1]], m[3])
	}
	return all, per
}

// checkProcesses reports a process that printed and is not one of names.
func checkProcesses(t *testing.T, per map[string][]string, names ...string) {
	t.Helper()
	for name := range per {
		if !slices.Contains(names, name) {
			t.Errorf("unexpected process %q printed %q", name, per[name])
		}
	}
}

// checkSame reports whether process name printed exactly want.
func checkSame(t *testing.T, per map[string][]string, name string, want ...string) {
	t.Helper()
	if got := per[name]; !slices.Equal(got, want) {
		t.Errorf("%s printed\n%q\nwant\n%q", name, got, want)
	}
}

// checkPrefix reports whether process name printed the first lines of
// want (a process ended before its end): it returns how many.
func checkPrefix(t *testing.T, per map[string][]string, name string, want ...string) int {
	t.Helper()
	got := per[name]
	if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
		t.Errorf("%s printed\n%q\nwant the start of\n%q", name, got, want)
	}
	return len(got)
}

// checkLast reports whether the last line of the run is want, printed by
// MainProcess.
func checkLast(t *testing.T, all []printed, want string) {
	t.Helper()
	if len(all) == 0 {
		t.Errorf("no output, want last line %q", want)
		return
	}
	if last := all[len(all)-1]; last.proc != "MainProcess" || last.text != want {
		t.Errorf("last line is %q by %s, want %q by MainProcess", last.text, last.proc, want)
	}
}

// withBlanks returns each of texts followed by an empty line, as Python's
// print("... \n") prints them.
func withBlanks(texts ...string) []string {
	var out []string
	for _, s := range texts {
		out = append(out, s, "")
	}
	return out
}

// killing_processes: MainProcess's lines are deterministic but for the
// line printed just after terminate, when the process may or may not have
// stopped yet (and is_alive is asked before the repr is made, as in
// Python). The child is terminated at once: it prints at most its first
// lines, never "Finished function"; its exit code is -15.
func checkKillingProcesses(t *testing.T, stdout string) {
	all, per := byProcess(t, stdout)
	checkProcesses(t, per, "MainProcess", "Process-1")
	checkPrefix(t, per, "Process-1", "Starting function", "-->0", "", "-->1", "")

	want := []*regexp.Regexp{
		linePattern("Process before execution: <Process name='Process-1' parent={pid} initial> False"),
		linePattern("Process running: <Process name='Process-1' pid={pid} parent={pid} started> True"),
		regexp.MustCompile(`^Process terminated: <Process name='Process-1' pid=([1-9][0-9]*) parent=([1-9][0-9]*) ` +
			`(?:started> True|stopped exitcode=-SIGTERM> (?:True|False))$`),
		linePattern("Process joined: <Process name='Process-1' pid={pid} parent={pid} stopped exitcode=-SIGTERM> False"),
		linePattern("Process exit code: -15"),
		linePattern("Process with PID {pid} killed successfully."),
	}
	got := per["MainProcess"]
	if len(got) != len(want) {
		t.Fatalf("MainProcess printed %d lines, want %d:\n%q", len(got), len(want), got)
	}
	var pids []string // every pid each line shows, in order
	for i, re := range want {
		m := re.FindStringSubmatch(got[i])
		if m == nil {
			t.Errorf("MainProcess line %d is %q, want a match of %s", i+1, got[i], re)
			continue
		}
		pids = append(pids, m[1:]...)
	}
	if t.Failed() {
		return
	}
	// parent, (pid, parent) ×3, pid: one parent and one child pid.
	parent, child := pids[0], pids[1]
	wantPids := []string{parent, child, parent, child, parent, child, parent, child}
	if !slices.Equal(pids, wantPids) {
		t.Errorf("pids shown %v, want the child's %s and the parent's %s", pids, child, parent)
	}
	for _, l := range all {
		if want := map[string]string{"MainProcess": parent, "Process-1": child}[l.proc]; l.pid != want {
			t.Errorf("%s's line %q is labelled with pid %s, want %s", l.proc, l.text, l.pid, want)
		}
	}
}

// naming_processes: the two processes run at the same time and each
// sleeps 3 s between its lines, so both "Starting" lines come before both
// "Exiting" lines; MainProcess prints the names after joining both.
func checkNamingProcesses(t *testing.T, stdout string) {
	all, per := byProcess(t, stdout)
	checkProcesses(t, per, "MainProcess", "myFunc process", "Process-2")
	for _, name := range []string{"myFunc process", "Process-2"} {
		checkSame(t, per, name, withBlanks(
			"Starting process name = "+name+" ",
			"Exiting process name = "+name+" ")...)
	}
	checkSame(t, per, "MainProcess", "Process name: myFunc process", "Process name: Process-2")
	lastStart, firstExit := -1, len(all)
	for i, l := range all {
		if strings.HasPrefix(l.text, "Starting") {
			lastStart = i
		}
		if strings.HasPrefix(l.text, "Exiting") {
			firstExit = min(firstExit, i)
		}
	}
	if lastStart > firstExit {
		t.Errorf("an Exiting line (line %d) came before the last Starting line (line %d)", firstExit+1, lastStart+1)
	}
	for _, l := range all[len(all)-2:] {
		if l.proc != "MainProcess" {
			t.Errorf("the last two lines must be MainProcess's, got one by %s", l.proc)
		}
	}
}

// derom: the non-daemon prints everything; the daemon is terminated when
// MainProcess ends, 2 s after the second start, so about 2 s after the
// daemon started (0.2 s more here, the time the second start takes): it
// usually prints its lines up to "---> 2" (one a second from its start;
// CPython usually stops at "---> 1"), and never its "Exiting" line.
func checkDerom(t *testing.T, stdout string) {
	all, per := byProcess(t, stdout)
	checkProcesses(t, per, "MainProcess", "background_process", "non_background_process")
	checkSame(t, per, "non_background_process",
		"Starting process: non_background_process",
		"non_background_process ---> 5",
		"non_background_process ---> 6",
		"non_background_process ---> 7",
		"non_background_process ---> 8",
		"Exiting process: non_background_process")
	daemon := []string{"Starting process: background_process"}
	for i := range 5 {
		daemon = append(daemon, fmt.Sprintf("background_process ---> %d", i))
	}
	// How many "--->" lines the daemon gets out depends on how long the
	// second start took (on a loaded machine, more); the rule is that it
	// is terminated before its exit line.
	if n := checkPrefix(t, per, "background_process", append(daemon, "Exiting process: background_process")...); n > len(daemon) {
		t.Errorf("the daemon printed %q: it was not terminated when MainProcess ended",
			per["background_process"])
	}
	checkSame(t, per, "MainProcess", "Derom process executed successfully.")
	checkLast(t, all, "Derom process executed successfully.")
}

// run_background_processes(_no_daemons): NO_background_process prints
// everything. background_process, when a daemon, is terminated as soon as
// MainProcess ends, right after starting both: how many of its first lines
// it prints before that is a race (here, as in CPython with fork, it
// usually prints them all, in the time the second start takes; with less
// time it prints fewer or none, as CPython with spawn does), and it is
// terminated before its "Exiting" line, which comes after a 1 s sleep,
// unless the second start took longer than that (a loaded machine: the
// runner it waited for took seconds to load): then it ended by itself,
// "Exiting" included, which the event log shows (exit code 0). When it is
// not a daemon it prints everything.
func checkBackgroundProcesses(daemon bool, sample string) func(*testing.T, string, []events.Event) {
	return func(t *testing.T, stdout string, evs []events.Event) {
		all, per := byProcess(t, stdout)
		checkProcesses(t, per, "MainProcess", "background_process", "NO_background_process")
		checkSame(t, per, "NO_background_process", withBlanks(
			"Starting NO_background_process ",
			"---> 5 ", "---> 6 ", "---> 7 ", "---> 8 ", "---> 9 ",
			"Exiting NO_background_process ")...)
		bg := withBlanks(
			"Starting background_process ",
			"---> 0 ", "---> 1 ", "---> 2 ", "---> 3 ", "---> 4 ",
			"Exiting background_process ")
		if daemon {
			exit := exitOf(evs, "background_process")
			switch {
			case exit == nil:
				t.Errorf("no exit of background_process in the event log")
			case exit.ExitCode != nil && *exit.ExitCode == 0:
				// It slept its 1 s before MainProcess ended: then it ran
				// to its end, as in CPython.
				t.Logf("the daemon ran to its end: the second start took over 1 s")
				checkSame(t, per, "background_process", bg...)
			default:
				if exit.Signal != "SIGTERM" {
					t.Errorf("background_process ended %+v, want terminated", *exit)
				}
				checkPrefix(t, per, "background_process", bg[:len(bg)-2]...)
			}
		} else {
			checkSame(t, per, "background_process", bg...)
		}
		checkSame(t, per, "MainProcess", sample)
		checkLast(t, all, sample)
	}
}

// readEvents reads an event log (--events).
func readEvents(t *testing.T, path string) []events.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := events.ReadJSONL(f)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return evs
}

// exitOf returns the exit event of the process named name.
func exitOf(evs []events.Event, name string) *events.Event {
	for i := range evs {
		if evs[i].Type == events.TypeExit && evs[i].Process == name {
			return &evs[i]
		}
	}
	return nil
}

// myFuncLines is what myFunc(i) prints for each of is, one after another.
func myFuncLines(is ...int) []string {
	var out []string
	for _, i := range is {
		out = append(out, fmt.Sprintf("calling myFunc from process n°: %d", i))
		for j := range i {
			out = append(out, fmt.Sprintf("output from myFunc is :%d", j))
		}
	}
	return out
}

// pySquares is Python's repr of [x*x for x in range(n)].
func pySquares(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i * i)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// barrierLine is a line of processes_barrier's children: the process's
// name and str(datetime.fromtimestamp(time())), whose microseconds Python
// leaves out when they are zero.
var barrierLine = regexp.MustCompile(`^process (.+) ----> (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{6})?)$`)

// The processes of processes_barrier: p1 and p2 wait at the barrier, p3
// and p4 do not.
var barrierNames = []string{"p1 - test_with_barrier", "p2 - test_with_barrier",
	"p3 - test_without_barrier", "p4 - test_without_barrier"}

// processes_barrier (run with --log-level trace): each of the four
// processes prints one line, its own name and the time it took, in any
// order; MainProcess prints the sample line last, after joining the four.
// p1 and p2 take the time once both have reached the barrier (issue 4:
// "p1 and p2 print after both reached the barrier"): each took its time
// at or after the later of their two barrier_wait calls reached the host,
// as the log shows (barrierWaited). Their times are then close too
// (within 1 s; they are milliseconds apart unless the machine stalls).
// p3 and p4 do not wait. The times are of the real wall clock (in UTC,
// the guest's local time), so they fall within the last two minutes, the
// longest a run may take.
func checkProcessesBarrier(t *testing.T, stdout, log string) {
	all, per := byProcess(t, stdout)
	checkProcesses(t, per, append([]string{"MainProcess"}, barrierNames...)...)
	now := time.Now()
	times := barrierTimes(t, per)
	for name, at := range times {
		if at.Before(now.Add(-2*time.Minute)) || at.After(now) {
			t.Errorf("%s printed the time %s, want one within the run, which ended at about %s",
				name, at.Format(time.DateTime), now.UTC().Format(time.DateTime))
		}
	}
	p1, ok1 := times[barrierNames[0]]
	p2, ok2 := times[barrierNames[1]]
	if d := p1.Sub(p2).Abs(); ok1 && ok2 && d > time.Second {
		t.Errorf("p1 and p2 took their times %v apart, want them within 1 s: both go on once both reached the barrier", d)
	}
	if ok1 && ok2 {
		if err := barrierWaited(all, times, log); err != nil {
			t.Error(err)
		}
	}
	checkSame(t, per, "MainProcess", "All processes reached the barrier.")
	checkLast(t, all, "All processes reached the barrier.")
}

// barrierTimes checks that each child of processes_barrier printed one
// line, its name and a time, and returns the times, by name.
func barrierTimes(t *testing.T, per map[string][]string) map[string]time.Time {
	t.Helper()
	times := map[string]time.Time{}
	for _, name := range barrierNames {
		got := per[name]
		if len(got) != 1 {
			t.Errorf("%s printed %q, want one line", name, got)
			continue
		}
		m := barrierLine.FindStringSubmatch(got[0])
		if m == nil || m[1] != name {
			t.Errorf("%s printed %q, want \"process %s ----> YYYY-MM-DD HH:MM:SS.ffffff\"", name, got[0], name)
			continue
		}
		layout := time.DateTime
		if strings.Contains(m[2], ".") {
			layout += ".000000"
		}
		at, err := time.ParseInLocation(layout, m[2], time.UTC)
		if err != nil {
			t.Errorf("%s printed %q: %v", name, got[0], err)
			continue
		}
		times[name] = at
	}
	return times
}

// barrierWaitCall matches the line of the sandbox's trace log that shows a
// barrier_wait call reaching the host: the host's clock (hclog's time
// format) and the caller's pid.
var barrierWaitCall = regexp.MustCompile(`^(\S+) \[TRACE\] +sandbox\..*: ==> barrier_wait\(.*\): pid=([1-9][0-9]*)$`)

// barrierWaited checks processes_barrier's rule against the trace log:
// p1 and p2 each made one barrier_wait call, and each printed a time at
// or after the later of the two calls' arrival at the host. all is the
// run's output (which gives each process's pid), times the times p1 and
// p2 printed.
//
// The comparison needs no tolerance: the log's time is the host's clock
// when the later call arrived, before the host answered either wait, and
// it is truncated to the millisecond (Go's time formatting truncates), so
// it is at most the real arrival time; each guest reads the same machine
// clock after its wait returned, so later still, and prints it rounded to
// the microsecond, which cannot take it below the whole millisecond the
// log shows. A process that went on without waiting for the other prints
// a time before the other's call arrived (milliseconds to a second before,
// since the children start one after another).
func barrierWaited(all []printed, times map[string]time.Time, log string) error {
	pids := map[string]string{} // name -> pid
	for _, l := range all {
		pids[l.proc] = l.pid
	}
	arrived := map[string][]time.Time{} // pid -> arrival of each barrier_wait call
	for _, l := range strings.Split(log, "\n") {
		m := barrierWaitCall.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05.000Z0700", m[1])
		if err != nil {
			return fmt.Errorf("log line %q: %v", l, err)
		}
		arrived[m[2]] = append(arrived[m[2]], at)
	}
	var last time.Time // the later arrival
	var lastBy string
	for _, name := range barrierNames[:2] {
		calls := arrived[pids[name]]
		if len(calls) != 1 {
			return fmt.Errorf("%s (pid %s) made %d barrier_wait calls, want 1; the log shows every call at trace level",
				name, pids[name], len(calls))
		}
		if calls[0].After(last) {
			last, lastBy = calls[0], name
		}
	}
	var errs []error
	for _, name := range barrierNames[:2] {
		if at := times[name]; at.Before(last) {
			errs = append(errs, fmt.Errorf("%s printed the time %s, before %s's barrier_wait call reached the host at %s: "+
				"it went on before both reached the barrier", name, at.Format("15:04:05.000000"), lastBy,
				last.UTC().Format("15:04:05.000")))
		}
	}
	return errors.Join(errs...)
}

var (
	queueAppended = regexp.MustCompile(`^Process Producer : item ([0-9]+) appended to queue producer-1$`)
	queueSize     = regexp.MustCompile(`^The size of queue is ([0-9]+)$`)
	// The original's string literal continues, after "popped \", with the
	// 24 spaces that indent the next line of the script.
	queuePopped = regexp.MustCompile(`^Process Consumer : item ([0-9]+) popped {25}from by consumer-2 $`)
)

// communicating_with_queue: producer-1 puts 10 random ints in 0..256, one
// a second, printing each and then the queue's size. consumer-2 stops at
// its first check that finds the queue empty; otherwise it gets an item
// every 3 s. Its first check races the first put: it finds the queue
// empty and gets nothing, or it finds the first item, and then, taking one
// item every 3 s while three are put, never finds the queue empty again
// before it has got all ten. The items it gets are those put, in order
// (FIFO). Each size printed is the puts so far less the gets so far when
// the size was read: the gets are counted from the consumer's lines
// printed before the size line, give or take the one get that may fall
// between reading the size and printing it. MainProcess prints the two
// sample lines last: the first item put, and the first item got (or that
// there was none).
func checkCommunicatingWithQueue(t *testing.T, stdout string) {
	all, per := byProcess(t, stdout)
	checkProcesses(t, per, "MainProcess", "producer-1", "consumer-2")

	// producer-1: 10 × (appended, size), each item in 0..256.
	var put []string
	prod := per["producer-1"]
	if len(prod) != 20 {
		t.Errorf("producer-1 printed %d lines, want 20:\n%q", len(prod), prod)
	}
	for i, l := range prod {
		re := queueAppended
		if i%2 == 1 {
			re = queueSize
		}
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("producer-1's line %d is %q, want a match of %s", i+1, l, re)
			continue
		}
		if i%2 == 0 {
			if n, _ := strconv.Atoi(m[1]); n > 256 {
				t.Errorf("producer-1 put %d, want an int in 0..256", n)
			}
			put = append(put, m[1])
		}
	}

	// consumer-2: n × (popped, empty line), then "the queue is empty".
	var got []string
	cons := per["consumer-2"]
	for i := 0; i+1 < len(cons); i += 2 {
		m := queuePopped.FindStringSubmatch(cons[i])
		if m == nil || cons[i+1] != "" {
			t.Errorf("consumer-2's lines %d-%d are %q, want a match of %s and an empty line", i+1, i+2, cons[i:i+2], queuePopped)
			break
		}
		got = append(got, m[1])
	}
	if len(cons) == 0 || cons[len(cons)-1] != "the queue is empty" || len(cons) != 2*len(got)+1 {
		t.Errorf("consumer-2 printed\n%q\nwant its items, each followed by an empty line, then \"the queue is empty\"", cons)
	}
	if len(got) != 0 && len(got) != 10 {
		t.Errorf("consumer-2 got %d items, want 0 (it found the queue empty first) or all 10", len(got))
	}
	if len(got) > len(put) || !slices.Equal(got, put[:len(got)]) {
		t.Errorf("consumer-2 got %q, want the items put, in order: %q", got, put)
	}

	// The sizes, against the gets printed before each.
	pops, sizes := 0, 0
	for _, l := range all {
		switch {
		case l.proc == "consumer-2" && queuePopped.MatchString(l.text):
			pops++
		case l.proc == "producer-1" && queueSize.MatchString(l.text):
			sizes++
			k, _ := strconv.Atoi(queueSize.FindStringSubmatch(l.text)[1])
			gets := sizes - k // when the size was read
			if gets < 0 || gets > len(got) || gets < pops-1 || gets > pops+1 {
				t.Errorf("size %d after %d puts means %d gets, but consumer-2 had printed %d of its %d gets",
					k, sizes, gets, pops, len(got))
			}
		}
	}

	// MainProcess: the sample lines, last.
	if len(put) == 0 {
		return
	}
	sample := []string{"Process producer-1 added item to queue: " + put[0],
		"Process consumer-2 received no item from queue: it found the queue empty"}
	if len(got) > 0 {
		sample[1] = "Process consumer-2 received item from queue: " + got[0]
	}
	checkSame(t, per, "MainProcess", sample...)
	checkLast(t, all, sample[1])
}

// TestCheckCommunicatingWithQueue checks that the checker accepts both
// outcomes of the race, and sizes that a get falling between reading the
// size and printing it leaves off by one. Real runs nearly always show
// the second outcome.
func TestCheckCommunicatingWithQueue(t *testing.T) {
	items := []int{5, 256, 0, 17, 99, 3, 140, 77, 200, 1}
	appended := func(b *strings.Builder, i int) {
		fmt.Fprintf(b, "[producer-1 7] Process Producer : item %d appended to queue producer-1\n", items[i])
	}
	size := func(b *strings.Builder, k int) { fmt.Fprintf(b, "[producer-1 7] The size of queue is %d\n", k) }
	popped := func(b *strings.Builder, i int) {
		fmt.Fprintf(b, "[consumer-2 8] Process Consumer : item %d popped %sfrom by consumer-2 \n[consumer-2 8] \n",
			items[i], strings.Repeat(" ", 24))
	}
	t.Run("empty first", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("[consumer-2 8] the queue is empty\n")
		for i := range 10 {
			appended(&b, i)
			size(&b, i+1)
		}
		b.WriteString("[MainProcess 6] Process producer-1 added item to queue: 5\n")
		b.WriteString("[MainProcess 6] Process consumer-2 received no item from queue: it found the queue empty\n")
		checkCommunicatingWithQueue(t, b.String())
	})
	t.Run("all ten", func(t *testing.T) {
		// Gets at about 2, 5, 8, ... s; puts at 0..9 s; the size read at
		// 2 s missed the get at 2 s, whose line came first.
		var b strings.Builder
		pops := 0
		for i := range 10 {
			appended(&b, i)
			if i == 2 || i == 5 || i == 8 {
				popped(&b, pops)
				pops++
			}
			k := i + 1 - pops
			if i == 2 {
				k++
			}
			size(&b, k)
		}
		for ; pops < 10; pops++ {
			popped(&b, pops)
		}
		b.WriteString("[consumer-2 8] the queue is empty\n")
		b.WriteString("[MainProcess 6] Process producer-1 added item to queue: 5\n")
		b.WriteString("[MainProcess 6] Process consumer-2 received item from queue: 5\n")
		checkCommunicatingWithQueue(t, b.String())
	})
}

// TestCheckProcessesBarrier checks that barrierWaited accepts a real run
// and a time printed in the very millisecond the log shows, and rejects
// the runs of broken copies of the guest (built outside the repository):
// one that does not wait at all, one whose barrier lets each wait through
// (Barrier(1)), and one that takes the time before waiting. The old check
// alone (p1's and p2's times within 1 s) accepted all three.
func TestCheckProcessesBarrier(t *testing.T) {
	const (
		p1 = "[p1 - test_with_barrier 10] process p1 - test_with_barrier ----> "
		p2 = "[p2 - test_with_barrier 11] process p2 - test_with_barrier ----> "
		// The log's lines, with the host's time.
		wait1 = " [TRACE] sandbox.p1 - test_with_barrier: ==> barrier_wait(handle=2, timeout=none): pid=10\n"
		done1 = " [TRACE] sandbox.p1 - test_with_barrier: <== ok index=1, run_action=0: pid=10\n"
		wait2 = " [TRACE] sandbox.p2 - test_with_barrier: ==> barrier_wait(handle=2, timeout=none): pid=11\n"
		done2 = " [TRACE] sandbox.p2 - test_with_barrier: <== ok index=0, run_action=0: pid=11\n"
		lock1 = " [TRACE] sandbox.p1 - test_with_barrier: ==> lock_acquire(handle=3, timeout=none): pid=10\n"
	)
	for _, tc := range []struct {
		name, stdout, log string
		ok                bool
	}{{
		name: "waited",
		stdout: p2 + "2026-11-25 20:12:11.370387\n" +
			p1 + "2026-11-25 20:12:11.376568\n",
		log: "2026-11-25T20:12:11.131Z" + wait1 +
			"2026-11-25T20:12:11.370Z" + wait2 +
			"2026-11-25T20:12:11.370Z" + done2 +
			"2026-11-25T20:12:11.370Z" + done1 +
			"2026-11-25T20:12:11.380Z" + lock1,
		ok: true,
	}, {
		name: "in the millisecond of the later call, on a host east of UTC",
		stdout: p1 + "2026-11-25 20:12:11\n" +
			p2 + "2026-11-25 20:12:11.000001\n",
		log: "2026-11-25T21:12:10.500+0100" + wait1 +
			"2026-11-25T21:12:11.000+0100" + wait2,
		ok: true,
	}, {
		name: "no wait",
		stdout: p1 + "2026-11-25 20:14:07.043750\n" +
			p2 + "2026-11-25 20:14:07.368399\n",
		log: "2026-11-25T20:14:07.044Z" + lock1,
	}, {
		name: "Barrier(1)",
		stdout: p1 + "2026-11-25 20:14:11.736637\n" +
			p2 + "2026-11-25 20:14:12.076591\n",
		log: "2026-11-25T20:14:11.736Z" + wait1 +
			"2026-11-25T20:14:11.736Z" + done1 +
			"2026-11-25T20:14:12.076Z" + wait2 +
			"2026-11-25T20:14:12.076Z" + done2,
	}, {
		name: "time taken before the wait",
		stdout: p1 + "2026-11-25 20:14:15.437531\n" +
			p2 + "2026-11-25 20:14:16.017879\n",
		log: "2026-11-25T20:14:15.437Z" + wait1 +
			"2026-11-25T20:14:16.017Z" + wait2 +
			"2026-11-25T20:14:16.017Z" + done2 +
			"2026-11-25T20:14:16.017Z" + done1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			all, per := byProcess(t, tc.stdout)
			times := barrierTimes(t, map[string][]string{
				barrierNames[0]: per[barrierNames[0]], barrierNames[1]: per[barrierNames[1]],
				barrierNames[2]: {"process p3 - test_without_barrier ----> 2026-11-25 20:12:11"},
				barrierNames[3]: {"process p4 - test_without_barrier ----> 2026-11-25 20:12:11"},
			})
			err := barrierWaited(all, times, tc.log)
			if tc.ok && err != nil {
				t.Errorf("a run that waited is refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("a run that did not wait is accepted")
			}
			if !tc.ok && err != nil {
				t.Logf("refused: %v", err)
			}
			if !onlyTraceAndDebug(tc.log) {
				t.Errorf("the log has lines above DEBUG")
			}
		})
	}
}
