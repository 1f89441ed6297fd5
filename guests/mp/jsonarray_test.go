package mp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: refused
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`[1]`, []string{`1`}},
		{`[1, "a,b", [2,[3]], {"k":[4,5]}, null]`, []string{`1`, `"a,b"`, `[2,[3]]`, `{"k":[4,5]}`, `null`}},
		{`["a\"],[", "\\"]`, []string{`"a\"],["`, `"\\"`}},
		{"[\n\t1 ,\r\n2\n]", []string{`1`, `2`}},
		{``, nil},
		{`1`, nil},
		{`{"a":1}`, nil},
		{`[1,]`, nil},
		{`[,1]`, nil},
		{`[1,,2]`, nil},
		{`[1]]`, nil},
		{`[[1]`, nil},
		{`["a]`, nil},
		{`["a\"]`, nil},
		{`[1}]`, nil},
	}
	for _, tt := range tests {
		got, err := splitArray([]byte(tt.in))
		if tt.want == nil {
			if err == nil {
				t.Errorf("splitArray(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("splitArray(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] {
				t.Errorf("splitArray(%q)[%d] = %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "main.square", `a"b\c`, "é\u2028", "tab\there", "\x7f"} {
		b := appendJSONString([]byte("x"), s)
		want, _ := json.Marshal(s)
		if string(b[1:]) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, b[1:], want)
		}
		if got, err := jsonString(b[1:]); err != nil || got != s {
			t.Errorf("jsonString(%s) = %q, %v", b[1:], got, err)
		}
	}
	if _, err := jsonString([]byte(`"a`)); err == nil {
		t.Error(`jsonString("a) took it`)
	}
}

// TestObjectForm: marshalObject writes what json.Marshal of the objectJSON
// writes, plainObject reads it back, and leaves every other form to
// json.Unmarshal (which still decodes it, or refuses it, as before).
func TestObjectForm(t *testing.T) {
	b, err := marshalObject(kindQueueJSON, 12)
	want, _ := json.Marshal(objectJSON{Kind: kindQueueJSON, Handle: 12})
	if err != nil || string(b) != string(want) {
		t.Fatalf("marshalObject = %s, %v; want %s", b, err, want)
	}
	if h, ok := plainObject(b, kindQueueJSON); !ok || h != 12 {
		t.Errorf("plainObject(%s) = %d, %v", b, h, ok)
	}
	for _, in := range []string{
		`{"mp":"Queue","handle":12}`[:10],
		`{"mp":"Lock","handle":12}`,
		`{"mp":"Queue", "handle":12}`,
		`{"mp":"Queue","handle":012}`,
		`{"mp":"Queue","handle":+12}`,
		`{"mp":"Queue","handle":-12}`,
		`{"mp":"Queue","handle":12,"mode":"r"}`,
		`{"mp":"Queue","handle":99999999999}`,
		`{"mp":"Queue","handle":}`,
	} {
		if h, ok := plainObject([]byte(in), kindQueueJSON); ok {
			t.Errorf("plainObject(%s) = %d: not the plain form", in, h)
		}
	}
	// Another form still decodes (by encoding/json), another kind does not.
	if o, err := unmarshalObject([]byte(`{ "handle": 7, "mp": "Queue" }`), kindQueueJSON); err != nil || o.Handle != 7 {
		t.Errorf("unmarshalObject, fields reordered = %+v, %v", o, err)
	}
	if _, err := unmarshalObject([]byte(`{"mp":"Lock","handle":7}`), kindQueueJSON); err == nil || !strings.Contains(err.Error(), "got a Lock") {
		t.Errorf("unmarshalObject of a Lock as a Queue: %v", err)
	}
}

// TestPoolMessages: a task, a result, an error and a worker's arguments
// come back as they were sent; malformed ones are refused.
func TestPoolMessages(t *testing.T) {
	raw := func(s ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(s))
		for i, x := range s {
			out[i] = json.RawMessage(x)
		}
		return out
	}
	task := poolTask{Job: 3, Chunk: 9, Func: "main.square", Args: raw(`[1]`, `[{"a":"]"}]`, `["x",[2]]`)}
	var gotTask poolTask
	if err := gotTask.decode(task.appendJSON(nil)); err != nil || !reflect.DeepEqual(gotTask, task) {
		t.Errorf("task: %+v, %v; want %+v", gotTask, err, task)
	}
	for _, r := range []poolResult{
		{Job: 1, Chunk: 0, Values: raw(`1`, `"two"`, `[3]`, `null`)},
		{Job: 1, Chunk: 2, Values: raw()},
		{Job: 2, Chunk: 1, Err: &RemoteError{Func: "main.f", Worker: "PoolWorker-1", Msg: "boom", Panic: true, Stack: "at f"}},
	} {
		b, err := r.appendJSON(nil)
		var got poolResult
		if err == nil {
			err = got.decode(b)
		}
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("result %s: %+v, %v; want %+v", b, got, err, r)
		}
	}
	wa := workerArgs{Tasks: &Queue{handle: 4}, Results: &Queue{handle: 5}, Init: "main.init", InitArgs: json.RawMessage(`[1,"a"]`)}
	b, err := wa.appendJSON(nil)
	var gotArgs workerArgs
	if err == nil {
		err = gotArgs.decode(b)
	}
	if err != nil || gotArgs.Tasks.handle != 4 || gotArgs.Results.handle != 5 || gotArgs.Init != wa.Init || string(gotArgs.InitArgs) != string(wa.InitArgs) {
		t.Errorf("worker arguments %s: %+v, %v", b, gotArgs, err)
	}
	for _, bad := range []string{`[1,2,"f"]`, `["1",2,"f",[]]`, `[1,2,3,[]]`, `[1,2,"f",{}]`, `{"j":1}`} {
		var tk poolTask
		if err := tk.decode([]byte(bad)); err == nil {
			t.Errorf("task %s decoded: %+v", bad, tk)
		}
	}
	for _, bad := range []string{`[1,2]`, `[1,2,{}]`, `[1,2,null,"e"]`, `[1,2,[],{},5]`, `[1,2,[],{"msg":"x"}]`, `[1,2,null,null]`, `[+1,2,[]]`, `[01,2,[]]`, `[1,-,[]]`} {
		var r poolResult
		if err := r.decode([]byte(bad)); err == nil {
			t.Errorf("result %s decoded: %+v", bad, r)
		}
	}
	for _, bad := range []string{`[{"mp":"Queue","handle":1}]`, `[{"mp":"Lock","handle":1},{"mp":"Queue","handle":2},"",[]]`} {
		var a workerArgs
		if err := a.decode([]byte(bad)); err == nil {
			t.Errorf("worker arguments %s decoded", bad)
		}
	}
}

// TestScalars: marshal and unmarshal give what encoding/json gives, for
// the values they do themselves and for others (which they hand over).
func TestScalars(t *testing.T) {
	type named int
	values := []any{0, -7, int64(1 << 40), int64(-1 << 62), int32(5), uint64(1 << 63), true, false, nil,
		"", "main.square", "a<b", "é", "tab\t", `q"`, "\u2028", "\u2029", "\xff", "\x7f", 1.5, named(3), marshaler(4),
		[]int{1}, map[string]int{"a": 1}}
	for _, v := range values {
		got, err := marshal(v)
		want, werr := json.Marshal(v)
		if string(got) != string(want) || (err == nil) != (werr == nil) {
			t.Errorf("marshal(%#v) = %s, %v; json.Marshal: %s, %v", v, got, err, want, werr)
		}
	}
	got, err := marshalArray(values)
	want, _ := json.Marshal(values)
	if err != nil || string(got) != string(want) {
		t.Errorf("marshalArray = %s, %v; want %s", got, err, want)
	}
	if got, _ := marshalArray(nil); string(got) != "null" {
		t.Errorf("marshalArray(nil) = %s", got)
	}
	type cycle struct{ Next any }
	c := &cycle{}
	c.Next = &[]any{c}
	_, errA := marshalArray([]any{1, c})
	_, errB := json.Marshal([]any{1, c})
	if errA == nil || errB == nil || errA.Error() != errB.Error() {
		t.Errorf("marshalArray of a cycle: %v; json.Marshal: %v", errA, errB)
	}
	for _, in := range []string{`0`, `-0`, `12`, `-9223372036854775808`, `9223372036854775808`, `1e3`, `1.0`, `01`, `+1`,
		`-`, `-01`, `00`, `--1`, ` 1`, `1 `, `null`, `true`, `false`, `"s"`, `"a\u0041"`, `"é"`, `"\u2028"`, "\"\xff\"", `""`, `[1]`, `tru`} {
		check := func(newV func() any) {
			t.Helper()
			a, b := newV(), newV()
			errA := unmarshal([]byte(in), a)
			errB := json.Unmarshal([]byte(in), b)
			if !reflect.DeepEqual(a, b) || fmt.Sprint(errA) != fmt.Sprint(errB) {
				t.Errorf("unmarshal(%s) into %T = %v, %v; json.Unmarshal: %v, %v", in, a, reflect.ValueOf(a).Elem(), errA, reflect.ValueOf(b).Elem(), errB)
			}
		}
		// (Each starts other than its zero value: null leaves it.)
		check(func() any { v := 42; return &v })
		check(func() any { v := int64(42); return &v })
		check(func() any { v := true; return &v })
		check(func() any { v := "keep"; return &v })
		check(func() any { return (*int)(nil) })
	}
}

// marshaler is a named integer that encodes itself: not a plain integer.
type marshaler int

func (m marshaler) MarshalJSON() ([]byte, error) { return []byte(`"m"`), nil }
