package mp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The SDK's own messages between its processes (a shared object's JSON
// form, a pool worker's arguments, a pool's tasks and results) are JSON
// made and split here without encoding/json's reflection: a new process
// (every pool worker is one) paid for its first struct of each type, as
// encoding/json builds its description of the type's fields once a
// process, about 0.1 to 0.5 ms, a pool worker's third of its JSON time.
// Values a program passes (arguments, results, messages) are still
// encoding/json's, element by element.

// errNotArray is splitArray's error for what is not a JSON array.
var errNotArray = errors.New("not a JSON array")

// splitArray splits a JSON array into its elements, each still JSON to
// decode (whoever decodes it checks it; here only its extent is found:
// strings with their escapes, nested arrays and objects). Whitespace
// around elements is dropped.
func splitArray(b []byte) ([][]byte, error) {
	b = trimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, errNotArray
	}
	inner := trimSpace(b[1 : len(b)-1])
	if len(inner) == 0 {
		return [][]byte{}, nil
	}
	var out [][]byte
	depth, start, inString := 0, 0, false
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if inString {
			switch c {
			case '\\':
				i++ // (the escaped byte; a \u's hex digits need no care)
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth < 0 {
				return nil, errNotArray
			}
		case ',':
			if depth == 0 {
				el := trimSpace(inner[start:i])
				if len(el) == 0 {
					return nil, errNotArray
				}
				out = append(out, el)
				start = i + 1
			}
		}
	}
	el := trimSpace(inner[start:])
	if inString || depth != 0 || len(el) == 0 {
		return nil, errNotArray
	}
	return append(out, el), nil
}

func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// jsonInt decodes a JSON integer element (no sign but -, no leading zero).
func jsonInt(b []byte) (int64, error) {
	digits, _ := bytes.CutPrefix(b, []byte("-"))
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) || digits[0] == '+' || digits[0] == '-' {
		return 0, fmt.Errorf("%q is not a JSON integer", b)
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	if !plainString(s) {
		q, _ := json.Marshal(s) // (a string always encodes)
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainString reports whether s is printable ASCII with no quote or
// backslash: the same between quotes in JSON.
func plainString[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonString decodes a JSON string element.
func jsonString(b []byte) (string, error) {
	var s string
	err := unmarshal(b, &s)
	return s, err
}

// appendArray appends JSON texts as a JSON array.
func appendArray[E ~[]byte](b []byte, elements []E) []byte {
	b = append(b, '[')
	for i, e := range elements {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, ']')
}

// rawArray is splitArray whose elements are json.RawMessage.
func rawArray(b []byte) ([]json.RawMessage, error) {
	els, err := splitArray(b)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(els))
	for i, e := range els {
		out[i] = e
	}
	return out, nil
}

// fields checks that a message split by splitArray has one of the counts
// of elements its kind has.
func fields(what string, els [][]byte, err error, counts ...int) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, n := range counts {
		if len(els) == n {
			return nil
		}
	}
	return fmt.Errorf("%s: %d fields", what, len(els))
}

// The values a program passes are encoding/json's, but the usual ones of
// a Pool's items and results and of messages (integers, booleans, plain
// strings) are written and read here as encoding/json writes and reads
// them, without its reflection: in a wasip1 guest a json.Marshal of one
// integer took about 1 µs and an Unmarshal 2, a Pool's hundred items
// four of each.

// marshal is json.Marshal.
func marshal(v any) ([]byte, error) {
	if b, ok := appendScalar(nil, v); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// appendScalar appends v's JSON if v is an integer, a bool, nil or a
// plain string (ok false: another value, for encoding/json).
func appendScalar(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case bool:
		return strconv.AppendBool(b, x), true
	case nil:
		return append(b, "null"...), true
	case string:
		if plainString(x) && !strings.ContainsAny(x, "<>&") { // (encoding/json escapes those)
			return appendJSONString(b, x), true
		}
	}
	return b, false
}

// unmarshal is json.Unmarshal.
func unmarshal(b []byte, v any) error {
	if unmarshalScalar(b, v) {
		return nil
	}
	return json.Unmarshal(b, v)
}

// unmarshalScalar decodes b into v if v is a *int, an *int64, a *bool or a
// *string and b that type's plain JSON (false: not done, for
// encoding/json, which also gives the errors).
func unmarshalScalar(b []byte, v any) bool {
	switch p := v.(type) {
	case *int:
		if n, err := jsonInt(b); err == nil && p != nil && n == int64(int(n)) {
			*p = int(n)
			return true
		}
	case *int64:
		if n, err := jsonInt(b); err == nil && p != nil {
			*p = n
			return true
		}
	case *bool:
		if p != nil && (string(b) == "true" || string(b) == "false") {
			*p = string(b) == "true"
			return true
		}
	case *string:
		if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && plainString(b[1:len(b)-1]) && p != nil {
			*p = string(b[1 : len(b)-1])
			return true
		}
	}
	return false
}

// marshalArray is json.Marshal of vs, element by element (marshal).
func marshalArray(vs []any) ([]byte, error) {
	if vs == nil {
		return []byte("null"), nil // (as encoding/json)
	}
	b := []byte{'['}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendScalar(b, v); !ok {
			e, err := json.Marshal(v)
			if err != nil {
				_, err = json.Marshal(vs) // (its words: a cycle is named from the array)
				return nil, err
			}
			b = append(b, e...)
		}
	}
	return append(b, ']'), nil
}
