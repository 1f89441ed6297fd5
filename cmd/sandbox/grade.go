package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/sandbox-dev/sandbox/internal/build"
	"github.com/sandbox-dev/sandbox/internal/grade"
)

const gradeUsage = `Usage:
  sandbox grade --spec SPEC.yaml [flags] SUBMISSIONS/

Grades every submission of SUBMISSIONS/ (one folder per student, holding,
for each exercise of the spec, MODULE.wasm or a folder MODULE of Go source,
built with 'sandbox build') against the spec (docs/GRADING.md). Every test
runs under 'sandbox run' in a process of its own, with the spec's limits;
several exercises are graded at once (--jobs). Writes the reports into
--out: report.json (everything), report.html (for the teacher: students x
exercises, every failure with its feedback and its run's timeline under
timelines/), junit.xml, summary.txt, and per student STUDENT/feedback.md,
STUDENT/gradescope.json, STUDENT/prairielearn.json; the summary table goes
to stdout too.

On a cluster, each shard grades every Nth submission (--shard I/N, or the
index of a Kubernetes Indexed Job or a Slurm job array: docs/cluster/), and
'sandbox grade merge' combines the shards' report.json files into every
report, as one grading would have written them.

Examples:
  sandbox grade --spec grading/chapter3.yaml submissions/
  sandbox grade --spec grading/chapter3.yaml --jobs 4 --out report/ submissions/
  sandbox grade --spec spec.yaml --shard 0/2 --out shard-0 submissions/
  sandbox grade merge --out report/ shard-0/report.json shard-1/report.json

Exit status:
  0        every submission was graded (whatever the scores)
  2        usage error
  4        the spec is invalid (each mistake is named with its file, line
           and field)
  125      internal error: a run could not be made
  130      interrupted (SIGINT, SIGTERM)

Flags:
`

// exitBadSpec is the status of `sandbox grade` for an invalid spec.
const exitBadSpec = 4

type gradeFlags struct {
	spec     string
	jobs     int
	out      string
	work     string
	cacheDir string
	shard    string
	progress bool
}

func cmdGrade(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return cmdGradeMerge(args[1:], stdout, stderr)
	}
	var f gradeFlags
	fs := pflag.NewFlagSet("grade", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.SortFlags = false
	fs.StringVar(&f.spec, "spec", "", "the grading spec (YAML, docs/GRADING.md)")
	fs.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "exercises graded at once")
	fs.StringVar(&f.out, "out", "grading-report", "folder of the reports")
	fs.StringVar(&f.work, "work-dir", "", "folder of built modules and of every run's files (default: a temporary folder, removed at the end)")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "compilation cache of the runs (default: the user cache dir)")
	fs.StringVar(&f.shard, "shard", "", "grade only shard I of N (I/N, 0-based; default from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)")
	fs.BoolVar(&f.progress, "progress", true, "show a progress bar on a terminal (plain lines otherwise)")
	fs.Usage = func() {
		fmt.Fprint(stdout, gradeUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err, "grade", stderr)
	}
	switch {
	case f.spec == "":
		fmt.Fprintln(stderr, "sandbox grade: missing --spec SPEC.yaml\nRun 'sandbox help grade' for usage.")
		return exitUsage
	case fs.NArg() != 1:
		fmt.Fprintln(stderr, "sandbox grade: give one folder of submissions\nRun 'sandbox help grade' for usage.")
		return exitUsage
	case f.jobs < 1:
		fmt.Fprintln(stderr, "sandbox grade: --jobs must be at least 1")
		return exitUsage
	}
	shard, shards, err := shardOf(f.shard)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox grade: %v\n", err)
		return exitUsage
	}
	spec, err := grade.LoadSpec(f.spec)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox grade: invalid spec:\n%v\n", err)
		return exitBadSpec
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sandbox grade: %v\n", err)
		return exitInternal
	}
	work := f.work
	if work == "" {
		if work, err = os.MkdirTemp("", "sandbox-grade-"); err != nil {
			fmt.Fprintf(stderr, "sandbox grade: %v\n", err)
			return exitInternal
		}
		defer os.RemoveAll(work)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := grade.Config{
		Spec: spec, Submissions: fs.Arg(0), Sandbox: []string{exe}, Build: buildSubmission,
		Jobs: f.jobs, WorkDir: work, CacheDir: f.cacheDir, Shard: shard, Shards: shards,
		Timelines: true,
	}
	progress := newProgress(stderr, f.progress)
	cfg.Progress = progress.step
	rep, err := grade.Grade(ctx, cfg)
	progress.done()
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "sandbox grade: interrupted")
		return 130
	case err != nil:
		fmt.Fprintf(stderr, "sandbox grade: %v\n", err)
		return exitInternal
	}
	// The timelines of the runs that did not pass go with the reports
	// (timelines/STUDENT/EXERCISE/), linked from report.html.
	if err := grade.KeepTimelines(rep, work, f.out); err != nil {
		fmt.Fprintf(stderr, "sandbox grade: keeping the timelines: %v\n", err)
		return exitInternal
	}
	if err := grade.WriteAll(f.out, rep); err != nil {
		fmt.Fprintf(stderr, "sandbox grade: writing the reports: %v\n", err)
		return exitInternal
	}
	if err := grade.WriteSummary(stdout, rep); err != nil {
		return exitInternal
	}
	fmt.Fprintf(stderr, "sandbox grade: reports in %s\n", f.out)
	return 0
}

// shardOf reads "I/N", or, when s is empty, the index of a Kubernetes
// Indexed Job (JOB_COMPLETION_INDEX, with the count in SANDBOX_SHARDS:
// the Job's completions) or of a Slurm job array (SLURM_ARRAY_TASK_ID
// less SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT).
func shardOf(s string) (shard, shards int, err error) {
	if s == "" {
		switch {
		case os.Getenv("JOB_COMPLETION_INDEX") != "":
			s = os.Getenv("JOB_COMPLETION_INDEX") + "/" + os.Getenv("SANDBOX_SHARDS")
		case os.Getenv("SLURM_ARRAY_TASK_ID") != "":
			id, err1 := strconv.Atoi(os.Getenv("SLURM_ARRAY_TASK_ID"))
			low, err2 := strconv.Atoi(cmp.Or(os.Getenv("SLURM_ARRAY_TASK_MIN"), "0"))
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("SLURM_ARRAY_TASK_ID %q, SLURM_ARRAY_TASK_MIN %q: not numbers", os.Getenv("SLURM_ARRAY_TASK_ID"), os.Getenv("SLURM_ARRAY_TASK_MIN"))
			}
			s = fmt.Sprintf("%d/%s", id-low, os.Getenv("SLURM_ARRAY_TASK_COUNT"))
		default:
			return 0, 1, nil
		}
	}
	i, n, ok := strings.Cut(s, "/")
	shard, err1 := strconv.Atoi(i)
	shards, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, fmt.Errorf("shard %q: want I/N with 0 <= I < N", s)
	}
	return shard, shards, nil
}

// progress shows how far a grading is: a bar on a terminal, a line per
// exercise graded otherwise.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	on  bool
}

func newProgress(w io.Writer, on bool) *progress {
	p := &progress{w: w, on: on}
	return p
}

func (p *progress) step(done, total int, student, exercise string) {
	if !p.on {
		return
	}
	if f, ok := p.w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("grading"),
				progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(true),
				progressbar.OptionClearOnFinish())
		}
		p.bar.Describe(fmt.Sprintf("grading %s/%s", student, exercise))
		p.bar.Set(done)
		return
	}
	fmt.Fprintf(p.w, "graded %d/%d: %s %s\n", done, total, student, exercise)
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// buildSubmission builds a student's Go folder as `sandbox build` does;
// a compile error (limits of the build included) is the student's.
func buildSubmission(ctx context.Context, dir, out string) error {
	_, err := build.Build(ctx, build.Config{Dir: dir, Out: out})
	var ce *build.CompileError
	if errors.As(err, &ce) {
		return &grade.CompileError{Msg: ce.Msg}
	}
	return err
}

const gradeMergeUsage = `Usage:
  sandbox grade merge [--out DIR] REPORT.json...

Combines the JSON reports of the shards of one grading (sandbox grade
--shard I/N, each with its own --out) into every report format, as one
unsharded grading would have written them.

Examples:
  sandbox grade merge --out report/ shard-0/report.json shard-1/report.json

Exit status:
  0        merged
  1        the reports do not belong to one grading, or overlap
  2        usage error
  125      a report cannot be read or written

Flags:
`

func cmdGradeMerge(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("grade merge", pflag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", "grading-report", "folder of the merged reports")
	fs.Usage = func() {
		fmt.Fprint(stdout, gradeMergeUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseFailed(err, "grade merge", stderr)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "sandbox grade merge: give the shards' report.json files\nRun 'sandbox grade merge --help' for usage.")
		return exitUsage
	}
	var reps []*grade.Report
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "sandbox grade merge: %v\n", err)
			return exitInternal
		}
		r, err := grade.ReadJSON(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "sandbox grade merge: %s: %v\n", path, err)
			return exitInternal
		}
		// The shard's timelines, beside its report, go with the merge.
		if err := grade.KeepTimelines(r, filepath.Dir(path), *out); err != nil {
			fmt.Fprintf(stderr, "sandbox grade merge: %s: the timelines: %v\n", path, err)
			return exitInternal
		}
		reps = append(reps, r)
	}
	rep, err := grade.Merge(reps...)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox grade merge: %v\n", err)
		return 1
	}
	if err := grade.WriteAll(*out, rep); err != nil {
		fmt.Fprintf(stderr, "sandbox grade merge: writing the reports: %v\n", err)
		return exitInternal
	}
	if err := grade.WriteSummary(stdout, rep); err != nil {
		return exitInternal
	}
	return 0
}
