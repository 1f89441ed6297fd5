package pyrepr

import "testing"

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"", `b''`},
		{"abc", `b'abc'`},
		{"it's", `b"it's"`},
		{`it's "x"`, `b'it\'s "x"'`},
		{"a\\b", `b'a\\b'`},
		{"\t\n\r", `b'\t\n\r'`},
		{"\x00\x7f\xff", `b'\x00\x7f\xff'`},
	} {
		if got := Bytes([]byte(c.in)); got != c.want {
			t.Errorf("Bytes(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
