package main

import (
	"bytes"
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

// TestGrade grades three submissions (the reference guests, one with an
// exercise missing, one whose module is another program) three times:
// the scores are right and the same every time, and every report is
// written.
func TestGrade(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.yaml")
	os.WriteFile(spec, []byte(gradeSpec), 0o644)
	subs := filepath.Join(dir, "submissions")
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

	want := map[string]float64{"ada": 6, "bob": 3, "cy": 3, "dee": 3}
	var first []byte
	for round := range 3 {
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
		for _, f := range []string{"report.json", "junit.xml", "summary.txt", "ada/feedback.md", "ada/gradescope.json", "ada/prairielearn.json"} {
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
