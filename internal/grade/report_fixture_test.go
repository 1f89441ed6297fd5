package grade

import (
	"fmt"
	"strings"
)

// Secrets of the hidden test that no student-facing format may show.
const (
	repHiddenName     = "fib_of_90_overflows"
	repHiddenFeedback = "SECRET-HIDDEN-FEEDBACK"
	repHiddenGot      = "SECRET-HIDDEN-GOT"
)

// repClass is a graded class, built by hand as the grader would report it:
//
//	alice: every test of fib passed (one of them hidden); in workers, the
//	  test "order" is flaky (passed 2 of 3 runs, failed under a chaos
//	  seed) and "cleanup" (shown after the due date) passed: 6/10.
//	bob: fib did not build (the tests did not run, the compiler's message
//	  has XML characters); in workers, "order" failed on a time limit
//	  after printing 3,000 lines of unicode, "cleanup" passed: 1/10.
//	zoë: in fib, "small" failed with XML-special characters, ANSI colours
//	  and a NUL in its output, and the hidden test failed with secrets in
//	  its feedback; there is no workers at all: 0/10.
func repClass() *Report {
	seed := int64(7)
	long := repLongOutput(3000)
	return &Report{
		Version:  ReportVersion,
		Spec:     "spec.yaml",
		Title:    "Week 3: processes & pipes",
		MaxScore: 10,
		Submissions: []Submission{
			{Student: "alice", Score: 6, MaxScore: 10, Exercises: []ExerciseResult{
				{Name: "fib", State: ExerciseRan, Source: "fib/", Score: 5, MaxScore: 5, Tests: []TestResult{
					repPassed("small", 2, VisibilityVisible),
					repPassed(repHiddenName, 3, VisibilityHidden),
				}},
				{Name: "workers", State: ExerciseRan, Source: "workers.wasm", Score: 1, MaxScore: 5, Tests: []TestResult{
					{Name: "order", Score: 0, MaxScore: 4, Visibility: VisibilityVisible, Status: StatusFlaky,
						Feedback: "The workers' lines came out of order in one run.",
						Checks: []CheckResult{
							{Name: "exit code", Passed: true},
							{Name: "stdout lines", Passed: false,
								Expected: "these lines in order:\nworker 1\nworker 2",
								Got:      "worker 2\nworker 1\n",
								Message:  `The output differs at line 1: expected "worker 1", got "worker 2".`},
						},
						Runs: []Run{
							{Passed: true, Verdict: "ok", ExitStatus: 0, WallMs: 12.5, Processes: 3},
							{Passed: false, Verdict: "ok", ExitStatus: 0, Chaos: &seed, WallMs: 14.25, Processes: 3,
								Stdout: "worker 2\nworker 1\n"},
							{Passed: true, Verdict: "ok", ExitStatus: 0, WallMs: 11, Processes: 3},
						}},
					repPassed("cleanup", 1, VisibilityAfterDue),
				}},
			}},
			{Student: "bob", Score: 1, MaxScore: 10, Exercises: []ExerciseResult{
				{Name: "fib", State: ExerciseCompileError, Source: "fib/", Score: 0, MaxScore: 5,
					Message: "./fib.go:3:1: syntax error: non-declaration statement outside function body\n./fib.go:9:2: x < y && \"z\" declared and not used",
					Tests: []TestResult{
						repNotRun("small", 2, VisibilityVisible),
						repNotRun(repHiddenName, 3, VisibilityHidden),
					}},
				{Name: "workers", State: ExerciseRan, Source: "workers/", Score: 1, MaxScore: 5, Tests: []TestResult{
					{Name: "order", Score: 0, MaxScore: 4, Visibility: VisibilityVisible, Status: StatusFailed,
						Feedback: "The program did not finish in time: it printed without end.\nDoes a worker loop forever?",
						Checks: []CheckResult{
							{Name: "verdict", Passed: false, Expected: "ok", Got: "time_limit",
								Message: "The run ended with time_limit, not ok."},
							{Name: "stdout lines", Passed: false, Expected: "these lines in order:\nworker 1\nworker 2",
								Got: long, Message: "The output has 2998 lines more than the 2 expected."},
						},
						Runs: []Run{{Passed: false, Verdict: "time_limit", ExitStatus: 124,
							Explanation: "the run reached its time limit of 2s; every process was killed",
							WallMs:      2000, CPUMs: 1990, PeakMemory: 1 << 24, Processes: 5, Stdout: long,
							Stderr: "panic: ⚠ überlauf\n"}}},
					repPassed("cleanup", 1, VisibilityAfterDue),
				}},
			}},
			{Student: "zoë", Score: 0, MaxScore: 10, Exercises: []ExerciseResult{
				{Name: "fib", State: ExerciseRan, Source: "fib/", Score: 0, MaxScore: 5, Tests: []TestResult{
					{Name: "small", Score: 0, MaxScore: 2, Visibility: VisibilityVisible, Status: StatusFailed,
						Feedback: "The output is not exactly as expected: <b>&amp;</b> ]]> \x1b[31mred\x1b[0m",
						Checks: []CheckResult{{Name: "stdout", Passed: false,
							Expected: "exactly:\n55\n", Got: "<55> & \"quoted\" ]]>\x00\n```\n",
							Message: "The output is not exactly as expected."}},
						Runs: []Run{{Passed: false, Verdict: "ok", WallMs: 3, Processes: 1,
							Stdout: "<55> & \"quoted\" ]]>\x00\n```\n"}}},
					{Name: repHiddenName, Score: 0, MaxScore: 3, Visibility: VisibilityHidden, Status: StatusFailed,
						Feedback: repHiddenFeedback,
						Checks: []CheckResult{{Name: "stdout", Passed: false, Expected: "exactly:\n2880067194370816120\n",
							Got: repHiddenGot, Message: repHiddenFeedback}},
						Runs: []Run{{Passed: false, Verdict: "ok", WallMs: 4, Processes: 1, Stdout: repHiddenGot}}},
				}},
				{Name: "workers", State: ExerciseMissing, Score: 0, MaxScore: 5, Tests: []TestResult{
					repNotRun("order", 4, VisibilityVisible),
					repNotRun("cleanup", 1, VisibilityAfterDue),
				}},
			}},
		},
	}
}

// repPassed is a test that passed in one run.
func repPassed(name string, maxScore float64, vis string) TestResult {
	return TestResult{Name: name, Score: maxScore, MaxScore: maxScore, Visibility: vis, Status: StatusPassed,
		Checks: []CheckResult{{Name: "stdout", Passed: true}},
		Runs:   []Run{{Passed: true, Verdict: "ok", WallMs: 5, CPUMs: 4, PeakMemory: 1 << 20, Processes: 1}}}
}

// repNotRun is a test of an exercise that did not run.
func repNotRun(name string, maxScore float64, vis string) TestResult {
	return TestResult{Name: name, MaxScore: maxScore, Visibility: vis, Status: StatusNotRun}
}

// repLongOutput is n lines of output with multibyte characters.
func repLongOutput(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "worker %d: ünïcödé ✓ 日本語\n", i)
	}
	return b.String()
}

// repStudent returns the submission of a student of the class.
func repStudent(r *Report, name string) *Submission {
	for i := range r.Submissions {
		if r.Submissions[i].Student == name {
			return &r.Submissions[i]
		}
	}
	panic("no student " + name)
}
