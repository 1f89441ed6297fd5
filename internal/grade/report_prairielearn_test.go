package grade

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// The fields of PrairieLearn's results.json and their types, from "External
// Grading", "Grading results"
// (https://prairielearn.readthedocs.io/en/latest/externalGrading/).
// format_errors may be a string or an array of strings; this writer uses
// the array.
var (
	prairieLearnTopFields = map[string]repField{
		"gradable":      {kind: "boolean"},
		"score":         {kind: "number"},
		"message":       {kind: "string"},
		"output":        {kind: "string"},
		"format_errors": {kind: "array"},
		"images":        {kind: "array"},
		"tests":         {kind: "array"},
	}
	prairieLearnTestFields = map[string]repField{
		"name":        {kind: "string"},
		"description": {kind: "string"},
		"points":      {kind: "number"},
		"max_points":  {kind: "number"},
		"message":     {kind: "string"},
		"output":      {kind: "string"},
		"images":      {kind: "array"},
	}
)

func TestPrairieLearnResults(t *testing.T) {
	class := repClass()
	// noneRan is bob, had workers not built either: nothing ran.
	noneRan := *repStudent(repClass(), "bob")
	noneRan.Exercises[1] = ExerciseResult{Name: "workers", State: ExerciseInvalid, MaxScore: 5,
		Message: "workers.wasm imports wasi_snapshot_preview1.sock_open, which the sandbox does not offer",
		Tests:   []TestResult{repNotRun("order", 4, VisibilityVisible), repNotRun("cleanup", 1, VisibilityAfterDue)}}
	noneRan.Score = 0

	tests := []struct {
		name     string
		s        *Submission
		gradable bool
		hidden   int // tests shown without details
	}{
		{"alice", repStudent(class, "alice"), true, 2},
		{"bob", repStudent(class, "bob"), true, 2},
		{"zoë", repStudent(class, "zoë"), true, 2},
		{"nothing ran", &noneRan, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePrairieLearn(&buf, tt.s); err != nil {
				t.Fatal(err)
			}
			top := repDecodeObject(t, buf.Bytes())
			repCheckFields(t, "results.json", top, prairieLearnTopFields)
			for _, key := range []string{"gradable", "score", "message", "output", "tests"} {
				if _, ok := top[key]; !ok {
					t.Errorf("results.json has no %q", key)
				}
			}
			if top["gradable"] != tt.gradable {
				t.Errorf("gradable = %v, want %v", top["gradable"], tt.gradable)
			}
			fe, hasFormatErrors := top["format_errors"].([]any)
			if hasFormatErrors == tt.gradable {
				t.Errorf("format_errors %v with gradable %v: want them exactly when not gradable", top["format_errors"], tt.gradable)
			}
			for _, e := range fe {
				if _, ok := e.(string); !ok {
					t.Errorf("format_errors holds a %T, want strings", e)
				}
			}
			score := top["score"].(float64)
			if score < 0 || score > 1 {
				t.Errorf("score %v is not in [0, 1]", score)
			}
			if want := tt.s.Score / tt.s.MaxScore; math.Abs(score-want) > 1e-9 {
				t.Errorf("score %v, want score/max = %v/%v = %v", score, tt.s.Score, tt.s.MaxScore, want)
			}
			cases := top["tests"].([]any)
			var points, maxPoints float64
			hidden := 0
			for i, c := range cases {
				obj := c.(map[string]any)
				repCheckFields(t, fmt.Sprintf("test %d", i), obj, prairieLearnTestFields)
				points += obj["points"].(float64)
				maxPoints += obj["max_points"].(float64)
				if strings.Contains(obj["name"].(string), "hidden test") {
					hidden++
					if obj["output"] != "" {
						t.Errorf("hidden test %d shows output %q", i, obj["output"])
					}
				}
			}
			if points != tt.s.Score || maxPoints != tt.s.MaxScore {
				t.Errorf("the tests' points add up to %v of %v, want %v of %v", points, maxPoints, tt.s.Score, tt.s.MaxScore)
			}
			if hidden != tt.hidden {
				t.Errorf("%d tests shown as hidden, want %d (hidden and after the due date)", hidden, tt.hidden)
			}
			// PrairieLearn shows the whole file to the student at once.
			for _, secret := range []string{repHiddenName, repHiddenFeedback, repHiddenGot, "cleanup"} {
				if bytes.Contains(buf.Bytes(), []byte(secret)) {
					t.Errorf("results.json tells students %q, from a test they may not see yet", secret)
				}
			}
		})
	}
}

func TestPrairieLearnScoreBounds(t *testing.T) {
	tests := []struct {
		name            string
		score, maxScore float64
		want            float64
	}{
		{"nothing to score", 0, 0, 0},
		{"a bonus beyond the maximum", 12, 10, 1},
		{"a penalty below zero", -2, 10, 0},
		{"a third", 1, 3, 1.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Submission{Student: "x", Score: tt.score, MaxScore: tt.maxScore, Exercises: []ExerciseResult{
				{Name: "e", State: ExerciseRan, Score: tt.score, MaxScore: tt.maxScore},
			}}
			var buf bytes.Buffer
			if err := WritePrairieLearn(&buf, s); err != nil {
				t.Fatal(err)
			}
			if got := repDecodeObject(t, buf.Bytes())["score"].(float64); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("score %v of %v: results.json says %v, want %v", tt.score, tt.maxScore, got, tt.want)
			}
		})
	}
}
