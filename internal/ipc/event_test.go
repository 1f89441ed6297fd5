package ipc

import (
	"context"
	"errors"
	"testing"
)

func TestEvent(t *testing.T) {
	ctx := t.Context()
	e := NewEvent()
	if e.IsSet() {
		t.Fatal("new event is set")
	}
	if ok, err := e.Wait(ctx, 1, short); ok || err != nil {
		t.Errorf("wait on clear event = %v, %v; want false", ok, err)
	}
	if ok, err := e.Wait(ctx, 1, 0); ok || err != nil {
		t.Errorf("non-blocking wait on clear event = %v, %v; want false", ok, err)
	}
	waiters := make([]<-chan res2[bool, error], 3)
	for i := range waiters {
		waiters[i] = async(func() res2[bool, error] { ok, err := e.Wait(ctx, int32(i), -1); return res2[bool, error]{ok, err} })
	}
	eventually(t, "three waiting", func() bool { return e.m.sleepers() == 3 })
	// A Set immediately undone still wakes every waiter with true.
	e.Set()
	e.Clear()
	for _, w := range waiters {
		if r := await(t, "wait", w); !r.a || r.b != nil {
			t.Errorf("wait = %v, %v; want true", r.a, r.b)
		}
	}
	e.Set()
	if ok, err := e.Wait(ctx, 1, 0); !ok || err != nil || !e.IsSet() {
		t.Errorf("wait on set event = %v, %v", ok, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	e.Clear()
	w := async(func() error { _, err := e.Wait(cctx, 1, -1); return err })
	eventually(t, "waiting", func() bool { return e.m.sleepers() == 1 })
	cancel()
	if err := await(t, "cancelled wait", w); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait = %v", err)
	}
}
