package grade

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// JUnit XML has no one specification; this writes the subset that the two
// readers we target agree on, so that `sandbox grade` can run as a CI job
// and show a class's results as test results:
//
//   - GitLab ("Unit test reports", docs.gitlab.com/ci/testing/unit_test_reports,
//     "JUnit XML format specification"): it reads testsuites/@time,
//     testsuite/@name and @time, testcase/@classname (shown as the suite),
//     @name, @file and @time (seconds), and the element content of failure,
//     error and skipped. It keys a test case by suite name, classname and
//     name (Gitlab::Ci::Reports::TestCase) and keeps only the first of a
//     duplicate, so the suite's name (the student) keeps one student's
//     "fib/small" apart from another's.
//   - Jenkins (junit-plugin, SuiteResult and CaseResult): it reads
//     testsuite/@name, @time and properties, testcase/@classname, @name and
//     @time, failure/@message as the error message and its content as the
//     stack trace, and skipped/@message (newer versions fall back to its
//     content) as the reason a test was skipped.
//
// So a failure carries its headline in @message and the whole account in
// its content, and a skipped test carries the reason in both. The counts
// on testsuite (tests, failures, errors, skipped) are the ones Ant and
// Surefire write; both readers recount from the test cases anyway.
// encoding/xml escapes markup and replaces characters XML 1.0 forbids (the
// NUL or ESC a student's program may print) with U+FFFD.

// junitSuites is the document's root, <testsuites>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr,omitempty"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// junitSuite is one submission, <testsuite name="STUDENT">.
type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

// junitProperty is a <property name= value=> of a suite: the submission's
// score, which JUnit has no attribute for.
type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitCase is one test, <testcase classname="EXERCISE" name="TEST">.
type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

// junitMessage is a <failure> or <skipped>: a headline and the details.
type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML, for CI servers (Jenkins,
// GitLab): a <testsuite> per submission named after the student, a
// <testcase> per test (classname the exercise, name the test, time the
// sum of its runs' wall time), a <failure> for a failed or flaky test with
// the feedback, the failed checks and what the failing run printed, and a
// <skipped> for a test that did not run, with the reason (a compiler's
// message). It is for instructors: hidden tests are shown in full.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: r.Title, Suites: make([]junitSuite, 0, len(r.Submissions))}
	if doc.Name == "" {
		doc.Name = r.Spec
	}
	var totalMs float64
	for i := range r.Submissions {
		s, ms := junitSuiteOf(&r.Submissions[i])
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		totalMs += ms
	}
	doc.Time = junitSeconds(totalMs)

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// junitSuiteOf makes the suite of one submission and returns its wall time
// in milliseconds.
func junitSuiteOf(s *Submission) (junitSuite, float64) {
	suite := junitSuite{
		Name: s.Student,
		Properties: []junitProperty{
			{Name: "score", Value: scoreText(s.Score)},
			{Name: "max_score", Value: scoreText(s.MaxScore)},
		},
	}
	var suiteMs float64
	for i := range s.Exercises {
		ex := &s.Exercises[i]
		for j := range ex.Tests {
			t := &ex.Tests[j]
			var ms float64
			for _, run := range t.Runs {
				ms += run.WallMs
			}
			suiteMs += ms
			c := junitCase{Classname: ex.Name, Name: t.Name, Time: junitSeconds(ms)}
			switch t.Status {
			case StatusPassed:
			case StatusNotRun:
				why := notRunWords(ex)
				c.Skipped = &junitMessage{Message: why, Text: why + ".\n" + clipBlock(ex.Message)}
				suite.Skipped++
			default: // failed, flaky, or a status this writer does not know: not a pass
				c.Failure = &junitMessage{Message: testHeadline(ex, t), Type: t.Status, Text: testDetails(ex, t)}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
		}
	}
	suite.Time = junitSeconds(suiteMs)
	return suite, suiteMs
}

// junitSeconds formats milliseconds as JUnit's seconds, "0.125".
func junitSeconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }
