package grade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Config is one grading.
type Config struct {
	Spec *Spec
	// Submissions is the folder of submissions: one folder per student.
	Submissions string
	// Sandbox is the command of the sandbox CLI ({exe}); every run is
	// `sandbox run` in a process of its own.
	Sandbox []string
	// Build builds the Go folder dir into the module out; a
	// *CompileError (or any error that says so with IsCompileError) is
	// the student's, others are the grader's.
	Build func(ctx context.Context, dir, out string) error
	// Jobs is how many exercises are graded at once (at least 1).
	Jobs int
	// WorkDir holds built modules and each run's files; Timelines keeps
	// every run's HTML timeline there for the HTML report.
	WorkDir   string
	Timelines bool
	// CacheDir is the compilation cache of the runs: a module is
	// compiled once and every test of it reuses it.
	CacheDir string
	// Shard and Shards grade every Shards-th submission from the
	// Shard-th (0-based; Shards 0 or 1: all).
	Shard, Shards int
	// Progress, if not nil, is told of every exercise graded.
	Progress func(done, total int, student, exercise string)
}

// CompileError is a student's module that does not build; its message
// is the compiler's.
type CompileError struct{ Msg string }

func (e *CompileError) Error() string { return e.Msg }

// Submissions lists the students of a folder of submissions: its
// sub-folders, sorted, hidden ones left out.
func Submissions(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("submissions: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Grade grades every submission (of its shard) and returns the report.
func Grade(ctx context.Context, cfg Config) (*Report, error) {
	students, err := Submissions(cfg.Submissions)
	if err != nil {
		return nil, err
	}
	if cfg.Shards > 1 {
		var mine []string
		for i, s := range students {
			if i%cfg.Shards == cfg.Shard {
				mine = append(mine, s)
			}
		}
		students = mine
	}
	rep := &Report{Version: ReportVersion, Spec: cfg.Spec.path, Title: cfg.Spec.Title, MaxScore: cfg.Spec.maxScore()}
	rep.Submissions = make([]Submission, len(students))
	type job struct{ s, e int }
	var jobs []job
	for i, st := range students {
		rep.Submissions[i] = Submission{Student: st, MaxScore: rep.MaxScore, Exercises: make([]ExerciseResult, len(cfg.Spec.Exercises))}
		for j := range cfg.Spec.Exercises {
			jobs = append(jobs, job{i, j})
		}
	}
	r := &runner{sandbox: cfg.Sandbox, cacheDir: cfg.CacheDir}
	work := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	var failed error
	for range max(1, cfg.Jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range work {
				sub := &rep.Submissions[jb.s]
				ex := &cfg.Spec.Exercises[jb.e]
				res, err := gradeExercise(ctx, &cfg, r, sub.Student, ex)
				mu.Lock()
				if err != nil && failed == nil {
					failed = fmt.Errorf("%s, %s: %w", sub.Student, ex.Name, err)
				}
				sub.Exercises[jb.e] = res
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, len(jobs), sub.Student, ex.Name)
				}
				mu.Unlock()
			}
		}()
	}
	for _, jb := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- jb
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if failed != nil {
		return nil, failed
	}
	for i := range rep.Submissions {
		sub := &rep.Submissions[i]
		for _, ex := range sub.Exercises {
			sub.Score += ex.Score
		}
	}
	return rep, nil
}

// maxScore is what a submission can score.
func (s *Spec) maxScore() float64 {
	var m float64
	for _, ex := range s.Exercises {
		m += ex.maxScore()
	}
	return m
}

func (ex *Exercise) maxScore() float64 {
	var m float64
	for _, t := range ex.Tests {
		m += t.Points
	}
	return m
}

// gradeExercise finds, builds and runs one exercise of one submission.
// An error is the grader's (a run that could not be made), not the
// student's.
func gradeExercise(ctx context.Context, cfg *Config, r *runner, student string, ex *Exercise) (ExerciseResult, error) {
	res := ExerciseResult{Name: ex.Name, MaxScore: ex.maxScore()}
	notRun := func(state, msg string) (ExerciseResult, error) {
		res.State, res.Message = state, msg
		for _, t := range ex.Tests {
			res.Tests = append(res.Tests, TestResult{Name: t.Name, MaxScore: t.Points, Visibility: t.Visibility, Status: StatusNotRun, Feedback: msg, Checks: []CheckResult{}, Runs: []Run{}})
		}
		return res, nil
	}
	subDir := filepath.Join(cfg.Submissions, student)
	work := filepath.Join(cfg.WorkDir, student, ex.Name)
	var module string
	wasm := filepath.Join(subDir, ex.Module+".wasm")
	src := filepath.Join(subDir, ex.Module)
	if fi, err := os.Stat(wasm); err == nil && fi.Mode().IsRegular() {
		module, res.Source = wasm, ex.Module+".wasm"
	} else if fi, err := os.Stat(src); err == nil && fi.IsDir() {
		res.Source = ex.Module + "/"
		if err := os.MkdirAll(work, 0o755); err != nil {
			return res, err
		}
		module = filepath.Join(work, ex.Module+".wasm")
		if err := cfg.Build(ctx, src, module); err != nil {
			var ce *CompileError
			if errors.As(err, &ce) {
				return notRun(ExerciseCompileError, "The program does not compile: "+ce.Msg)
			}
			return res, fmt.Errorf("build: %w", err)
		}
	} else {
		return notRun(ExerciseMissing, fmt.Sprintf("The submission has no %s.wasm and no folder %s.", ex.Module, ex.Module))
	}
	flags := flagsOf(DefaultLimits, cfg.Spec.Limits, ex.Limits)
	res.State = ExerciseRan
	for ti := range ex.Tests {
		t := &ex.Tests[ti]
		tr := TestResult{Name: t.Name, MaxScore: t.Points, Visibility: t.Visibility}
		passed, failedYet := 0, false
		for rep := range t.Repeat {
			dir := filepath.Join(work, fmt.Sprintf("test%d-run%d", ti+1, rep+1))
			var chaos int64
			if t.Chaos {
				chaos = int64(rep + 1)
			}
			o, run, err := r.run(ctx, dir, module, flags, t, cfg.Timelines, chaos)
			if err != nil {
				return res, err
			}
			if o.Verdict == "invalid_module" {
				return notRun(ExerciseInvalid, "The module cannot run: "+o.Explanation)
			}
			checks := make([]CheckResult, len(t.Checks))
			run.Passed = true
			for i := range t.Checks {
				checks[i] = t.Checks[i].Eval(o)
				run.Passed = run.Passed && checks[i].Passed
			}
			if cfg.Timelines {
				run.Timeline, _ = filepath.Rel(cfg.WorkDir, filepath.Join(dir, "timeline.html"))
			}
			tr.Runs = append(tr.Runs, run)
			if run.Passed {
				passed++
			}
			// The checks shown: the first failing run's, else the last's.
			if !failedYet {
				tr.Checks, failedYet = checks, !run.Passed
			}
		}
		switch {
		case passed == t.Repeat:
			tr.Status, tr.Score = StatusPassed, t.Points
		case passed == 0:
			tr.Status = StatusFailed
		default:
			tr.Status = StatusFlaky
		}
		tr.Feedback = feedback(&tr, passed, t.Repeat)
		res.Score += tr.Score
		res.Tests = append(res.Tests, tr)
	}
	return res, nil
}

// feedback says in plain words why a test failed.
func feedback(tr *TestResult, passed, runs int) string {
	if tr.Status == StatusPassed {
		return ""
	}
	var msgs []string
	for _, c := range tr.Checks {
		if !c.Passed && c.Message != "" {
			msgs = append(msgs, c.Message)
		}
	}
	if len(msgs) == 0 {
		msgs = []string{"A check failed."}
	}
	text := strings.Join(msgs, "\n")
	if tr.Status == StatusFlaky {
		text = fmt.Sprintf("Passed %d of %d runs: the result depends on timing, which points to a race (processes sharing data without a lock, or relying on the order in which they run). In a failing run: ", passed, runs) + text
	}
	return text
}
