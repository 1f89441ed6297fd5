package wire

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/abi"
)

func TestRoundTrip(t *testing.T) {
	msgs := []*Msg{
		{Kind: KindHello, Ints: []int64{1234}},
		{Kind: KindCall, Op: abi.OpProcNew, Ints: []int64{1, -1, 1 << 40}, Bufs: [][]byte{[]byte("t"), {}, []byte("name")}},
		{Kind: KindReply, Errno: abi.E2SMALL, Ints: []int64{99}},
		{Kind: KindOutput, Ints: []int64{Stdout}, Bufs: [][]byte{bytes.Repeat([]byte("x"), 100000)}},
		{Kind: KindExit},
	}
	var buf bytes.Buffer
	c := NewConn(&buf)
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range msgs {
		got, err := c.Recv()
		if err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
		if len(want.Bufs) > 0 && len(got.Bufs) == len(want.Bufs) {
			for j := range want.Bufs {
				if !bytes.Equal(got.Bufs[j], want.Bufs[j]) {
					t.Fatalf("msg %d buf %d differs", i, j)
				}
			}
			got.Bufs, want.Bufs = nil, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("msg %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := c.Recv(); err != io.EOF {
		t.Fatalf("after last frame: %v, want EOF", err)
	}
}

func TestRecvRejectsHugeFrame(t *testing.T) {
	c := NewConn(bytes.NewBuffer([]byte{0xff, 0xff, 0xff, 0xff}))
	if _, err := c.Recv(); err != ErrFrameTooLarge {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
}

// FuzzDecode: no input makes Decode panic, and what decodes re-encodes to
// the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add((&Msg{Kind: KindCall, Op: 3, Ints: []int64{1, -5}, Bufs: [][]byte{[]byte("ab")}}).Append(nil))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 1, 0, 0, 0, 0, 0, 1, 2, 1, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(m.Append(nil))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if again.Kind != m.Kind || again.Op != m.Op || len(again.Ints) != len(m.Ints) || len(again.Bufs) != len(m.Bufs) {
			t.Fatalf("round trip changed the message")
		}
	})
}

// TestNamedFrames: the frames built by name read back by name after a
// trip through the encoding.
func TestNamedFrames(t *testing.T) {
	trip := func(m *Msg) *Msg {
		t.Helper()
		got, err := Decode(m.Append(nil))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if m := trip(Hello(4711)); m.Kind != KindHello || m.HelloPID() != 4711 {
		t.Errorf("hello = %+v", m)
	}
	if m := trip(Assign(9, [][]byte{[]byte("a.wasm"), []byte("x")})); m.Kind != KindAssign || m.AssignHandle() != 9 || len(m.Bufs) != 2 {
		t.Errorf("assign = %+v", m)
	}
	if stream, data := trip(Output(Stderr, []byte("oops"))).OutputOf(); stream != Stderr || string(data) != "oops" {
		t.Errorf("output = %d %q", stream, data)
	}
	for _, trapped := range []bool{false, true} {
		if code, tr := trip(Exit(-3, trapped)).ExitOf(); code != -3 || tr != trapped {
			t.Errorf("exit = %d %v, want -3 %v", code, tr, trapped)
		}
	}
}
