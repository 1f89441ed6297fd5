package grade

import (
	"bytes"
	"strings"
	"testing"
)

func TestFeedback(t *testing.T) {
	class := repClass()
	tests := []struct {
		student string
		want    []string
	}{
		{"alice", []string{
			"# Feedback for alice\n",
			"**Score: 6 of 10 points.**",
			"## fib: 5 of 5 points\n",
			"- small: passed (2 of 2 points)\n",
			"- hidden test: passed (3 of 3 points)\n",
			"- order: failed, flaky (0 of 4 points)\n",
			"- cleanup: passed (1 of 1 point)\n", // after the due date: shown
			"### order: failed, flaky\n",
			"This test passed 2 of 3 runs: the program's result depends on timing — look for a race.",
			"Expected:\n\n```text\nthese lines in order:\nworker 1\nworker 2\n```\n",
			"What your program did:\n\n```text\nworker 2\nworker 1\n```\n",
		}},
		{"bob", []string{
			"Your fib did not build, so its tests did not run. The compiler said:\n\n```text\n./fib.go:3:1:",
			`x < y && "z" declared and not used` + "\n```\n",
			"- small: not run (0 of 2 points)\n",
			"- hidden test: not run (0 of 3 points)\n",
			"The program did not finish in time: it printed without end.\\\nDoes a worker loop forever?\n",
			"The run ended with time\\_limit: the run reached its time limit of 2s; every process was killed.",
			"worker 0: ünïcödé ✓ 日本語\n",
			"worker 2999: ünïcödé ✓ 日本語\n",
			"bytes left out",
			"What your program printed on standard error (excerpt):\n\n```text\npanic: ⚠ überlauf\n```\n",
		}},
		{"zoë", []string{
			"# Feedback for zoë\n",
			"- hidden test: failed (0 of 3 points)\n",
			`The output is not exactly as expected: \<b\>\&amp;\</b\> \]\]\> ` + "\uFFFD" + `\[31mred`,
			// the output holds ``` : a longer fence keeps it inside
			"What your program did:\n\n````text\n<55> & \"quoted\" ]]>\uFFFD\n```\n````\n",
			"We found no workers in your submission, so its tests did not run.",
			"- order: not run (0 of 4 points)\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.student, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFeedback(&buf, repStudent(class, tt.student)); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("feedback.md lacks %q:\n%s", want, md)
				}
			}
			for _, secret := range []string{repHiddenName, repHiddenFeedback, repHiddenGot, "2880067194370816120", "\x1b", "\x00"} {
				if strings.Contains(md, secret) {
					t.Errorf("feedback.md holds %q (a hidden test's detail or a control character)", secret)
				}
			}
			if open := repOpenFence(md); open != "" {
				t.Errorf("feedback.md ends inside a code block opened by %q", open)
			}
			if len(md) > 40_000 {
				t.Errorf("feedback.md has %d bytes: long outputs are not clipped", len(md))
			}
			if !strings.HasSuffix(md, "\n") || strings.HasSuffix(md, "\n\n") {
				t.Errorf("feedback.md does not end with exactly one newline")
			}
		})
	}
}

// repOpenFence returns the fence of the code block md ends in (as
// CommonMark reads fences of backticks: closed by a line of at least as
// many backticks and nothing else), or "" if every block is closed.
func repOpenFence(md string) string {
	open := ""
	for l := range strings.Lines(md) {
		l = strings.TrimSuffix(l, "\n")
		ticks := len(l) - len(strings.TrimLeft(l, "`"))
		switch {
		case open == "" && ticks >= 3:
			open = l[:ticks]
		case open != "" && ticks >= len(open) && strings.Trim(l, "`") == "":
			open = ""
		}
	}
	return open
}
