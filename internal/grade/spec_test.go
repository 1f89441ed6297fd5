package grade

import (
	"errors"
	"strings"
	"testing"
)

const goodSpec = `version: 1
title: Chapter 3
limits:
  timeout: 20s
exercises:
  - name: communicating_with_pipe
    tests:
      - name: squares
        points: 2
        checks:
          - exit_code: 0
          - stdout: {lines_set: ["0", "1"]}
          - expr: 'events.exists(e, e.op == "conn_send")'
  - name: killing
    module: killing_processes
    limits: {memory: 128}
    tests:
      - name: terminated
        points: 1
        visibility: hidden
        repeat: 3
        checks:
          - exit: {process: Process-1, exit_code: -15, by: MainProcess}
`

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec("good.yaml", []byte(goodSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Exercises[0].Module != "communicating_with_pipe" || s.Exercises[1].Module != "killing_processes" {
		t.Errorf("modules %q, %q", s.Exercises[0].Module, s.Exercises[1].Module)
	}
	if tt := s.Exercises[0].Tests[0]; tt.Visibility != VisibilityVisible || tt.Repeat != 1 {
		t.Errorf("defaults: visibility %q, repeat %d", tt.Visibility, tt.Repeat)
	}
	if s.maxScore() != 3 {
		t.Errorf("max score %v, want 3", s.maxScore())
	}
	got := strings.Join(flagsOf(DefaultLimits, s.Limits, s.Exercises[1].Limits), " ")
	if want := "--max-output 1 --max-process-output 1 --memory 128 --timeout 20s"; got != want {
		t.Errorf("flags %q, want %q", got, want)
	}
}

// TestSpecErrors: every mistake is reported with its file, line and field.
func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error, each
	}{
		{"unknown field", "version: 1\nexercises:\n  - name: a\n    tets: []\n", []string{"bad.yaml:4:5", "unknown field"}},
		{"wrong type", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        points: many\n", []string{"bad.yaml:6:"}},
		{"version", "version: 2\nexercises: []\n", []string{"bad.yaml:1:10: version: version must be 1", "exercises: the spec has no exercises"}},
		{"no check kind", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - name: nothing\n", []string{"bad.yaml:7:", "exercises[0].tests[0].checks[0]: a check needs one of"}},
		{"two kinds", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - {exit_code: 0, verdict: ok}\n", []string{"this one has 2 (exit_code, verdict)"}},
		{"bad verdict", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - verdict: fine\n", []string{"bad.yaml:7:", `"fine" is not a verdict`}},
		{"bad regex", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - stdout: {regex: 'a('}\n", []string{"checks[0].stdout.regex", "missing closing )"}},
		{"bad expression", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - expr: 'events.exists(e, e.type ==)'\n", []string{"bad.yaml:7:", "checks[0].expr: expression"}},
		{"expression not a bool", "version: 1\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks:\n          - expr: 'size(events)'\n", []string{"not a bool"}},
		{"bad limit", "version: 1\nlimits: {timout: 3s, memory: lots}\nexercises:\n  - name: a\n    tests:\n      - name: t\n        checks: [{exit_code: 0}]\n", []string{`limits.timout: "timout" is not a limit`, `limits.memory: "lots" is not a whole number`}},
		{"duplicate names", "version: 1\nexercises:\n  - name: a\n    tests: [{name: t, checks: [{exit_code: 0}]}, {name: t, checks: [{exit_code: 0}]}]\n  - name: a\n    tests: [{name: u, checks: [{exit_code: 0}]}]\n", []string{`a second test named "t"`, `a second exercise named "a"`}},
		{"module with a path", "version: 1\nexercises:\n  - name: a\n    module: ../x\n    tests: [{name: t, checks: [{exit_code: 0}]}]\n", []string{"bad.yaml:4:13: exercises[0].module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Errorf("error %T, want *SpecError", err)
			}
		})
	}
}
