package pump

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gate is a writer that blocks until opened.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gate) Write(b []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(b)
}

func TestWritesInOrder(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	p := New(g, nil)
	for _, s := range []string{"a", "b", "c"} {
		p.Write([]byte(s))
	}
	if dropped := p.Drain(nil); dropped != 0 || g.buf.String() != "abc" {
		t.Errorf("wrote %q, dropped %d; want abc, 0", g.buf.String(), dropped)
	}
}

// TestWindow: a writer waits while Window bytes are pending, until the
// reader takes them or the pump is released.
func TestWindow(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	p := New(g, nil)
	p.Write(make([]byte, Window))
	done := make(chan struct{})
	go func() { p.Write([]byte("x")); close(done) }()
	select {
	case <-done:
		t.Fatal("a write past the window did not wait")
	case <-time.After(50 * time.Millisecond): // it must still wait: nothing can end it
	}
	p.Release()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a released pump still holds a writer")
	}
	// The reader never reads: the drain gives up at its deadline.
	start := time.Now()
	if dropped := p.Drain(time.After(100 * time.Millisecond)); dropped != 1 {
		t.Errorf("dropped %d, want the 1 byte still queued", dropped)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("drain took %v with a deadline of 100ms", d)
	}
	close(g.open)
}

// TestReaderGone: a closed pipe is EPIPE, reported once; later writes
// are dropped without waiting.
func TestReaderGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	failed := make(chan struct{})
	var once sync.Once
	p := New(w, func() { once.Do(func() { close(failed) }) })
	p.Write([]byte("lost"))
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
	if !p.ReaderGone() || !errors.Is(p.Err(), syscall.EPIPE) {
		t.Errorf("ReaderGone = %v, Err = %v; want true, EPIPE", p.ReaderGone(), p.Err())
	}
	p.Write(make([]byte, 2*Window)) // must not wait
	if dropped := p.Drain(nil); dropped != int64(len("lost")+2*Window) {
		t.Errorf("dropped %d, want %d", dropped, len("lost")+2*Window)
	}
}
