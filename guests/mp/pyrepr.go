package mp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/pyrepr"
)

// pyReprValue is Python's repr of the value a message decodes to in
// Python: a tagged []byte as b'...', a tagged string as '...' (pyRepr),
// and a JSON text as None, True, False, numbers as written, strings with
// pyRepr, lists [a, b], dicts {'k': v} in the text's order. A message that
// is neither (raw bytes sent by SendBytes, or stored by another SDK) shows
// as Python's bytes repr.
func pyReprValue(data []byte) string {
	if abispec.Tagged(data) {
		if data[0] == abispec.TagBytes {
			return pyrepr.Bytes(data[1:])
		}
		return pyRepr(string(data[1:]))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b strings.Builder
	if err := reprValue(dec, &b); err != nil {
		return pyrepr.Bytes(data)
	}
	if _, err := dec.Token(); err != io.EOF {
		return pyrepr.Bytes(data)
	}
	return b.String()
}

// reprValue writes the repr of the next value of dec.
func reprValue(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case json.Number:
		b.WriteString(t.String())
	case string:
		b.WriteString(pyRepr(t))
	case json.Delim:
		switch t {
		case '[':
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := reprValue(dec, b); err != nil {
					return err
				}
			}
			b.WriteByte(']')
		case '{':
			b.WriteByte('{')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, ok := key.(string)
				if !ok {
					return fmt.Errorf("object key %v", key)
				}
				b.WriteString(pyRepr(k))
				b.WriteString(": ")
				if err := reprValue(dec, b); err != nil {
					return err
				}
			}
			b.WriteByte('}')
		default:
			return fmt.Errorf("unexpected %v", t)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
	}
	return nil
}
