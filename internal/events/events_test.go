package events

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestLogBound: past its bound a log drops calls and output, keeps starts,
// exits and the run's first and last events, numbers what it keeps 1, 2,
// ... and counts what it dropped.
func TestLogBound(t *testing.T) {
	l := NewLog(3)
	for _, typ := range []string{TypeRun, TypeStart, TypeCall, TypeCall, TypeOutput, TypeExit, TypeEnd} {
		l.Add(Event{Type: typ})
	}
	evs, dropped := l.Events()
	var types []string
	for i, e := range evs {
		types = append(types, e.Type)
		if e.Seq != int64(i+1) {
			t.Errorf("event %d numbered %d", i+1, e.Seq)
		}
	}
	if want := []string{TypeRun, TypeStart, TypeCall, TypeExit, TypeEnd}; !reflect.DeepEqual(types, want) || dropped != 2 {
		t.Errorf("kept %v, dropped %d; want %v, 2", types, dropped, want)
	}
}

// TestJSONL: what WriteJSONL writes, ReadJSONL reads back the same; zero
// fields are left out; text with markup stays as it was.
func TestJSONL(t *testing.T) {
	code, gen := -15, 0
	in := []Event{
		{Seq: 1, Type: TypeRun, Module: "m.wasm", Args: []string{"a"}, Version: Version},
		{Seq: 2, T: 5, Type: TypeCall, Process: "MainProcess", PID: 7, Op: "barrier_wait", Result: "ok", Generation: &gen},
		{Seq: 3, T: 9, Type: TypeOutput, Process: "P", Stream: "stdout", Text: "<b>&</b> é"},
		{Seq: 4, T: 12, Type: TypeExit, Process: "P", ExitCode: &code, Signal: "SIGTERM", By: "MainProcess", ByPID: 7},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, in); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != len(in) {
		t.Errorf("%d lines for %d events", lines, len(in))
	}
	if strings.Contains(buf.String(), `"pid":0`) || !strings.Contains(buf.String(), `"generation":0`) || !strings.Contains(buf.String(), "<b>&</b>") {
		t.Errorf("JSON lines:\n%s", buf.String())
	}
	out, err := ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("read back %+v, wrote %+v", out, in)
	}
	if _, err := ReadJSONL(strings.NewReader("{\"seq\":1}\n{oops\n")); err == nil || !strings.Contains(err.Error(), "event 2") {
		t.Errorf("a broken line: error %v, want one naming event 2", err)
	}
}
