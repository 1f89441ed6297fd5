package grade

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummaryTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, repClass()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(out, "\n")

	// The table: a header, then a row per student with its cells at the
	// header's columns (counted in characters: "zoë" is one column wider in
	// bytes than in characters).
	header := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "student") {
			header = i
			break
		}
	}
	if header < 0 {
		t.Fatalf("no header row in the summary:\n%s", out)
	}
	columns := []string{"student", "fib", "workers", "total"}
	rows := []struct {
		line  string
		cells []string
	}{
		{lines[header], columns},
		{lines[header+1], []string{"alice", "5/5", "1/5", "6/10"}},
		{lines[header+2], []string{"bob", "0/5", "1/5", "1/10"}},
		{lines[header+3], []string{"zoë", "0/5", "0/5", "0/10"}},
	}
	at := func(line, cell string, from int) int {
		i := strings.Index(line[from:], cell)
		if i < 0 {
			return -1
		}
		return from + i
	}
	var want []int // the column of each cell in the header
	for _, row := range rows {
		from := 0
		var got []int
		for _, cell := range row.cells {
			i := at(row.line, cell, from)
			if i < 0 {
				t.Fatalf("the row %q lacks the cell %q", row.line, cell)
			}
			got = append(got, utf8.RuneCountInString(row.line[:i]))
			from = i + len(cell)
		}
		if want == nil {
			want = got
			continue
		}
		for c := range got {
			if got[c] != want[c] {
				t.Errorf("in the row %q, %q starts at column %d, the header's %q at %d", row.line, row.cells[c], got[c], columns[c], want[c])
			}
		}
	}

	// Then a line per test that did not pass and per exercise that did not run.
	for _, want := range []string{
		"alice workers/order: flaky (passed 2 of 3 runs): The workers' lines came out of order in one run.\n",
		"bob fib: did not build: ./fib.go:3:1: syntax error: non-declaration statement outside function body\n",
		"bob workers/order: The program did not finish in time: it printed without end.\n",
		"zoë fib/small: The output is not exactly as expected: <b>&amp;</b> ]]> \uFFFD[31mred\uFFFD[0m\n",
		"zoë fib/" + repHiddenName + ": " + repHiddenFeedback + "\n",
		"zoë workers: is not in the submission\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks the line %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"alice fib", "bob workers/cleanup", "\x1b", "\x00", "\t"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the summary holds %q:\n%s", unwanted, out)
		}
	}
}

func TestSummaryEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, &Report{Version: ReportVersion, Spec: "s.yaml"}); err != nil {
		t.Fatal(err)
	}
	if want := "s.yaml: 0 submissions, out of 0 points\n\nstudent  total\n"; buf.String() != want {
		t.Errorf("summary of no submissions:\n%q\nwant\n%q", buf.String(), want)
	}
}
