package grade

import (
	"fmt"
	"io"
	"strings"
)

// WriteFeedback writes one submission's feedback.md, for the student, in
// plain words: the score, then a section per exercise with each test
// passed or failed; for a failure, what was expected and what the program
// did, with excerpts of its output in fenced code blocks; for a flaky
// test, that its result depends on timing.
//
// A hidden test shows as "hidden test: passed" or "failed" with its
// points, and nothing else: not its name, feedback, checks or output.
// Tests shown after the due date or after publication are shown in full:
// this file is written when the instructor grades, and handed out when
// they choose.
func WriteFeedback(w io.Writer, s *Submission) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Feedback for %s\n\n", mdText(s.Student))
	fmt.Fprintf(&b, "**Score: %s.**\n", pointsOf(s.Score, s.MaxScore))
	for i := range s.Exercises {
		if err := writeFeedbackExercise(&b, &s.Exercises[i]); err != nil {
			return fmt.Errorf("feedback of %s: %w", s.Student, err)
		}
	}
	if _, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n"); err != nil {
		return fmt.Errorf("write feedback of %s: %w", s.Student, err)
	}
	return nil
}

// writeFeedbackExercise writes the section of one exercise.
func writeFeedbackExercise(b *strings.Builder, ex *ExerciseResult) error {
	mdBlankLine(b)
	fmt.Fprintf(b, "## %s: %s\n\n", mdText(ex.Name), pointsOf(ex.Score, ex.MaxScore))
	switch ex.State {
	case ExerciseRan:
	case ExerciseCompileError:
		fmt.Fprintf(b, "Your %s did not build, so its tests did not run.", mdText(ex.Name))
		if ex.Message != "" {
			b.WriteString(" The compiler said:\n\n" + mdFence(ex.Message))
		} else {
			b.WriteString("\n\n")
		}
	case ExerciseMissing:
		fmt.Fprintf(b, "We found no %s in your submission, so its tests did not run.\n\n", mdText(ex.Name))
	case ExerciseInvalid:
		fmt.Fprintf(b, "Your %s cannot run in the sandbox, so its tests did not run.\n\n", mdText(ex.Name))
		if ex.Message != "" {
			b.WriteString(mdFence(ex.Message))
		}
	default:
		fmt.Fprintf(b, "The tests of %s did not run.\n\n", mdText(ex.Name))
	}
	// A line per test, then what went wrong in each failed test the
	// student may see.
	var details []*TestResult
	for j := range ex.Tests {
		t := &ex.Tests[j]
		vis, err := visibilityOf(t)
		if err != nil {
			return fmt.Errorf("exercise %s: %w", ex.Name, err)
		}
		status := feedbackStatusWords(t.Status) + " (" + pointsOf(t.Score, t.MaxScore) + ")"
		if vis == VisibilityHidden {
			fmt.Fprintf(b, "- hidden test: %s\n", status)
			continue
		}
		fmt.Fprintf(b, "- %s: %s\n", mdText(t.Name), status)
		if t.Status != StatusPassed && t.Status != StatusNotRun {
			details = append(details, t)
		}
	}
	for _, t := range details {
		mdBlankLine(b)
		fmt.Fprintf(b, "### %s: %s\n\n", mdText(t.Name), feedbackStatusWords(t.Status))
		writeFeedbackFailure(b, t)
	}
	return nil
}

// feedbackStatusWords says a test's status to a student.
func feedbackStatusWords(status string) string {
	switch status {
	case StatusPassed:
		return "passed"
	case StatusNotRun:
		return "not run"
	case StatusFlaky:
		return "failed, flaky"
	}
	return "failed"
}

// writeFeedbackFailure writes what went wrong in a failed or flaky test:
// the feedback, why a flaky test is flaky, each failed check with what it
// expected and what the program did, and how the run ended.
func writeFeedbackFailure(b *strings.Builder, t *TestResult) {
	if t.Feedback != "" {
		b.WriteString(mdParagraph(clipBlock(t.Feedback)))
	}
	if t.Status == StatusFlaky {
		b.WriteString(mdParagraph("This test " + flakyWords(t) + "."))
	}
	for _, c := range failedChecks(t) {
		line := "Check **" + mdText(c.Name) + "** failed."
		if c.Message != "" {
			line += " " + mdText(c.Message)
		}
		b.WriteString(line + "\n\n")
		if c.Expected != "" {
			b.WriteString("Expected:\n\n" + mdFence(c.Expected))
		}
		if c.Expected != "" || c.Got != "" {
			if c.Got == "" {
				b.WriteString("What your program did: nothing.\n\n")
			} else {
				b.WriteString("What your program did:\n\n" + mdFence(c.Got))
			}
		}
	}
	r := firstFailedRun(t)
	if r == nil {
		return
	}
	if r.Verdict != "" && r.Verdict != "ok" {
		how := "The run ended with " + r.Verdict
		if r.Explanation != "" {
			how += ": " + firstTextLine(r.Explanation)
		}
		b.WriteString(mdParagraph(how + "."))
	}
	shown := shownByChecks(t)
	if r.Stdout != "" && !shown[r.Stdout] {
		b.WriteString("What your program printed (excerpt):\n\n" + mdFence(r.Stdout))
	}
	if r.Stderr != "" && !shown[r.Stderr] {
		b.WriteString("What your program printed on standard error (excerpt):\n\n" + mdFence(r.Stderr))
	}
}

// mdBlankLine ends what b holds with one blank line (and no more), as a
// heading needs before it.
func mdBlankLine(b *strings.Builder) {
	switch s := b.String(); {
	case strings.HasSuffix(s, "\n\n"):
	case strings.HasSuffix(s, "\n"):
		b.WriteString("\n")
	default:
		b.WriteString("\n\n")
	}
}

// mdText escapes the characters that Markdown would read as markup (or
// HTML) in a line of text, so that a name like "a_b_c" or an output like
// "<b>" reads as written; it keeps the text on one line (oneLine).
func mdText(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		if strings.ContainsRune("\\`*_[]<>#|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdParagraph writes text as a Markdown paragraph, escaped, keeping its
// line breaks (as hard breaks) and ending with a blank line.
func mdParagraph(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimRight(l, " \t\r\n"); l != "" {
			lines = append(lines, mdText(l))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\\\n") + "\n\n"
}

// mdFence writes text as a fenced code block, clipped, with a fence longer
// than any run of backticks in it so that the text cannot close it.
//
// Control characters other than tabs and line breaks (a program's ANSI
// colours, a NUL) become U+FFFD, so the file shows the same everywhere.
func mdFence(s string) string {
	s = strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = endWithNewline(clipBlock(s))
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "text\n" + s + fence + "\n\n"
}
