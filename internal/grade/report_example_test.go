package grade_test

import (
	"os"

	"github.com/sandbox-dev/sandbox/internal/grade"
)

// Two students graded on one exercise of two tests: the table, then what
// did not pass.
func ExampleWriteSummary() {
	test := func(name string, score, maxScore float64, status, feedback string) grade.TestResult {
		return grade.TestResult{Name: name, Score: score, MaxScore: maxScore, Visibility: grade.VisibilityVisible,
			Status: status, Feedback: feedback}
	}
	r := &grade.Report{Version: grade.ReportVersion, Spec: "week1.yaml", Title: "Week 1", MaxScore: 3,
		Submissions: []grade.Submission{
			{Student: "ada", Score: 3, MaxScore: 3, Exercises: []grade.ExerciseResult{
				{Name: "hello", State: grade.ExerciseRan, Score: 3, MaxScore: 3, Tests: []grade.TestResult{
					test("greets", 1, 1, grade.StatusPassed, ""),
					test("counts", 2, 2, grade.StatusPassed, ""),
				}},
			}},
			{Student: "grace", Score: 1, MaxScore: 3, Exercises: []grade.ExerciseResult{
				{Name: "hello", State: grade.ExerciseRan, Score: 1, MaxScore: 3, Tests: []grade.TestResult{
					test("greets", 1, 1, grade.StatusPassed, ""),
					test("counts", 0, 2, grade.StatusFailed, "The count stops at 9.\nLook at the loop's bound."),
				}},
			}},
		}}
	if err := grade.WriteSummary(os.Stdout, r); err != nil {
		panic(err)
	}
	// Output:
	// Week 1: 2 submissions, out of 3 points
	//
	// student  hello  total
	// ada      3/3    3/3
	// grace    1/3    1/3
	//
	// Not passed:
	// grace hello/counts: The count stops at 9.
}
