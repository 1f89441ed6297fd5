package ipc

import (
	"context"
	"testing"
)

// TestMeter: every object counts what it holds on its meter, and gives it
// back when it is taken, replaced, deleted or dropped.
func TestMeter(t *testing.T) {
	ctx := t.Context()
	var m Meter
	check := func(what string, want int64) {
		t.Helper()
		if got := m.Bytes(); got != want {
			t.Errorf("%s: meter %d, want %d", what, got, want)
		}
	}
	p := NewPipe(true, 1)
	p.SetMeter(&m)
	p.Send(context.Background(), 1, 0, make([]byte, 10))
	p.Send(context.Background(), 1, 1, make([]byte, 5))
	check("pipe sends", 2*ItemOverhead+15)
	p.Recv(ctx, 1, 1, 0, -1)
	check("pipe recv", ItemOverhead+5)
	p.ProcessExited(1) // the last holder goes: its buffered message is dropped
	check("pipe dropped", 0)

	q := NewQueue(0, false, 1)
	q.SetMeter(&m)
	q.Put(ctx, 1, make([]byte, 7), -1)
	check("queue put", ItemOverhead+7)
	q.Get(ctx, 1, -1)
	check("queue get", 0)

	ns := NewNamespace()
	ns.SetMeter(&m)
	ns.Set("ab", make([]byte, 3))
	ns.Set("ab", make([]byte, 4))
	check("namespace set twice", ItemOverhead+6)
	ns.Delete("ab")
	check("namespace delete", 0)

	d := NewDict()
	d.SetMeter(&m)
	d.Set("k", make([]byte, 2))
	check("dict set", ItemOverhead+3)
	d.Delete("k")

	l := NewList()
	l.SetMeter(&m)
	l.Append(make([]byte, 8))
	l.Set(0, make([]byte, 2))
	check("list append and set", ItemOverhead+2)
	l.Pop(-1)
	check("list pop", 0)
}
