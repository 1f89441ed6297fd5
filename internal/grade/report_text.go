package grade

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteSummary writes the report for a terminal: a table with a row per
// student, a column per exercise (score/max) and the total, then a line
// per test that did not pass, "student exercise/test: what went wrong",
// and a line per exercise that did not run, "student exercise: why". It is
// plain text (no colours: it is as often piped to a file as read on a
// terminal), aligned with text/tabwriter, and for instructors: hidden
// tests are listed like the others.
func WriteSummary(w io.Writer, r *Report) error {
	title := r.Title
	if title == "" {
		title = r.Spec
	}
	if _, err := fmt.Fprintf(w, "%s: %d %s, out of %s points\n\n", oneLine(title), len(r.Submissions),
		plural(len(r.Submissions), "submission", "submissions"), scoreText(r.MaxScore)); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}

	// The exercises, in the spec's order: every submission lists them all,
	// but a report merged from shards may not, so take each in the order
	// first seen.
	var exercises []string
	for i := range r.Submissions {
		for _, ex := range r.Submissions[i].Exercises {
			if !slices.Contains(exercises, ex.Name) {
				exercises = append(exercises, ex.Name)
			}
		}
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "student")
	for _, name := range exercises {
		fmt.Fprint(tw, "\t"+oneLine(name))
	}
	fmt.Fprint(tw, "\ttotal\n")
	for i := range r.Submissions {
		s := &r.Submissions[i]
		fmt.Fprint(tw, oneLine(s.Student))
		for _, name := range exercises {
			cell := "-"
			if j := slices.IndexFunc(s.Exercises, func(ex ExerciseResult) bool { return ex.Name == name }); j >= 0 {
				cell = scoreOutOf(s.Exercises[j].Score, s.Exercises[j].MaxScore)
			}
			fmt.Fprint(tw, "\t"+cell)
		}
		fmt.Fprintf(tw, "\t%s\n", scoreOutOf(s.Score, s.MaxScore))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}

	var b strings.Builder
	for i := range r.Submissions {
		writeSummaryProblems(&b, &r.Submissions[i])
	}
	if b.Len() > 0 {
		if _, err := io.WriteString(w, "\nNot passed:\n"+b.String()); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
	}
	return nil
}

// writeSummaryProblems writes a line per exercise of s that did not run and
// per test of s that ran and did not pass.
func writeSummaryProblems(b *strings.Builder, s *Submission) {
	for i := range s.Exercises {
		ex := &s.Exercises[i]
		if ex.State != ExerciseRan {
			fmt.Fprintf(b, "%s %s: %s", oneLine(s.Student), oneLine(ex.Name), exerciseStateWords(ex))
			if l := firstTextLine(ex.Message); l != "" {
				b.WriteString(": " + oneLine(l))
			}
			b.WriteString("\n")
		}
		for j := range ex.Tests {
			t := &ex.Tests[j]
			switch t.Status {
			case StatusPassed, StatusNotRun:
				continue
			case StatusFlaky:
				passed, total := runsPassed(t)
				what := fmt.Sprintf("flaky (passed %d of %d runs)", passed, total)
				if h := testHeadline(ex, t); h != flakyWords(t) {
					what += ": " + oneLine(h)
				}
				fmt.Fprintf(b, "%s %s/%s: %s\n", oneLine(s.Student), oneLine(ex.Name), oneLine(t.Name), what)
			default:
				fmt.Fprintf(b, "%s %s/%s: %s\n", oneLine(s.Student), oneLine(ex.Name), oneLine(t.Name), oneLine(testHeadline(ex, t)))
			}
		}
	}
}

// oneLine makes a name, a title or a message fit on one line and in one
// cell: tabs and line breaks become spaces, and other control characters
// (a student's ANSI colours, a NUL) become U+FFFD, so that the summary
// stays plain text on any terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			return ' '
		case r < 0x20 || r == 0x7f:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
