package wire

import (
	"bytes"
	"encoding/binary"
	"io"
	"reflect"
	"slices"
	"testing"
	"time"

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

// FuzzDecode: no input makes Decode panic; Recv reads a frame behind its
// length prefix as Decode reads it; and a frame that decodes re-encodes to
// one that decodes to an equal Msg and encodes to the same bytes again (an
// input may spell a number in more bytes than Append does, so the first
// encoding may differ from it). The seeds in testdata/fuzz/FuzzDecode are
// frames of every kind.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		framed := append(binary.LittleEndian.AppendUint32(nil, uint32(len(b))), b...)
		got, rerr := NewConn(bytes.NewBuffer(framed)).Recv()
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode: %v; Recv of the same frame: %v", err, rerr)
		}
		if err != nil {
			return
		}
		if !equalMsg(got, m) {
			t.Fatalf("Recv = %+v, Decode = %+v", got, m)
		}
		enc := m.Append(nil)
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode %+v: %v", m, err)
		}
		if !equalMsg(again, m) {
			t.Fatalf("round trip changed the message: %+v, then %+v", m, again)
		}
		if enc2 := again.Append(nil); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %x, then %x", enc, enc2)
		}
	})
}

// equalMsg reports whether a and b are the same frame (an empty buffer
// equals a nil one).
func equalMsg(a, b *Msg) bool {
	if a.Kind != b.Kind || a.Op != b.Op || a.Errno != b.Errno || !slices.Equal(a.Ints, b.Ints) || len(a.Bufs) != len(b.Bufs) {
		return false
	}
	for i := range a.Bufs {
		if !bytes.Equal(a.Bufs[i], b.Bufs[i]) {
			return false
		}
	}
	return true
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
		m := trip(Exit(-3, trapped, 1500*time.Microsecond, 40<<20, trapped))
		if code, tr := m.ExitOf(); code != -3 || tr != trapped {
			t.Errorf("exit = %d %v, want -3 %v", code, tr, trapped)
		}
		if cpu, rss := m.ExitUsage(); cpu != 1500*time.Microsecond || rss != 40<<20 {
			t.Errorf("exit usage = %v %d, want 1.5ms %d", cpu, rss, 40<<20)
		}
		if m.ExitLimited() != trapped {
			t.Errorf("exit limited = %v, want %v", m.ExitLimited(), trapped)
		}
	}
	for _, stay := range []bool{false, true} {
		if m := trip(ExitReply(stay)); m.Kind != KindReply || m.Stay() != stay {
			t.Errorf("exit reply = %+v, want stay %v", m, stay)
		}
	}
	if (&Msg{Kind: KindReply}).Stay() {
		t.Error("an empty reply asks the runner to stay")
	}
}

// TestTicket: a ticket datagram gives its id; a message's own datagram,
// or one of another length, is no ticket.
func TestTicket(t *testing.T) {
	ticket := binary.LittleEndian.AppendUint64(append(make([]byte, 8), DgBlob), 42)
	ticket = binary.LittleEndian.AppendUint64(ticket, 1<<20)
	inline := append(append(make([]byte, 8), DgInline), make([]byte, 16)...)
	for _, tt := range []struct {
		name string
		dg   []byte
		id   int64
		ok   bool
	}{
		{"ticket", ticket, 42, true},
		{"inline of a ticket's length", inline, 0, false},
		{"short", ticket[:DgHeader+8], 0, false},
		{"empty", nil, 0, false},
	} {
		if id, ok := Ticket(tt.dg); id != tt.id || ok != tt.ok {
			t.Errorf("%s: Ticket = %d, %v; want %d, %v", tt.name, id, ok, tt.id, tt.ok)
		}
	}
}
