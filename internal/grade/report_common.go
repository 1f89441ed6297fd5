package grade

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds what the report formats share: scores for people, the
// plain-words account of a test that every format shows in its own frame,
// and the clipping that keeps a student's megabytes of output from
// swelling a report past what Gradescope or PrairieLearn accept.

// Bounds of a block of text (expected output, what the program printed, a
// compiler's message) inside a report. Runs and checks already keep
// excerpts; these bounds hold for any report, whatever made it.
const (
	clipLines = 60    // lines of a block shown: the first half and the last half
	clipBytes = 6_000 // bytes of a block shown, at most
)

// scoreText formats a score for people: at most two decimals, no trailing
// zeros ("2", "2.5", "0.33"), never "-0".
func scoreText(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// scoreOutOf formats a score and what could be scored, "3/5".
func scoreOutOf(score, maxScore float64) string { return scoreText(score) + "/" + scoreText(maxScore) }

// pointsOf says a score in words, "2 of 3 points", "1 of 1 point".
func pointsOf(score, maxScore float64) string {
	unit := "points"
	if scoreText(maxScore) == "1" {
		unit = "point"
	}
	return scoreText(score) + " of " + scoreText(maxScore) + " " + unit
}

// visibilityOf returns a test's visibility, "visible" when the report
// leaves it empty (Gradescope's default), or an error for a value no
// format knows.
func visibilityOf(t *TestResult) (string, error) {
	switch t.Visibility {
	case "":
		return VisibilityVisible, nil
	case VisibilityVisible, VisibilityHidden, VisibilityAfterDue, VisibilityPublished:
		return t.Visibility, nil
	}
	return "", fmt.Errorf("test %q: unknown visibility %q", t.Name, t.Visibility)
}

// runsPassed counts the runs of a test that passed.
func runsPassed(t *TestResult) (passed, total int) {
	for _, r := range t.Runs {
		if r.Passed {
			passed++
		}
	}
	return passed, len(t.Runs)
}

// flakyWords says why a flaky test failed: its result changed from run to
// run, which for these programs means a race between processes.
func flakyWords(t *TestResult) string {
	passed, total := runsPassed(t)
	if total == 0 {
		return "passed some runs and failed others: the program's result depends on timing — look for a race"
	}
	return fmt.Sprintf("passed %d of %d runs: the program's result depends on timing — look for a race", passed, total)
}

// firstFailedRun returns the first run of a test that did not pass, the
// run its Checks come from, or nil.
func firstFailedRun(t *TestResult) *Run {
	for i := range t.Runs {
		if !t.Runs[i].Passed {
			return &t.Runs[i]
		}
	}
	return nil
}

// failedChecks returns the checks of a test that failed.
func failedChecks(t *TestResult) []CheckResult {
	var out []CheckResult
	for _, c := range t.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// notRunWords says, in plain words, why the tests of an exercise did not
// run, as a sentence but for its full stop.
func notRunWords(ex *ExerciseResult) string {
	if ex.State == ExerciseMissing {
		return fmt.Sprintf("The submission has no %s, so its tests did not run", ex.Name)
	}
	return fmt.Sprintf("%s %s, so its tests did not run", ex.Name, exerciseStateWords(ex))
}

// exerciseStateWords says what became of an exercise that did not run:
// "did not build", ...
func exerciseStateWords(ex *ExerciseResult) string {
	switch ex.State {
	case ExerciseMissing:
		return "is not in the submission"
	case ExerciseCompileError:
		return "did not build"
	case ExerciseInvalid:
		return "cannot run in the sandbox"
	case ExerciseRan:
		return "ran"
	}
	return "did not run"
}

// testHeadline is the one line that sums up a test that did not pass: the
// first line of its feedback, of its first failed check's message, or of
// why it did not run.
func testHeadline(ex *ExerciseResult, t *TestResult) string {
	if t.Status == StatusNotRun {
		return notRunWords(ex)
	}
	if l := firstTextLine(t.Feedback); l != "" {
		return l
	}
	if failed := failedChecks(t); len(failed) > 0 {
		if l := firstTextLine(failed[0].Message); l != "" {
			return l
		}
		return "check " + failed[0].Name + " failed"
	}
	if t.Status == StatusFlaky {
		return flakyWords(t)
	}
	return "failed"
}

// firstTextLine returns the first non-blank line of s, trimmed.
func firstTextLine(s string) string {
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// testDetails writes, in plain words, what a test did: why it did not run,
// or its feedback, why it is flaky, each failed check with what it
// expected and what came, how the failing run ended and an excerpt of
// what it printed. It is the body of a JUnit failure and the output of a
// Gradescope or PrairieLearn test, so it shows everything: callers decide
// who may read it.
func testDetails(ex *ExerciseResult, t *TestResult) string {
	var b strings.Builder
	switch t.Status {
	case StatusPassed:
		if _, total := runsPassed(t); total > 1 {
			fmt.Fprintf(&b, "Passed all %d runs.\n", total)
		} else {
			b.WriteString("Passed.\n")
		}
		return b.String()
	case StatusNotRun:
		b.WriteString(notRunWords(ex) + ".\n")
		if ex.Message != "" {
			b.WriteString(indentBlock(clipBlock(ex.Message)))
		}
		return b.String()
	}
	if t.Feedback != "" {
		b.WriteString(endWithNewline(clipBlock(t.Feedback)))
	}
	if t.Status == StatusFlaky {
		b.WriteString("Flaky: " + flakyWords(t) + ".\n")
	}
	for _, c := range failedChecks(t) {
		writeCheckDetails(&b, &c)
	}
	if r := firstFailedRun(t); r != nil {
		writeRunDetails(&b, r, shownByChecks(t))
	}
	if b.Len() == 0 {
		b.WriteString("Failed.\n")
	}
	return b.String()
}

// writeCheckDetails writes a failed check: its name, its message, what it
// expected and what came.
func writeCheckDetails(b *strings.Builder, c *CheckResult) {
	fmt.Fprintf(b, "Check failed: %s\n", c.Name)
	if c.Message != "" {
		b.WriteString(indentBlock(clipBlock(c.Message)))
	}
	if c.Expected == "" && c.Got == "" {
		return
	}
	writeLabelled(b, "expected", c.Expected)
	writeLabelled(b, "got", c.Got)
}

// writeLabelled writes "  label: value" for a one-line value, or the label
// and the value indented below it for a longer one.
func writeLabelled(b *strings.Builder, label, value string) {
	switch {
	case value == "":
		fmt.Fprintf(b, "  %s: (nothing)\n", label)
	case !strings.Contains(strings.TrimSuffix(value, "\n"), "\n") && len(value) <= 120:
		fmt.Fprintf(b, "  %s: %s\n", label, strings.TrimSuffix(value, "\n"))
	default:
		fmt.Fprintf(b, "  %s:\n", label)
		b.WriteString(indentBlock(clipBlock(value)))
	}
}

// writeRunDetails writes how a failing run ended and what it printed,
// but for output the checks already showed.
func writeRunDetails(b *strings.Builder, r *Run, shown map[string]bool) {
	if r.Verdict != "" && r.Verdict != "ok" {
		fmt.Fprintf(b, "The run ended with %s (exit status %d)", r.Verdict, r.ExitStatus)
		if r.Explanation != "" {
			b.WriteString(": " + firstTextLine(r.Explanation))
		}
		b.WriteString(".\n")
	}
	if r.Chaos != nil {
		fmt.Fprintf(b, "The run was perturbed with chaos seed %d (the seed replays it).\n", *r.Chaos)
	}
	if r.Stdout != "" && !shown[r.Stdout] {
		b.WriteString("Standard output of the run (excerpt):\n")
		b.WriteString(indentBlock(clipBlock(r.Stdout)))
	}
	if r.Stderr != "" && !shown[r.Stderr] {
		b.WriteString("Standard error of the run (excerpt):\n")
		b.WriteString(indentBlock(clipBlock(r.Stderr)))
	}
}

// shownByChecks returns what the failed checks of a test showed as what
// the run did, so that the run's output is not shown twice.
func shownByChecks(t *TestResult) map[string]bool {
	shown := map[string]bool{}
	for _, c := range failedChecks(t) {
		if c.Got != "" {
			shown[c.Got] = true
		}
	}
	return shown
}

// indentBlock indents every line of s by four spaces, so that a block of
// output stands apart from the words around it, and ends it with a
// newline.
func indentBlock(s string) string {
	var b strings.Builder
	for l := range strings.Lines(endWithNewline(s)) {
		if l == "\n" {
			b.WriteString(l)
			continue
		}
		b.WriteString("    " + l)
	}
	return b.String()
}

// endWithNewline returns s ending with a newline (or empty).
func endWithNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// clipBlock bounds a block of text to clipLines lines and clipBytes bytes,
// keeping its first and last lines (where programs print what matters:
// their first output and their last words) and saying how much was left
// out. It never cuts a UTF-8 sequence in two.
func clipBlock(s string) string {
	if len(s) <= clipBytes && strings.Count(strings.TrimSuffix(s, "\n"), "\n") < clipLines {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" { // s ends with a line break
		lines = lines[:len(lines)-1]
	}
	head, tail := lines, lines
	if len(lines) > clipLines {
		head, tail = lines[:clipLines/2], lines[len(lines)-clipLines/2:]
	}
	h := takeBytes(head, clipBytes/2, false)
	t := takeBytes(tail, clipBytes/2, true)
	return endWithNewline(h) + fmt.Sprintf("[… %d bytes left out …]\n", len(s)-len(h)-len(t)) + t
}

// takeBytes joins lines up to budget bytes, from the start or, with
// fromEnd, from the end, cutting the line at the edge on a rune boundary.
func takeBytes(lines []string, budget int, fromEnd bool) string {
	s := strings.Join(lines, "")
	if len(s) <= budget {
		return s
	}
	if fromEnd {
		i := len(s) - budget
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		return s[i:]
	}
	i := budget
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
