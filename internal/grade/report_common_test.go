package grade

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReportClipBlock(t *testing.T) {
	manyLines := repLongOutput(1000)
	oneLong := strings.Repeat("日本語", 5000) // one line, 45,000 bytes
	tests := []struct {
		name    string
		in      string
		clipped bool
		keep    []string // what must stay
	}{
		{"short", "55\n", false, []string{"55\n"}},
		{"empty", "", false, nil},
		{"exactly the lines allowed", repLongOutput(clipLines), false, nil},
		{"many lines", manyLines, true, []string{"worker 0: ", "worker 29: ", "worker 970: ", "worker 999: "}},
		{"one long line", oneLong, true, []string{"日本語日本語"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipBlock(tt.in)
			if !tt.clipped {
				if got != tt.in {
					t.Errorf("clipBlock changed a block within bounds:\n%q\nto\n%q", tt.in, got)
				}
				return
			}
			if !strings.Contains(got, "bytes left out") {
				t.Errorf("clipBlock does not say it left text out:\n%s", got)
			}
			if !utf8.ValidString(got) {
				t.Errorf("clipBlock cut a character in two")
			}
			if len(got) > clipBytes+100 || strings.Count(got, "\n") > clipLines+2 {
				t.Errorf("clipBlock kept %d bytes and %d lines, want at most about %d and %d",
					len(got), strings.Count(got, "\n"), clipBytes, clipLines)
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("clipBlock lost %q", k)
				}
			}
		})
	}
}

func TestReportScoreText(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {10, "10"}, {2.5, "2.5"}, {1.0 / 3, "0.33"}, {-0.001, "0"}, {2.999, "3"}}
	for _, tt := range tests {
		if got := scoreText(tt.in); got != tt.want {
			t.Errorf("scoreText(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
