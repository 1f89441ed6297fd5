package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/grade"
	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// chapter3Full makes TestChapter3 give each wrong student the reference
// module of every other exercise, as a real class would hand in: a wrong
// submission then scores 100 minus its bug. Off by default: it grades
// the whole chapter once per wrong student (some five minutes on two
// cores, communicating_with_queue alone running 10 to 33 s a time).
var chapter3Full = flag.Bool("chapter3.full", false, "TestChapter3: give every wrong student the reference of the other exercises")

// A wrongCase is a deliberately wrong submission (grading/README.md), the
// folder grading/wrong/STUDENT/EXERCISE, and what its bug must cost it.
type wrongCase struct {
	student, exercise string
	// fails are the tests its bug fails, each with words its feedback
	// must hold; every other test of the exercise must pass.
	fails map[string][]string
	// racy: the bug shows only when the processes interleave badly, so a
	// failing test may be reported flaky (some runs passed) instead of
	// failed; it scores 0 either way.
	racy bool
	// maybe are tests the bug fails only on some schedules, which the run
	// may not take at all (passed, or failed or flaky with these words in
	// their feedback): their points may be lost or not.
	maybe map[string][]string
}

var chapter3Wrong = []wrongCase{
	{
		student: "forgot_join", exercise: "spawning_processes",
		fails: map[string][]string{
			"each process is joined before the next one starts": {"before the previous one was joined", "join()"},
		},
		// The six processes run at the same time: their lines come out
		// of order, or the PIDs before them, only if a process is still
		// running when the next starts or when MainProcess prints (each
		// prints a few lines: a start of a few ms is often enough for it
		// to finish, as with CPython's fork).
		maybe: map[string][]string{
			"myFunc's lines in order, then the PIDs": {"21 lines in order", "finish before the next one starts"},
		},
	},
	{
		student: "no_terminate", exercise: "killing_processes",
		fails: map[string][]string{
			"the main process terminates Process-1":          {"terminate()", "-15", `"Finished function"`},
			"the main process shows each state of Process-1": {"exit code -15"},
		},
	},
	{
		student: "open_pipe_end", exercise: "communicating_with_pipe",
		fails: map[string][]string{
			"the squares in order, then End":        {`then "End" when the second pipe is closed`},
			"every reader sees the end of its pipe": {"waited forever to receive from a pipe", "every copy of the sending end is closed", `ended as "deadlock"`},
		},
	},
	{
		student: "barrier_of_four", exercise: "processes_barrier",
		fails: map[string][]string{
			"p1 and p2 wait for each other at the barrier, then print": {"print only after both have reached the barrier", "the barrier's size"},
			"every process ends, the main process's line last":         {"waited at the barrier for parties that never came", `ended as "deadlock"`},
		},
	},
	{
		student: "pool_unordered", exercise: "process_pool",
		fails: map[string][]string{
			"map returns the squares in input order": {"in the order of the inputs", "imap_unordered"},
		},
		racy: true,
	},
	{
		student: "namespace_race", exercise: "spawning_processes_namespace",
		fails: map[string][]string{
			"the namespace holds 42, set by a child process": {`"Namespace value: 42"`, "without a Lock"},
		},
		racy: true,
	},
	{
		student: "not_a_daemon", exercise: "run_background_processes",
		fails: map[string][]string{
			"background_process is a daemon, stopped when the main process ends": {"should be a daemon", "daemon = True", `printed its "Exiting" line`},
		},
	},
}

// TestChapter3 grades, with grading/chapter3.yaml, the reference guests
// (full marks) and every deliberately wrong submission of grading/wrong
// (each loses the points of the tests its bug fails, and nothing else,
// with feedback that says why).
func TestChapter3(t *testing.T) {
	root := testutil.RepoRoot(t)
	specFile := filepath.Join(root, "grading", "chapter3.yaml")
	spec, err := grade.LoadSpec(specFile)
	if err != nil {
		t.Fatal(err)
	}
	exercises := map[string]*grade.Exercise{}
	for i := range spec.Exercises {
		exercises[spec.Exercises[i].Name] = &spec.Exercises[i]
	}
	maxScore := points(spec.Exercises...)

	// Every wrong submission kept in the repository is graded here.
	dirs, err := filepath.Glob(filepath.Join(root, "grading", "wrong", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var kept, cases []string
	for _, d := range dirs {
		kept = append(kept, filepath.Base(filepath.Dir(d))+"/"+filepath.Base(d))
	}
	for _, c := range chapter3Wrong {
		cases = append(cases, c.student+"/"+c.exercise)
	}
	slices.Sort(kept)
	slices.Sort(cases)
	if !slices.Equal(kept, cases) {
		t.Fatalf("grading/wrong holds %v; the test knows %v", kept, cases)
	}

	subs := filepath.Join(t.TempDir(), "submissions")
	reference := func(student, except string) {
		t.Helper()
		for _, ex := range spec.Exercises {
			if ex.Name != except {
				copyFile(t, testutil.Guest(t, "guests/"+ex.Module), filepath.Join(subs, student, ex.Module+".wasm"))
			}
		}
	}
	reference("reference", "")
	for _, c := range chapter3Wrong {
		if exercises[c.exercise] == nil {
			t.Fatalf("%s: no exercise %s in the spec", c.student, c.exercise)
		}
		if err := os.CopyFS(filepath.Join(subs, c.student, c.exercise), os.DirFS(filepath.Join(root, "grading", "wrong", c.student, c.exercise))); err != nil {
			t.Fatal(err)
		}
		if *chapter3Full {
			reference(c.student, c.exercise)
		}
	}

	out := filepath.Join(t.TempDir(), "report")
	cmd := exec.Command("sandbox", "grade", "--spec", specFile, "--out", out, "--jobs", "2", "--progress=false", subs)
	cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("sandbox grade: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("graded %d submissions in %v", 1+len(chapter3Wrong), time.Since(began).Round(time.Second))
	f, err := os.Open(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := grade.ReadJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxScore != maxScore {
		t.Errorf("max score %v, want %v", rep.MaxScore, maxScore)
	}
	subByName := map[string]*grade.Submission{}
	for i := range rep.Submissions {
		subByName[rep.Submissions[i].Student] = &rep.Submissions[i]
	}

	t.Run("reference", func(t *testing.T) {
		sub := subByName["reference"]
		if sub == nil {
			t.Fatal("the reference was not graded")
		}
		if sub.Score != maxScore {
			t.Errorf("the reference scored %v of %v", sub.Score, maxScore)
		}
		for _, ex := range sub.Exercises {
			for _, tr := range ex.Tests {
				if tr.Status != grade.StatusPassed {
					t.Errorf("%s / %s: %s: %s\nchecks: %+v", ex.Name, tr.Name, tr.Status, tr.Feedback, tr.Checks)
				}
			}
		}
	})
	for _, c := range chapter3Wrong {
		t.Run(c.student, func(t *testing.T) {
			sub := subByName[c.student]
			if sub == nil {
				t.Fatalf("%s was not graded", c.student)
			}
			ex := exercises[c.exercise]
			for _, tests := range []map[string][]string{c.fails, c.maybe} {
				for name := range tests {
					if !slices.ContainsFunc(ex.Tests, func(test grade.Test) bool { return test.Name == name }) {
						t.Errorf("%s has no test %q", c.exercise, name)
					}
				}
			}
			// A test the bug fails on some schedules is lost when the
			// runs did not all pass it (flaky scores nothing).
			maybeLost := map[string]bool{}
			for _, er := range sub.Exercises {
				for _, tr := range er.Tests {
					if _, ok := c.maybe[tr.Name]; ok && er.Name == c.exercise && tr.Status != grade.StatusPassed {
						maybeLost[tr.Name] = true
					}
				}
			}
			var lost float64
			for _, test := range ex.Tests {
				if _, ok := c.fails[test.Name]; ok || maybeLost[test.Name] {
					lost += test.Points
				}
			}
			// The other exercises: missing, or the reference's full marks.
			others, want := grade.ExerciseMissing, points(*ex)-lost
			if *chapter3Full {
				others, want = grade.ExerciseRan, maxScore-lost
			}
			if sub.Score != want {
				t.Errorf("%s scored %v, want %v (%v of %s's %v lost)", c.student, sub.Score, want, lost, c.exercise, points(*ex))
			}
			for _, er := range sub.Exercises {
				if er.Name != c.exercise {
					if er.State != others || (others == grade.ExerciseRan) != (er.Score == er.MaxScore) {
						t.Errorf("%s: %s, scored %v of %v (want %s)", er.Name, er.State, er.Score, er.MaxScore, others)
					}
					continue
				}
				if er.State != grade.ExerciseRan || er.Source != c.exercise+"/" {
					t.Fatalf("%s: %s from %q: %s", er.Name, er.State, er.Source, er.Message)
				}
				for _, tr := range er.Tests {
					if words, maybe := c.maybe[tr.Name]; maybe {
						// Passed on the schedule the runs took, or failed
						// on some or all: then its feedback says why.
						t.Logf("%q: %s, %d of %d runs passed", tr.Name, tr.Status, passedRuns(tr), len(tr.Runs))
						if tr.Status != grade.StatusPassed && tr.Status != grade.StatusFailed && tr.Status != grade.StatusFlaky {
							t.Errorf("%q: %s: %s", tr.Name, tr.Status, tr.Feedback)
						}
						for _, w := range words {
							if tr.Status != grade.StatusPassed && !strings.Contains(tr.Feedback, w) {
								t.Errorf("%q: the feedback does not say %q:\n%s", tr.Name, w, tr.Feedback)
							}
						}
						continue
					}
					words, fails := c.fails[tr.Name]
					switch {
					case !fails && tr.Status != grade.StatusPassed:
						t.Errorf("%q: %s, want passed: %s\nchecks: %+v", tr.Name, tr.Status, tr.Feedback, tr.Checks)
					case fails && tr.Status == grade.StatusFlaky && c.racy:
						if !strings.Contains(tr.Feedback, "depends on timing") {
							t.Errorf("%q: flaky, and the feedback does not say the result depends on timing:\n%s", tr.Name, tr.Feedback)
						}
					case fails && tr.Status != grade.StatusFailed:
						t.Errorf("%q: %s, want failed: %s\nchecks: %+v", tr.Name, tr.Status, tr.Feedback, tr.Checks)
					}
					if fails && c.racy {
						t.Logf("%q: %s, %d of %d runs passed", tr.Name, tr.Status, passedRuns(tr), len(tr.Runs))
					}
					for _, w := range words {
						if !strings.Contains(tr.Feedback, w) {
							t.Errorf("%q: the feedback does not say %q:\n%s", tr.Name, w, tr.Feedback)
						}
					}
				}
			}
		})
	}
	if t.Failed() {
		t.Logf("summary:\n%s", stdout.String())
	}
}

// TestChapter3OrderCheck: the check forgot_join fails only on some
// schedules (its "maybe", which TestChapter3 may see pass) fails on the
// output of such a schedule, saying what its maybe words say: a process's
// lines after the next one's, or the PIDs before the last lines; and
// passes the output in order.
func TestChapter3OrderCheck(t *testing.T) {
	spec, err := grade.LoadSpec(filepath.Join(testutil.RepoRoot(t), "grading", "chapter3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const name = "myFunc's lines in order, then the PIDs"
	var words []string
	for _, c := range chapter3Wrong {
		if w, ok := c.maybe[name]; ok {
			words = w
		}
	}
	var test *grade.Test
	for i := range spec.Exercises {
		for j := range spec.Exercises[i].Tests {
			if spec.Exercises[i].Tests[j].Name == name {
				test = &spec.Exercises[i].Tests[j]
			}
		}
	}
	if test == nil || words == nil {
		t.Fatalf("no test %q in the spec, or no wrong case that may fail it", name)
	}
	var lines []string // process i's lines, in order, then the PIDs
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("calling myFunc from process n°: %d", i))
		for j := range i {
			lines = append(lines, fmt.Sprintf("output from myFunc is :%d", j))
		}
	}
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("Spawning new process with PID %d", 100+i))
	}
	swapped := slices.Clone(lines) // process 4's first line before process 3's last
	swapped[9], swapped[10] = swapped[10], swapped[9]
	early := append(append(slices.Clone(lines[:15]), lines[21:]...), lines[15:21]...) // the PIDs before process 5's lines
	for _, tt := range []struct {
		name   string
		lines  []string
		passes bool
	}{
		{"in order", lines, true},
		{"a process's line after the next one's", swapped, false},
		{"the PIDs before the last process's lines", early, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := &grade.Outcome{Verdict: "ok", MainRan: true, Stdout: strings.Join(tt.lines, "\n") + "\n"}
			passed, feedback := true, ""
			for i := range test.Checks {
				if r := test.Checks[i].Eval(o); !r.Passed {
					passed, feedback = false, feedback+r.Message
				}
			}
			if passed != tt.passes {
				t.Fatalf("passed %v, want %v (feedback %q)", passed, tt.passes, feedback)
			}
			for _, w := range words {
				if !passed && !strings.Contains(feedback, w) {
					t.Errorf("the feedback does not say %q: %s", w, feedback)
				}
			}
		})
	}
}

// points is what the exercises are worth.
func points(exs ...grade.Exercise) float64 {
	var p float64
	for _, ex := range exs {
		for _, t := range ex.Tests {
			p += t.Points
		}
	}
	return p
}

func passedRuns(tr grade.TestResult) int {
	n := 0
	for _, r := range tr.Runs {
		if r.Passed {
			n++
		}
	}
	return n
}

// copyFile copies the file src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
