package grade

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Gradescope's results.json, as its autograder specification documents it
// ("Autograder Specifications", "Output format", "Controlling Test Case
// Visibility", "Test case status", "Output String Formatting":
// https://gradescope-autograders.readthedocs.io/en/latest/specs/, source
// github.com/gradescope/autograder_samples docs/specs.md, read at commit
// af5dee4 of January 2025). Of its documented fields this writes:
//
//	top level: score (number; overrides the tests' total), output (string),
//	  output_format ("text": no HTML, Markdown or ANSI is rendered, so a
//	  student's "<script>" stays text; the top-level default,
//	  "simple_format", renders HTML), visibility and stdout_visibility
//	  ("hidden", "after_due_date", "after_published" or "visible"), tests
//	  (array).
//	each test: name, number ("1.2": exercise 1, test 2; a string),
//	  score and max_score (numbers), status ("passed" or "failed"), output
//	  (string, shown in a <pre>, in the default "text" format), visibility.
//
// It leaves out the optional fields it has nothing for: execution_time,
// extra_data, leaderboard, tags, name_format, test_output_format,
// test_name_format.

// gradescopeResults is Gradescope's results.json.
type gradescopeResults struct {
	Score            float64          `json:"score"`
	Output           string           `json:"output"`
	OutputFormat     string           `json:"output_format"`
	Visibility       string           `json:"visibility"`
	StdoutVisibility string           `json:"stdout_visibility"`
	Tests            []gradescopeTest `json:"tests"`
}

// gradescopeTest is one test case of Gradescope's results.json.
type gradescopeTest struct {
	Name       string  `json:"name"`
	Number     string  `json:"number"`
	Score      float64 `json:"score"`
	MaxScore   float64 `json:"max_score"`
	Status     string  `json:"status"`
	Output     string  `json:"output"`
	Visibility string  `json:"visibility"`
}

// WriteGradescope writes one submission as Gradescope's results.json
// (Gradescope grades one submission per container, so run_autograder
// writes this to /autograder/results/results.json).
//
// Each test keeps its visibility: Gradescope itself keeps a hidden test
// from students and shows it to instructors, so a test's output tells
// everything (feedback, failed checks, the run's output). A flaky test is
// "failed": it is scored as failed. The top-level output, which students
// see, counts only the tests visible to them, so it gives nothing of the
// others away; the grader's stdout stays hidden from students.
func WriteGradescope(w io.Writer, s *Submission) error {
	res := gradescopeResults{
		Score:            s.Score,
		OutputFormat:     "text",
		Visibility:       VisibilityVisible,
		StdoutVisibility: VisibilityHidden,
		Tests:            []gradescopeTest{},
	}
	visible, visiblePassed := 0, 0
	var notRun []string
	for i := range s.Exercises {
		ex := &s.Exercises[i]
		if ex.State != ExerciseRan {
			notRun = append(notRun, notRunWords(ex)+".")
		}
		for j := range ex.Tests {
			t := &ex.Tests[j]
			vis, err := visibilityOf(t)
			if err != nil {
				return fmt.Errorf("gradescope results of %s, exercise %s: %w", s.Student, ex.Name, err)
			}
			status := "failed"
			if t.Status == StatusPassed {
				status = "passed"
			}
			if vis == VisibilityVisible {
				visible++
				if status == "passed" {
					visiblePassed++
				}
			}
			res.Tests = append(res.Tests, gradescopeTest{
				Name:       ex.Name + ": " + t.Name,
				Number:     fmt.Sprintf("%d.%d", i+1, j+1),
				Score:      t.Score,
				MaxScore:   t.MaxScore,
				Status:     status,
				Output:     testDetails(ex, t),
				Visibility: vis,
			})
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%d of the %d tests you can see passed.", visiblePassed, visible)
	if hidden := len(res.Tests) - visible; hidden > 0 {
		fmt.Fprintf(&out, " %d more %s not shown here.", hidden, plural(hidden, "test is", "tests are"))
	}
	for _, l := range notRun {
		out.WriteString("\n" + l)
	}
	res.Output = out.String()

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write gradescope results of %s: %w", s.Student, err)
	}
	return nil
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
