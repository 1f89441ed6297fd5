package grade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// The fields of Gradescope's results.json and their types, from its
// autograder specification ("Output format", "Controlling Test Case
// Visibility", "Test case status", "Output String Formatting":
// https://gradescope-autograders.readthedocs.io/en/latest/specs/). Every
// field is optional; "score" is needed at the top or on every test.
var (
	gradescopeVisibilities = []string{"hidden", "after_due_date", "after_published", "visible"}
	gradescopeFormats      = []string{"text", "html", "simple_format", "md", "ansi"}
	gradescopeTopFields    = map[string]repField{
		"score":              {kind: "number"},
		"execution_time":     {kind: "number"},
		"output":             {kind: "string"},
		"output_format":      {kind: "string", enum: gradescopeFormats},
		"test_output_format": {kind: "string", enum: gradescopeFormats},
		"test_name_format":   {kind: "string", enum: gradescopeFormats},
		"visibility":         {kind: "string", enum: gradescopeVisibilities},
		"stdout_visibility":  {kind: "string", enum: gradescopeVisibilities},
		"extra_data":         {kind: "object"},
		"tests":              {kind: "array"},
		"leaderboard":        {kind: "array"},
	}
	gradescopeTestFields = map[string]repField{
		"score":         {kind: "number"},
		"max_score":     {kind: "number"},
		"status":        {kind: "string", enum: []string{"passed", "failed"}},
		"name":          {kind: "string"},
		"name_format":   {kind: "string", enum: gradescopeFormats},
		"number":        {kind: "string"},
		"output":        {kind: "string"},
		"output_format": {kind: "string", enum: gradescopeFormats},
		"tags":          {kind: "array"},
		"visibility":    {kind: "string", enum: gradescopeVisibilities},
		"extra_data":    {kind: "object"},
	}
)

// repField is a documented field of a JSON format: its JSON type
// ("number", "string", "boolean", "array", "object") and, for a string,
// the values it may take (any when enum is empty).
type repField struct {
	kind string
	enum []string
}

// repCheckFields reports every key of obj that the format does not
// document, or whose value is not of the documented type.
func repCheckFields(t *testing.T, where string, obj map[string]any, fields map[string]repField) {
	t.Helper()
	for key, v := range obj {
		f, ok := fields[key]
		if !ok {
			t.Errorf("%s: %q is not a documented field", where, key)
			continue
		}
		var kind string
		switch v.(type) {
		case float64:
			kind = "number"
		case string:
			kind = "string"
		case bool:
			kind = "boolean"
		case []any:
			kind = "array"
		case map[string]any:
			kind = "object"
		default:
			kind = fmt.Sprintf("%T", v)
		}
		if kind != f.kind {
			t.Errorf("%s: %q is a %s, the documentation says a %s", where, key, kind, f.kind)
			continue
		}
		if s, ok := v.(string); ok && len(f.enum) > 0 && !slices.Contains(f.enum, s) {
			t.Errorf("%s: %q is %q, the documentation allows %v", where, key, s, f.enum)
		}
	}
}

// repDecodeObject decodes a JSON object, failing the test if it is not one.
func repDecodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, data)
	}
	return obj
}

func TestGradescopeResults(t *testing.T) {
	class := repClass()
	tests := []struct {
		student    string
		statuses   []string // of each test, in order
		visibility []string
	}{
		{"alice", []string{"passed", "passed", "failed", "passed"}, []string{"visible", "hidden", "visible", "after_due_date"}},
		{"bob", []string{"failed", "failed", "failed", "passed"}, []string{"visible", "hidden", "visible", "after_due_date"}},
		{"zoë", []string{"failed", "failed", "failed", "failed"}, []string{"visible", "hidden", "visible", "after_due_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.student, func(t *testing.T) {
			s := repStudent(class, tt.student)
			var buf bytes.Buffer
			if err := WriteGradescope(&buf, s); err != nil {
				t.Fatal(err)
			}
			top := repDecodeObject(t, buf.Bytes())
			repCheckFields(t, "results.json", top, gradescopeTopFields)
			for _, key := range []string{"score", "output", "visibility", "stdout_visibility", "tests"} {
				if _, ok := top[key]; !ok {
					t.Errorf("results.json has no %q", key)
				}
			}
			cases, _ := top["tests"].([]any)
			if len(cases) != len(tt.statuses) {
				t.Fatalf("%d tests, want %d", len(cases), len(tt.statuses))
			}
			var sum float64
			for i, c := range cases {
				obj, ok := c.(map[string]any)
				if !ok {
					t.Fatalf("test %d is a %T, want an object", i, c)
				}
				where := fmt.Sprintf("test %d", i)
				repCheckFields(t, where, obj, gradescopeTestFields)
				if obj["status"] != tt.statuses[i] || obj["visibility"] != tt.visibility[i] {
					t.Errorf("%s (%v) has status %v and visibility %v, want %s and %s",
						where, obj["name"], obj["status"], obj["visibility"], tt.statuses[i], tt.visibility[i])
				}
				if name, _ := obj["name"].(string); !strings.Contains(name, ": ") {
					t.Errorf("%s is named %q, want \"exercise: test\"", where, name)
				}
				if _, ok := obj["score"].(float64); !ok {
					t.Errorf("%s has no score: Gradescope needs it on every test or at the top", where)
				}
				sum += obj["score"].(float64)
			}
			if score := top["score"].(float64); math.Abs(score-sum) > 1e-9 || score != s.Score {
				t.Errorf("score %v; the tests add up to %v, the submission scored %v", score, sum, s.Score)
			}
			if out := top["output"].(string); strings.Contains(out, repHiddenFeedback) || strings.Contains(out, repHiddenName) {
				t.Errorf("the top-level output, which students see, tells of the hidden test: %q", out)
			}
		})
	}
}

func TestGradescopeRefusesUnknownVisibility(t *testing.T) {
	s := *repStudent(repClass(), "alice")
	s.Exercises = slices.Clone(s.Exercises)
	s.Exercises[0].Tests = slices.Clone(s.Exercises[0].Tests)
	s.Exercises[0].Tests[0].Visibility = "secret"
	if err := WriteGradescope(&bytes.Buffer{}, &s); err == nil {
		t.Error("WriteGradescope wrote a test of visibility \"secret\", which Gradescope does not know")
	}
}
