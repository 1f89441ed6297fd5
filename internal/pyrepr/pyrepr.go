// Package pyrepr writes values as Python's repr() shows them, for the
// places where a guest's data is shown to people who think in Python: the
// Go SDK's String methods and the host's previews of messages.
package pyrepr

import (
	"bytes"
	"fmt"
)

// Bytes is Python's repr of a bytes value: b'...' (b"..." when it holds a
// ' and no "), with \t \n \r and \xhh escapes.
func Bytes(data []byte) string {
	quote := byte('\'')
	if bytes.IndexByte(data, '\'') >= 0 && bytes.IndexByte(data, '"') < 0 {
		quote = '"'
	}
	b := append(make([]byte, 0, len(data)+3), 'b', quote)
	for _, c := range data {
		switch {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < ' ' || c >= 0x7f:
			b = fmt.Appendf(b, `\x%02x`, c)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, quote))
}
