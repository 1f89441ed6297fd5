package host

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPreview: the event log shows a message's start as text: JSON and
// raw bytes as they are, a tagged string as its JSON string, tagged bytes
// as Python's b'...' (docs/ABI.md, "Messages").
func TestPreview(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name, msg, want string
	}{
		{"JSON", `{"a":[1,2]}`, `{"a":[1,2]}`},
		{"JSON string", `"hi"`, `"hi"`},
		{"long JSON", `"` + long + `"`, `"` + long[:47] + "…"},
		{"raw text", "hello", "hello"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"empty", "", ""},
		{"string", "\x01hello", `"hello"`},
		{"empty string", "\x01", `""`},
		{"string of a number", "\x011", `"1"`},
		{"string to quote", "\x01a\"b\\c\n<&>", `"a\"b\\c\n<&>"`},
		{"long string", "\x01" + long, `"` + long[:47] + "…"},
		{"string of 47 bytes", "\x01" + long[:47], `"` + long[:47] + "…"}, // its quotes make it 49
		{"long string cut in a character", "\x01" + long[:45] + "é" + long, `"` + long[:45] + "é…"},
		{"bytes", "\x00ab\x00\xff\n'", `b"ab\x00\xff\n'"`},
		{"empty bytes", "\x00", `b''`},
		{"long bytes", "\x00" + long, `b'` + long[:46] + "…"},
		{"bytes to escape", "\x00" + strings.Repeat("\x00", 60), `b'` + strings.Repeat(`\x00`, 11) + `\x…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := preview([]byte(tt.msg))
			if got != tt.want {
				t.Errorf("preview(%q) = %q, want %q", tt.msg, got, tt.want)
			}
			if !utf8.ValidString(got) || len(strings.TrimSuffix(got, "…")) > previewMax {
				t.Errorf("preview(%q) = %q: not UTF-8, or longer than %d bytes", tt.msg, got, previewMax)
			}
		})
	}
}
