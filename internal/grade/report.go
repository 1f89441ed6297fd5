// Package grade grades submissions against a spec: which exercises to look
// for in each submission, how to run them (limits, arguments, input), and
// what to check in each run (exit code, verdict, output, per-process
// output, the event log). Its Report is what every report format is
// written from, and what the shards of a graded class write and merge.
package grade

// ReportVersion is the version of the JSON report's schema.
const ReportVersion = 1

// Report is the result of grading a set of submissions. It holds nothing
// that changes from one grading of the same submissions to the next but
// measurements (times, memory), so that reports can be compared.
type Report struct {
	Version int    `json:"version"`
	Spec    string `json:"spec"`            // the spec file's name
	Title   string `json:"title,omitempty"` // the spec's title
	// Submissions are sorted by student.
	Submissions []Submission `json:"submissions"`
	// MaxScore is what a submission can score.
	MaxScore float64 `json:"max_score"`
}

// Submission is one student's graded work.
type Submission struct {
	Student   string           `json:"student"` // the submission folder's name
	Score     float64          `json:"score"`
	MaxScore  float64          `json:"max_score"`
	Exercises []ExerciseResult `json:"exercises"` // in the spec's order
}

// The states of an exercise in a submission.
const (
	ExerciseRan          = "ran"            // built (or given as .wasm) and run
	ExerciseMissing      = "missing"        // the submission has no such module or folder
	ExerciseCompileError = "compile_error"  // the Go folder did not build
	ExerciseInvalid      = "invalid_module" // the module cannot run
)

// ExerciseResult is one exercise of one submission.
type ExerciseResult struct {
	Name     string       `json:"name"`
	State    string       `json:"state"`             // ExerciseRan, ExerciseMissing, ...
	Source   string       `json:"source,omitempty"`  // what was found, relative to the submission
	Message  string       `json:"message,omitempty"` // why it did not run: the compiler's message, ...
	Score    float64      `json:"score"`
	MaxScore float64      `json:"max_score"`
	Tests    []TestResult `json:"tests"` // in the spec's order; every test, run or not
}

// The statuses of a test.
const (
	StatusPassed = "passed"  // every run passed every check
	StatusFailed = "failed"  // every run failed a check
	StatusFlaky  = "flaky"   // some runs passed and some failed: scored as failed
	StatusNotRun = "not_run" // the exercise did not run (missing, compile error)
)

// Visibility says when a student may see a test (as Gradescope says it).
const (
	VisibilityVisible   = "visible"
	VisibilityHidden    = "hidden"
	VisibilityAfterDue  = "after_due_date"
	VisibilityPublished = "after_published"
)

// TestResult is one test of one exercise of one submission.
type TestResult struct {
	Name       string  `json:"name"`
	Score      float64 `json:"score"`
	MaxScore   float64 `json:"max_score"`
	Visibility string  `json:"visibility"`
	Status     string  `json:"status"`
	// Feedback says, in plain words for the student, what went wrong
	// (empty when the test passed).
	Feedback string `json:"feedback,omitempty"`
	// Checks are the checks of the first run that failed, or of the last
	// run when all passed.
	Checks []CheckResult `json:"checks"`
	// Runs are the test's runs (more than one when the spec repeats it).
	Runs []Run `json:"runs"`
}

// CheckResult is one check of one run.
type CheckResult struct {
	Name     string `json:"name"` // as the spec names it, or made from it: "stdout contains"
	Passed   bool   `json:"passed"`
	Expected string `json:"expected,omitempty"` // what the check wanted, as text
	Got      string `json:"got,omitempty"`      // what the run did, as text (an excerpt)
	Message  string `json:"message,omitempty"`  // for the student, when it failed
}

// Run is one run of a test.
type Run struct {
	Passed      bool   `json:"passed"`
	Verdict     string `json:"verdict"`
	Explanation string `json:"explanation"`
	ExitStatus  int    `json:"exit_status"`
	// Chaos is the seed of the perturbation the run was made under, if
	// any (a failing seed replays it).
	Chaos *int64 `json:"chaos,omitempty"`
	// Measurements: not compared between gradings.
	WallMs     float64 `json:"wall_ms"`
	CPUMs      int64   `json:"cpu_ms"`
	PeakMemory int64   `json:"peak_memory_bytes"`
	Processes  int     `json:"processes"`
	// Excerpts of what the run printed (the first and last lines when
	// long).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// Timeline is the file name of the run's HTML timeline, relative to
	// the report's folder, when the report keeps timelines.
	Timeline string `json:"timeline,omitempty"`
}
