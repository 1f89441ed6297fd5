package ipc

import "testing"

func TestKinds(t *testing.T) {
	sem, _ := NewSemaphore(1)
	bsem, _ := NewBoundedSemaphore(1)
	bar, _ := NewBarrier(2, -1, false)
	for want, o := range map[string]Object{
		"pipe":              NewPipe(true, 1),
		"queue":             NewQueue(0, false, 1),
		"joinable_queue":    NewQueue(0, true, 1),
		"barrier":           bar,
		"lock":              NewLock(),
		"rlock":             NewRLock(),
		"semaphore":         sem,
		"bounded_semaphore": bsem,
		"event":             NewEvent(),
		"condition":         NewCondition(nil),
		"namespace":         NewNamespace(),
		"dict":              NewDict(),
		"list":              NewList(),
	} {
		if got := o.Kind(); got != want {
			t.Errorf("Kind() = %q, want %q", got, want)
		}
		// Inherit and ProcessExited are safe on a fresh object.
		o.Inherit(1, 2)
		o.ProcessExited(2)
	}
}

// fifo keeps order across its compactions.
func TestFifoOrder(t *testing.T) {
	var q fifo
	next := 0 // the value the next pop must return
	pop := func() {
		t.Helper()
		if msg, _ := q.pop(); int(msg[0]) != next%256 {
			got := int(msg[0])
			t.Fatalf("pop = %d, want %d", got, next%256)
		}
		next++
	}
	for i := range 1000 {
		q.push([]byte{byte(i)})
		if i%3 == 0 {
			pop()
		}
	}
	for q.len() > 0 {
		pop()
	}
	if next != 1000 {
		t.Errorf("popped %d messages, want 1000", next)
	}
}
