package grade

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// PrairieLearn's external grading results, as documented in "External
// Grading", section "Grading results"
// (https://prairielearn.readthedocs.io/en/latest/externalGrading/, source
// github.com/PrairieLearn/PrairieLearn docs/externalGrading.md). Of its
// documented fields this writes:
//
//	gradable (boolean; false: "the input was invalid ... for example if it
//	  has a syntax error that prevented compilation": no points are
//	  awarded or lost and the student keeps the attempt),
//	score (number in [0.0, 1.0]; written even when not gradable, as 0),
//	message and output (strings),
//	format_errors (string or array of strings: why it is not gradable;
//	  only when gradable is false),
//	tests (array of name, description, message, output: strings, and
//	  points, max_points: numbers), which <pl-external-grader-results>
//	  renders.
//
// It leaves out images. The file must stay under 1 MB: every block of
// output in it is clipped.

// prairieLearnResults is PrairieLearn's results.json.
type prairieLearnResults struct {
	Gradable     bool               `json:"gradable"`
	Score        float64            `json:"score"`
	Message      string             `json:"message"`
	Output       string             `json:"output"`
	FormatErrors []string           `json:"format_errors,omitempty"`
	Tests        []prairieLearnTest `json:"tests"`
}

// prairieLearnTest is one test of PrairieLearn's results.json.
type prairieLearnTest struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Points      float64 `json:"points"`
	MaxPoints   float64 `json:"max_points"`
	Message     string  `json:"message"`
	Output      string  `json:"output"`
}

// WritePrairieLearn writes one submission as PrairieLearn's external
// grader results.json (PrairieLearn grades one submission per job; the
// grader writes this to /grade/results/results.json).
//
// PrairieLearn shows students everything in the file as soon as it is
// graded and has no visibility of its own, so only tests visible now are
// shown in full: a hidden, after_due_date or after_published test appears
// as "EXERCISE: hidden test N", passed or failed, with its points and
// nothing else. A submission none of whose exercises ran (every one
// missing, not building, or not a runnable module) is not gradable, as
// PrairieLearn's documentation says of code that does not compile: the
// student keeps the attempt and reads why in format_errors.
func WritePrairieLearn(w io.Writer, s *Submission) error {
	res := prairieLearnResults{Gradable: len(s.Exercises) == 0, Tests: []prairieLearnTest{}}
	if s.MaxScore > 0 {
		res.Score = min(max(s.Score/s.MaxScore, 0), 1)
	}
	var out strings.Builder
	passed, total := 0, 0
	for i := range s.Exercises {
		ex := &s.Exercises[i]
		fmt.Fprintf(&out, "%s: %s", ex.Name, pointsOf(ex.Score, ex.MaxScore))
		if ex.State == ExerciseRan {
			res.Gradable = true
			out.WriteString("\n")
		} else {
			why := notRunWords(ex)
			fmt.Fprintf(&out, ". %s.\n", why)
			if ex.Message != "" {
				out.WriteString(indentBlock(clipBlock(ex.Message)))
				why += ":\n" + clipBlock(ex.Message)
			}
			res.FormatErrors = append(res.FormatErrors, why)
		}
		hidden := 0
		for j := range ex.Tests {
			t := &ex.Tests[j]
			vis, err := visibilityOf(t)
			if err != nil {
				return fmt.Errorf("prairielearn results of %s, exercise %s: %w", s.Student, ex.Name, err)
			}
			total++
			if t.Status == StatusPassed {
				passed++
			}
			if vis != VisibilityVisible {
				hidden++
				res.Tests = append(res.Tests, prairieLearnHidden(ex, t, hidden))
				continue
			}
			res.Tests = append(res.Tests, prairieLearnTest{
				Name:        ex.Name + ": " + t.Name,
				Description: "Test " + t.Name + " of exercise " + ex.Name + ".",
				Points:      t.Score,
				MaxPoints:   t.MaxScore,
				Message:     prairieLearnMessage(ex, t),
				Output:      testDetails(ex, t),
			})
		}
	}
	if res.Gradable {
		res.FormatErrors = nil
	}
	res.Message = fmt.Sprintf("Score %s: %d of %d tests passed.", scoreOutOf(s.Score, s.MaxScore), passed, total)
	res.Output = out.String()

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write prairielearn results of %s: %w", s.Student, err)
	}
	return nil
}

// prairieLearnHidden is a test students may not see yet: whether it
// passed and its points, without its name or any detail.
func prairieLearnHidden(ex *ExerciseResult, t *TestResult, n int) prairieLearnTest {
	msg := "Failed."
	switch t.Status {
	case StatusPassed:
		msg = "Passed."
	case StatusNotRun:
		msg = "Not run."
	}
	return prairieLearnTest{
		Name:        fmt.Sprintf("%s: hidden test %d", ex.Name, n),
		Description: "A hidden test: its details are not shown.",
		Points:      t.Score,
		MaxPoints:   t.MaxScore,
		Message:     msg,
	}
}

// prairieLearnMessage is the one line PrairieLearn shows beside a test.
func prairieLearnMessage(ex *ExerciseResult, t *TestResult) string {
	switch t.Status {
	case StatusPassed:
		return "Passed."
	case StatusFlaky:
		return "Flaky: " + flakyWords(t) + "."
	case StatusNotRun:
		return notRunWords(ex) + "."
	}
	return "Failed: " + testHeadline(ex, t)
}
