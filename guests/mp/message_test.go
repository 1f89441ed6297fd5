//go:build !wasip1

package mp

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// Messages: a []byte and a string travel raw behind a tag byte, anything
// else as JSON (object.go).

type blob []byte  // a named byte slice: JSON (base64), not tagged
type label string // a named string: JSON, not tagged

// upper decodes itself from text.
type upper string

func (u *upper) UnmarshalText(b []byte) error {
	*u = upper(strings.ToUpper(string(b)))
	return nil
}

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"bytes", []byte("ab\x00"), "\x00ab\x00"},
		{"empty bytes", []byte{}, "\x00"},
		{"nil bytes", []byte(nil), "\x00"},
		{"string", "héllo", "\x01héllo"},
		{"empty string", "", "\x01"},
		{"invalid UTF-8", "a\xffb\xc3", "\x01a\uFFFDb\uFFFD"}, // as encoding/json: each bad byte
		{"json string look-alike", `"x"`, "\x01\"x\""},
		{"int", 42, "42"},
		{"nil", nil, "null"},
		{"list", []any{"a", []byte("b")}, `["a","Yg=="]`}, // inside JSON, JSON's rules
		{"named bytes", blob("b"), `"Yg=="`},
		{"named string", label("x"), `"x"`},
		{"raw JSON", json.RawMessage(`{"a":1}`), `{"a":1}`},
		{"pointer to string", new(string), `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeValue(tt.v)
			if err != nil || string(b) != tt.want {
				t.Errorf("encodeValue(%#v) = %q, %v; want %q", tt.v, b, err, tt.want)
			}
		})
	}
	src := []byte("abc")
	b, _ := encodeValue(src)
	src[0] = 'X'
	if string(b) != "\x00abc" {
		t.Errorf("the message shares the caller's slice: %q", b)
	}
}

func TestDecodeValue(t *testing.T) {
	type point struct{ X, Y int }
	tests := []struct {
		name string
		msg  string
		into func() any // a fresh pointer
		want any        // what it points to after, when no error
		err  string     // a substring of the error
	}{
		{"bytes into []byte", "\x00a\x00b", func() any { return new([]byte) }, []byte("a\x00b"), ""},
		{"empty bytes into []byte", "\x00", func() any { return new([]byte) }, []byte{}, ""},
		{"bytes into any", "\x00ab", func() any { return new(any) }, any([]byte("ab")), ""},
		{"bytes into string", "\x00ab", func() any { return new(string) },
			nil, "mp: decoding a message into *string: json: cannot unmarshal bytes into Go value of type string"},
		{"bytes into int", "\x00ab", func() any { return new(int) },
			nil, "json: cannot unmarshal bytes into Go value of type int"},
		{"bytes into named bytes", "\x00ab", func() any { return new(blob) }, blob("ab"), ""},
		{"bytes into named string", "\x00ab", func() any { return new(label) },
			nil, "json: cannot unmarshal bytes into Go value of type mp.label"},
		{"bytes into raw JSON", "\x00ab", func() any { return new(json.RawMessage) }, json.RawMessage(`"YWI="`), ""},
		{"bytes into a text decoder", "\x00ab", func() any { return new(upper) }, upper("YWI="), ""},
		{"string into string", "\x01héllo", func() any { return new(string) }, "héllo", ""},
		{"empty string into string", "\x01", func() any { return new(string) }, "", ""},
		{"string into any", "\x01x", func() any { return new(any) }, any("x"), ""},
		{"string into []byte", "\x01ab", func() any { return new([]byte) },
			nil, "mp: decoding a message into *[]uint8: json: cannot unmarshal string into Go value of type []uint8"},
		{"string into int", "\x01ab", func() any { return new(int) },
			nil, "json: cannot unmarshal string into Go value of type int"},
		{"string into named string", "\x01ab", func() any { return new(label) }, label("ab"), ""},
		{"string into named bytes", "\x01ab", func() any { return new(blob) },
			nil, "json: cannot unmarshal string into Go value of type mp.blob"},
		{"string into a text decoder", "\x01ab", func() any { return new(upper) }, upper("AB"), ""},
		{"string into json.Number", "\x01ab", func() any { return new(json.Number) }, nil, "invalid number literal"},
		{"number string into json.Number", "\x0112", func() any { return new(json.Number) }, json.Number("12"), ""},
		{"string into raw JSON", "\x01a\"b", func() any { return new(json.RawMessage) }, json.RawMessage(`"a\"b"`), ""},
		{"string that looks like JSON", "\x01[1]", func() any { return new(any) }, any("[1]"), ""},
		// JSON as always.
		{"JSON string into string", `"x"`, func() any { return new(string) }, "x", ""},
		{"JSON base64 into []byte", `"YWI="`, func() any { return new([]byte) }, []byte("ab"), ""},
		{"JSON number into string", `1`, func() any { return new(string) },
			nil, "mp: decoding a message into *string: json: cannot unmarshal number into Go value of type string"},
		{"JSON object", `{"X":1,"Y":2}`, func() any { return new(point) }, point{1, 2}, ""},
		{"JSON with leading space", " 3", func() any { return new(int) }, 3, ""},
		{"empty message", "", func() any { return new(int) }, nil, "unexpected end of JSON input"},
		{"not a pointer", "\x00ab", func() any { return []byte(nil) }, nil, "json: Unmarshal(non-pointer []uint8)"},
		{"nil pointer", "\x01ab", func() any { return (*string)(nil) }, nil, "json: Unmarshal(nil *string)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.into()
			err := decodeValue([]byte(tt.msg), v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			mustOK(t, err)
			if got := reflect.ValueOf(v).Elem().Interface(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %#v, want %#v", got, tt.want)
			}
		})
	}
	// A type error is a *json.UnmarshalTypeError, as JSON's are.
	var te *json.UnmarshalTypeError
	var s string
	if err := decodeValue([]byte("\x00x"), &s); !errors.As(err, &te) || te.Value != "bytes" {
		t.Errorf("bytes into a string: %v, want a *json.UnmarshalTypeError of bytes", err)
	}
	// nil drops any message.
	if err := decodeValue([]byte("\x00x"), nil); err != nil {
		t.Errorf("a nil v: %v", err)
	}
	// An interface holding a pointer decodes into it, as encoding/json.
	var into any = &s
	mustOK(t, decodeValue([]byte("\x01in"), &into))
	if s != "in" || into != any(&s) {
		t.Errorf("through an interface holding a pointer: %q, %v", s, into)
	}
}

// TestDecodeBuffer: a []byte decoded from a receive's buffer does not
// keep a mostly unused buffer alive, and never shares one with another
// message.
func TestDecodeBuffer(t *testing.T) {
	buf := make([]byte, 4096)
	copy(buf, "\x00abc")
	var b []byte
	mustOK(t, decodeValue(buf[:4], &b))
	if string(b) != "abc" || cap(b) != 3 || &b[0] == &buf[1] {
		t.Errorf("small message in a big buffer: %q cap %d, shared %v", b, cap(b), &b[0] == &buf[1])
	}
	full := append([]byte{abispec.TagBytes}, bytes.Repeat([]byte("x"), 100)...)
	mustOK(t, decodeValue(full, &b))
	if len(b) != 100 || cap(b) != 100 {
		t.Errorf("a full buffer: len %d cap %d (an append must not write past it)", len(b), cap(b))
	}

	useFake(t)
	q := NewQueue(0)
	for _, m := range []string{"first", "second"} {
		mustOK(t, q.Put([]byte(m)))
	}
	var one, two []byte
	mustOK(t, q.Get(&one))
	mustOK(t, q.Get(&two))
	one[0] = 'X'
	if string(two) != "second" || string(one) != "Xirst" {
		t.Errorf("two messages got %q and %q: they share memory", one, two)
	}
}

// TestMessages: every kind of value round trips through every object
// that carries messages, as its own type.
func TestMessages(t *testing.T) {
	useFake(t)
	big := bytes.Repeat([]byte{0, 1, 0xff, 'x'}, minRecvBuffer) // past the first buffer
	values := []struct {
		name string
		v    any
		into func() any
		want any
	}{
		{"bytes", []byte("\x00\x01\xffraw"), func() any { return new([]byte) }, []byte("\x00\x01\xffraw")},
		{"big bytes", big, func() any { return new([]byte) }, big},
		{"empty bytes", []byte{}, func() any { return new([]byte) }, []byte{}},
		{"bytes as any", []byte("b"), func() any { return new(any) }, any([]byte("b"))},
		{"string", "sträng", func() any { return new(string) }, "sträng"},
		{"empty string", "", func() any { return new(string) }, ""},
		{"string as any", "s", func() any { return new(any) }, any("s")},
		{"int", 7, func() any { return new(int) }, 7},
		{"map", map[string]int{"a": 1}, func() any { return new(map[string]int) }, map[string]int{"a": 1}},
		{"none", nil, func() any { return new(any) }, nil},
	}
	m := Manager()
	r, w := Pipe(false)
	q := NewQueue(0)
	ns, d, l := m.Namespace(), m.Dict(), m.List()
	carriers := []struct {
		name string
		put  func(v any) error
		get  func(v any) error
	}{
		{"pipe", w.Send, r.Recv},
		{"queue", q.Put, q.Get},
		{"namespace", func(v any) error { return ns.Set("x", v) }, func(v any) error { return ns.Get("x", v) }},
		{"dict", func(v any) error { return d.Set("x", v) }, func(v any) error { return d.Get("x", v) }},
		{"list", l.Append, func(v any) error { return l.Pop(0, v) }},
	}
	for _, c := range carriers {
		for _, tt := range values {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				mustOK(t, c.put(tt.v))
				v := tt.into()
				mustOK(t, c.get(v))
				if got := reflect.ValueOf(v).Elem().Interface(); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %#v, want %#v", got, tt.want)
				}
			})
		}
	}
	// A message of the wrong type is consumed and reported.
	mustOK(t, q.Put([]byte("b")))
	var s string
	if err := q.Get(&s); err == nil || !strings.Contains(err.Error(), "cannot unmarshal bytes into Go value of type string") {
		t.Errorf("bytes into a string: %v", err)
	}
	if !q.Empty() {
		t.Error("the message was not consumed")
	}
	// RecvBytes gets a message as sent; SendBytes sends it as it is.
	mustOK(t, w.Send("hi"))
	if b, err := r.RecvBytes(); string(b) != "\x01hi" || err != nil {
		t.Errorf("RecvBytes of a string = %q, %v", b, err)
	}
	mustOK(t, w.SendBytes([]byte(`{"a":1}`))) // JSON from another SDK
	var any1 any
	mustOK(t, r.Recv(&any1))
	if !reflect.DeepEqual(any1, map[string]any{"a": 1.0}) {
		t.Errorf("JSON sent raw decoded as %#v", any1)
	}
	mustOK(t, w.SendBytes([]byte("\x00tagged by hand")))
	var b []byte
	mustOK(t, r.Recv(&b))
	if string(b) != "tagged by hand" {
		t.Errorf("bytes tagged by hand: %q", b)
	}
}

// TestManagerMessages: lists and dicts of tagged and JSON values, read
// whole, shown, and listed.
func TestManagerMessages(t *testing.T) {
	useFake(t)
	m := Manager()
	l := m.List([]byte("b\x00"), "s", 1, nil, []byte{}, "")

	var all []any
	mustOK(t, l.All(&all))
	if want := []any{[]byte("b\x00"), "s", 1.0, nil, []byte{}, ""}; !reflect.DeepEqual(all, want) {
		t.Errorf("All into []any = %#v, want %#v", all, want)
	}
	var anyAll any
	mustOK(t, l.All(&anyAll))
	if !reflect.DeepEqual(anyAll, all) {
		t.Errorf("All into any = %#v", anyAll)
	}
	var arr [2]any
	mustOK(t, l.All(&arr))
	if !reflect.DeepEqual(arr, [2]any{[]byte("b\x00"), "s"}) {
		t.Errorf("All into [2]any = %#v", arr)
	}
	var raws []json.RawMessage
	mustOK(t, l.All(&raws))
	if got := string(bytes.Join(func() [][]byte {
		var out [][]byte
		for _, r := range raws {
			out = append(out, r)
		}
		return out
	}(), []byte(","))); got != `"YgA=","s",1,null,"",""` {
		t.Errorf("All into []json.RawMessage = %s", got)
	}
	var whole json.RawMessage // decodes itself: the JSON array, tagged items as their JSON
	mustOK(t, l.All(&whole))
	if string(whole) != `["YgA=","s",1,null,"",""]` {
		t.Errorf("All into json.RawMessage = %s", whole)
	}
	var viaAny any = &arr // an interface holding a pointer: into what it points to, as encoding/json
	mustOK(t, l.All(&viaAny))
	if viaAny != any(&arr) || arr[1] != "s" {
		t.Errorf("All into an any holding *[2]any: %#v, %#v", viaAny, arr)
	}
	if err := l.All(arr); err == nil {
		t.Error("All into a non-pointer")
	}
	if got, want := l.String(), `[b'b\x00', 's', 1, None, b'', '']`; got != want {
		t.Errorf("repr %s, want %s", got, want)
	}
	var strs []string
	err := l.All(&strs)
	if err == nil || !strings.Contains(err.Error(), "item 0: json: cannot unmarshal bytes into Go value of type string") {
		t.Errorf("All of bytes into []string: %v", err)
	}

	words := m.List("a", "b")
	mustOK(t, words.All(&strs))
	if !reflect.DeepEqual(strs, []string{"a", "b"}) {
		t.Errorf("All into []string = %q", strs)
	}
	var blobs [][]byte
	chunks := m.List([]byte("x"), []byte("yz"))
	mustOK(t, chunks.All(&blobs))
	if !reflect.DeepEqual(blobs, [][]byte{[]byte("x"), []byte("yz")}) {
		t.Errorf("All into [][]byte = %q", blobs)
	}
	var nums []int
	mustOK(t, m.List(1, 2).All(&nums)) // JSON only: as always
	if !reflect.DeepEqual(nums, []int{1, 2}) {
		t.Errorf("All into []int = %v", nums)
	}

	d := m.Dict()
	mustOK(t, d.Set("k", []byte("v")))
	mustOK(t, d.Set(2, "two"))
	mustOK(t, d.Set("n", 3))
	if got, want := d.String(), `{'k': b'v', 2: 'two', 'n': 3}`; got != want {
		t.Errorf("repr %s, want %s", got, want)
	}
	var vals []any
	mustOK(t, d.Values(&vals))
	if !reflect.DeepEqual(vals, []any{[]byte("v"), "two", 3.0}) {
		t.Errorf("Values = %#v", vals)
	}
	var keys []any
	mustOK(t, d.Keys(&keys))
	if !reflect.DeepEqual(keys, []any{"k", 2.0, "n"}) {
		t.Errorf("Keys = %#v", keys)
	}
	items, err := d.Items()
	mustOK(t, err)
	var got []string
	for _, it := range items {
		got = append(got, string(it.Key)+":"+string(it.Value))
	}
	if want := `"k":"dg==" 2:"two" "n":3`; strings.Join(got, " ") != want {
		t.Errorf("Items = %s, want %s (JSON)", strings.Join(got, " "), want)
	}

	ns := m.Namespace()
	mustOK(t, ns.Set("b", []byte("it's")))
	mustOK(t, ns.Set("s", "x"))
	if got, want := ns.String(), `Namespace(b=b"it's", s='x')`; got != want {
		t.Errorf("repr %s, want %s", got, want)
	}
}
