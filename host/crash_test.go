package host

import (
	"strings"
	"testing"
)

func TestCrashScanner(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"panic in one write", []string{"panic: boom\n\ngoroutine 1 [running]:\n"}, "panic: boom"},
		{"panic in pieces", []string{"pan", "ic: ", "boom", "\n", "goroutine 1"}, "panic: boom"},
		{"after other lines", []string{"hello\nworld\n", "fatal error: all goroutines are asleep - deadlock!\n"}, "fatal error: all goroutines are asleep - deadlock!"},
		{"the first counts", []string{"panic: one\npanic: two\n"}, "panic: one"},
		{"not at the start of a line", []string{"my panic: no\n", "x fatal error: no\n"}, ""},
		{"a line not yet ended", []string{"panic: half"}, ""},
		{"carriage return", []string{"panic: boom\r\n"}, "panic: boom"},
		{"long line cut", []string{"panic: " + strings.Repeat("x", 2000) + "\n"}, "panic: " + strings.Repeat("x", maxCrashLine-len("panic: "))},
		{"prefix after a long line", []string{strings.Repeat("y", 2000), "\npanic: z\n"}, "panic: z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c crashScanner
			for _, ch := range tt.chunks {
				c.scan([]byte(ch))
			}
			if c.found != tt.want {
				t.Errorf("found %q, want %q", c.found, tt.want)
			}
		})
	}
}
