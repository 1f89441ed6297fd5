package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/grade"
	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// gradeSpec grades two examples: the reference guests pass every test.
const gradeSpec = `version: 1
title: grade test
limits: {timeout: 30s}
exercises:
  - name: pipe
    module: communicating_with_pipe
    tests:
      - name: squares
        points: 2
        checks:
          - verdict: ok
          - stdout: {lines_set: ["0", "1", "4", "9", "16", "25", "36", "49", "64", "81", "End",
              "Process 1 sending message: 9", "Process 2 received message: 9"]}
          - used: {kind: pipe, between: [Process-1, Process-2]}
      - name: two children
        points: 1
        visibility: hidden
        checks:
          - processes: {exactly: 3}
  - name: killing
    module: killing_processes
    tests:
      - name: terminated
        points: 3
        repeat: 2
        checks:
          - exit: {process: Process-1, exit_code: -15, by: MainProcess}
            message: Process-1 should be terminated by MainProcess.
`

// TestGrade grades four submissions (the reference guests, one with an
// exercise missing, one whose module is another program, one of Go source
// with a folder that does not compile) five times: the scores are right
// and the same every time, and every report is written.
func TestGrade(t *testing.T) {
	dir, spec, subs := gradeFixture(t)
	want := map[string]float64{"ada": 6, "bob": 3, "cy": 3, "dee": 3}
	var first []byte
	for round := range 5 {
		out := filepath.Join(dir, "report", string(rune('a'+round)))
		cmd := exec.Command("sandbox", "grade", "--spec", spec, "--out", out, "--jobs", "2", subs)
		cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("sandbox grade: %v\nstderr:\n%s", err, stderr.String())
		}
		f, err := os.Open(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := grade.ReadJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.MaxScore != 6 || len(rep.Submissions) != 4 {
			t.Fatalf("max score %v, %d submissions", rep.MaxScore, len(rep.Submissions))
		}
		var scores []byte
		for _, s := range rep.Submissions {
			if s.Score != want[s.Student] {
				t.Errorf("round %d: %s scored %v, want %v\n%+v", round, s.Student, s.Score, want[s.Student], s)
			}
			scores = append(scores, []byte(s.Student+":"+strings.TrimSpace(stdout.String()))...)
		}
		bob := rep.Submissions[1].Exercises[1]
		if bob.State != grade.ExerciseMissing || bob.Tests[0].Status != grade.StatusNotRun {
			t.Errorf("bob's missing exercise: %+v", bob)
		}
		cy := rep.Submissions[2].Exercises[1].Tests[0]
		if cy.Status != grade.StatusFailed || !strings.Contains(cy.Feedback, "Process-1 should be terminated by MainProcess.") || len(cy.Runs) != 2 {
			t.Errorf("cy's wrong program: %+v", cy)
		}
		dee := rep.Submissions[3].Exercises
		if dee[0].Source != "communicating_with_pipe/" || dee[1].State != grade.ExerciseCompileError || !strings.Contains(dee[1].Message, "main.go:3:15: undefined: undefinedThing") {
			t.Errorf("dee's Go source: %+v", dee)
		}
		// The failed runs' timelines go with the report, linked from it.
		for _, run := range cy.Runs {
			if run.Timeline == "" {
				t.Errorf("cy's failed run keeps no timeline: %+v", run)
			} else if _, err := os.Stat(filepath.Join(out, run.Timeline)); err != nil {
				t.Errorf("timeline: %v", err)
			}
		}
		for _, f := range []string{"report.json", "report.html", "junit.xml", "summary.txt", "ada/feedback.md", "ada/gradescope.json", "ada/prairielearn.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("report file: %v", err)
			}
		}
		if round == 0 {
			first = scores
			t.Logf("summary:\n%s", stdout.String())
		} else if !bytes.Equal(scores, first) {
			t.Errorf("round %d differs from the first:\n%s\nfirst:\n%s", round, scores, first)
		}
	}
}

// gradeFixture writes the spec and four submissions: the reference guests
// (ada), one exercise missing (bob), a module that is another program
// (cy), Go source of which one folder does not compile (dee).
func gradeFixture(t *testing.T) (dir, spec, subs string) {
	t.Helper()
	dir = t.TempDir()
	spec = filepath.Join(dir, "spec.yaml")
	os.WriteFile(spec, []byte(gradeSpec), 0o644)
	subs = filepath.Join(dir, "submissions")
	put := func(student, name, guest string) {
		b, err := os.ReadFile(testutil.Guest(t, guest))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(subs, student), 0o755)
		os.WriteFile(filepath.Join(subs, student, name), b, 0o644)
	}
	put("ada", "communicating_with_pipe.wasm", "guests/communicating_with_pipe")
	put("ada", "killing_processes.wasm", "guests/killing_processes")
	put("bob", "communicating_with_pipe.wasm", "guests/communicating_with_pipe")
	put("cy", "communicating_with_pipe.wasm", "guests/communicating_with_pipe")
	put("cy", "killing_processes.wasm", "guests/hello_processes")
	// dee hands in Go source: one folder builds, the other does not.
	src, _ := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "guests", "communicating_with_pipe", "main.go"))
	os.MkdirAll(filepath.Join(subs, "dee", "communicating_with_pipe"), 0o755)
	os.WriteFile(filepath.Join(subs, "dee", "communicating_with_pipe", "main.go"), src, 0o644)
	os.MkdirAll(filepath.Join(subs, "dee", "killing_processes"), 0o755)
	os.WriteFile(filepath.Join(subs, "dee", "killing_processes", "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)

	return dir, spec, subs
}

// gradeRun runs sandbox grade (or grade merge) with env added, and
// returns the summary it wrote into out.
func gradeRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sandbox", args...)
	cmd.Env = append(append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t)), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sandbox %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestGradeShards: the submissions graded in shards (by --shard, by a
// Kubernetes Indexed Job's index, by a Slurm array's task id) and merged
// give the report of one grading.
func TestGradeShards(t *testing.T) {
	dir, spec, subs := gradeFixture(t)
	report := func(name string) string { return filepath.Join(dir, name) }
	whole := gradeRun(t, nil, "grade", "--spec", spec, "--out", report("whole"), subs)
	tests := []struct {
		name string
		envs [][]string // one per shard
		args func(i int) []string
	}{
		{"flag", [][]string{nil, nil, nil}, func(i int) []string { return []string{"--shard", fmt.Sprintf("%d/3", i)} }},
		{"Kubernetes", [][]string{{"JOB_COMPLETION_INDEX=0", "SANDBOX_SHARDS=2"}, {"JOB_COMPLETION_INDEX=1", "SANDBOX_SHARDS=2"}}, nil},
		{"Slurm", [][]string{
			{"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_COUNT=2"},
			{"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_COUNT=2"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shards []string
			graded := 0
			for i, env := range tt.envs {
				out := report(fmt.Sprintf("%s-%d", tt.name, i))
				args := []string{"grade", "--spec", spec, "--out", out}
				if tt.args != nil {
					args = append(args, tt.args(i)...)
				}
				gradeRun(t, env, append(args, subs)...)
				shards = append(shards, filepath.Join(out, "report.json"))
				f, _ := os.Open(filepath.Join(out, "report.json"))
				r, err := grade.ReadJSON(f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				graded += len(r.Submissions)
			}
			if graded != 4 {
				t.Errorf("the shards graded %d submissions, want 4", graded)
			}
			merged := gradeRun(t, nil, append([]string{"grade", "merge", "--out", report(tt.name + "-merged")}, shards...)...)
			if merged != whole {
				t.Errorf("merged summary:\n%s\nunsharded:\n%s", merged, whole)
			}
			a, _ := os.ReadFile(report(tt.name + "-merged/summary.txt"))
			b, _ := os.ReadFile(report("whole/summary.txt"))
			if !bytes.Equal(a, b) {
				t.Error("summary.txt differs between the merged and the unsharded reports")
			}
		})
	}
}
