package ipc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// TestPipeCommunicatingWithPipe replays the book example
// communicating_with_pipe with fork semantics for the pipe ends.
func TestPipeCommunicatingWithPipe(t *testing.T) {
	ctx := t.Context()
	const main, sender, squarer = 1, 2, 3
	pipe1 := NewPipe(true, main)
	pipe1.Inherit(main, sender) // Process(target=sender, args=(pipe1[0],)).start()
	pipe2 := NewPipe(true, main)
	for _, o := range []Object{pipe1, pipe2} { // the squarer gets both pipes
		o.Inherit(main, squarer)
	}
	// main only reads pipe2's end 1 from now on.
	for _, c := range []struct {
		p   *Pipe
		end int
	}{{pipe1, 0}, {pipe2, 0}} {
		if err := c.p.Close(main, c.end); err != nil {
			t.Fatalf("main closes end %d: %v", c.end, err)
		}
	}

	senderDone := async(func() error {
		for i := range 10 {
			if err := pipe1.Send(context.Background(), sender, 0, []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		if err := pipe1.Close(sender, 0); err != nil {
			return err
		}
		pipe1.ProcessExited(sender)
		pipe2.ProcessExited(sender)
		return nil
	})
	squarerDone := async(func() error {
		if err := pipe1.Close(squarer, 0); err != nil {
			return err
		}
		for {
			msg, _, err := pipe1.Recv(ctx, squarer, 1, -1, -1)
			if errors.Is(err, ErrEOF) {
				break
			}
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(msg))
			if err := pipe2.Send(context.Background(), squarer, 0, []byte(strconv.Itoa(n*n))); err != nil {
				return err
			}
		}
		if err := pipe2.Close(squarer, 0); err != nil {
			return err
		}
		pipe1.ProcessExited(squarer)
		pipe2.ProcessExited(squarer)
		return nil
	})

	var got []string
	for {
		msg, _, err := pipe2.Recv(ctx, main, 1, long, -1)
		if errors.Is(err, ErrEOF) {
			break
		}
		if err != nil {
			t.Fatalf("main recv after %v: %v", got, err)
		}
		got = append(got, string(msg))
	}
	if want := "[0 1 4 9 16 25 36 49 64 81]"; fmt.Sprint(got) != want {
		t.Errorf("main received %v, want %s then EOF", got, want)
	}
	if err := await(t, "sender", senderDone); err != nil {
		t.Errorf("sender: %v", err)
	}
	if err := await(t, "squarer", squarerDone); err != nil {
		t.Errorf("squarer: %v", err)
	}
}

func TestPipeErrors(t *testing.T) {
	ctx := t.Context()
	const a, b = 1, 2
	tests := []struct {
		name string
		do   func(p *Pipe) error
		want error
	}{
		{"send on receive-only end", func(p *Pipe) error { return p.Send(context.Background(), a, 0, nil) }, ErrDirection},
		{"recv on send-only end", func(p *Pipe) error { _, _, err := p.Recv(ctx, a, 1, 0, -1); return err }, ErrDirection},
		{"poll on send-only end", func(p *Pipe) error { _, err := p.Poll(ctx, a, 1, 0); return err }, ErrDirection},
		{"send by non-holder", func(p *Pipe) error { return p.Send(context.Background(), b, 1, nil) }, ErrClosed},
		{"recv by non-holder", func(p *Pipe) error { _, _, err := p.Recv(ctx, b, 0, 0, -1); return err }, ErrClosed},
		{"poll by non-holder", func(p *Pipe) error { _, err := p.Poll(ctx, b, 0, 0); return err }, ErrClosed},
		{"close by non-holder", func(p *Pipe) error { return p.Close(b, 0) }, ErrClosed},
		{"close twice", func(p *Pipe) error { _ = p.Close(a, 0); return p.Close(a, 0) }, ErrClosed},
		{"send after close", func(p *Pipe) error { _ = p.Close(a, 1); return p.Send(context.Background(), a, 1, nil) }, ErrClosed},
		{"closed is checked before direction", func(p *Pipe) error { _ = p.Close(a, 0); return p.Send(context.Background(), a, 0, nil) }, ErrClosed},
		{"recv after close", func(p *Pipe) error { _ = p.Close(a, 0); _, _, err := p.Recv(ctx, a, 0, 0, -1); return err }, ErrClosed},
		{"send with receiver gone", func(p *Pipe) error { _ = p.Close(a, 0); return p.Send(context.Background(), a, 1, nil) }, ErrBrokenPipe},
		{"recv with sender gone", func(p *Pipe) error { _ = p.Close(a, 1); _, _, err := p.Recv(ctx, a, 0, -1, -1); return err }, ErrEOF},
		{"recv times out", func(p *Pipe) error { _, _, err := p.Recv(ctx, a, 0, short, -1); return err }, ErrTimeout},
		{"recv would block", func(p *Pipe) error { _, _, err := p.Recv(ctx, a, 0, 0, -1); return err }, ErrTimeout},
		{"bad end", func(p *Pipe) error { return p.Send(context.Background(), a, 2, nil) }, ErrValue},
		{"exited process", func(p *Pipe) error { p.ProcessExited(a); return p.Send(context.Background(), a, 1, nil) }, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPipe(false, a)
			if err := tt.do(p); !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPipeDuplex(t *testing.T) {
	ctx := t.Context()
	p := NewPipe(true, 1)
	for end := range 2 {
		msg := []byte(fmt.Sprintf("to end %d", 1-end))
		if err := p.Send(context.Background(), 1, end, msg); err != nil {
			t.Fatalf("send on end %d: %v", end, err)
		}
		got, size, err := p.Recv(ctx, 1, 1-end, 0, -1)
		if err != nil || string(got) != string(msg) || size != len(msg) {
			t.Errorf("recv on end %d = %q, %d, %v; want %q", 1-end, got, size, err, msg)
		}
	}
}

func TestPipeBufferedMessagesBeforeEOF(t *testing.T) {
	ctx := t.Context()
	p := NewPipe(false, 1)
	msg := []byte("hello")
	for range 2 {
		if err := p.Send(context.Background(), 1, 1, msg); err != nil {
			t.Fatal(err)
		}
	}
	msg[0] = 'J' // the pipe keeps its own copy
	if err := p.Close(1, 1); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Poll(ctx, 1, 0, 0); !ok || err != nil {
		t.Errorf("poll with messages = %v, %v; want true", ok, err)
	}
	for range 2 {
		got, _, err := p.Recv(ctx, 1, 0, 0, -1)
		if err != nil || string(got) != "hello" {
			t.Fatalf("recv = %q, %v; want hello", got, err)
		}
	}
	if ok, err := p.Poll(ctx, 1, 0, 0); !ok || err != nil {
		t.Errorf("poll at EOF = %v, %v; want true (recv would not block)", ok, err)
	}
	if _, _, err := p.Recv(ctx, 1, 0, 0, -1); !errors.Is(err, ErrEOF) {
		t.Errorf("recv after the buffer = %v, want ErrEOF", err)
	}
}

func TestPipeTooSmall(t *testing.T) {
	ctx := t.Context()
	p := NewPipe(false, 1)
	if err := p.Send(context.Background(), 1, 1, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	_, size, err := p.Recv(ctx, 1, 0, 0, 4)
	if !errors.Is(err, ErrTooSmall) || size != 10 {
		t.Fatalf("recv with limit 4 = size %d, %v; want 10, ErrTooSmall", size, err)
	}
	got, size, err := p.Recv(ctx, 1, 0, 0, 10)
	if err != nil || string(got) != "0123456789" || size != 10 {
		t.Errorf("retry with limit 10 = %q, %d, %v; want the message", got, size, err)
	}
}

func TestPipePoll(t *testing.T) {
	ctx := t.Context()
	p := NewPipe(false, 1)
	if ok, err := p.Poll(ctx, 1, 0, 0); ok || err != nil {
		t.Errorf("poll on empty pipe = %v, %v; want false", ok, err)
	}
	if ok, err := p.Poll(ctx, 1, 0, short); ok || err != nil {
		t.Errorf("poll with timeout on empty pipe = %v, %v; want false", ok, err)
	}
	res := async(func() res2[bool, error] { ok, err := p.Poll(ctx, 1, 0, -1); return res2[bool, error]{ok, err} })
	eventually(t, "polling", func() bool { return p.m.sleepers() == 1 })
	if err := p.Send(context.Background(), 1, 1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if r := await(t, "poll", res); !r.a || r.b != nil {
		t.Errorf("blocked poll = %v, %v; want true", r.a, r.b)
	}
	if p.Holds(1, 0) != true || fmt.Sprint(p.Holders(1)) != "[1]" {
		t.Errorf("holders = %v, %v", p.Holds(1, 0), p.Holders(1))
	}
}

// A cancelled receiver consumes nothing: the next receiver gets the message.
func TestPipeCancelledRecvConsumesNothing(t *testing.T) {
	p := NewPipe(false, 1)
	p.Inherit(1, 2)
	ctx, cancel := context.WithCancel(t.Context())
	res := async(func() error { _, _, err := p.Recv(ctx, 2, 0, -1, -1); return err })
	eventually(t, "receiving", func() bool { return p.m.sleepers() == 1 })
	cancel()
	if err := await(t, "cancelled recv", res); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled recv = %v, want context.Canceled", err)
	}
	if err := p.Send(context.Background(), 1, 1, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if got, _, err := p.Recv(t.Context(), 1, 0, 0, -1); err != nil || string(got) != "m" {
		t.Errorf("recv = %q, %v; want m", got, err)
	}
}

// The child of a fork gets only the ends its parent still holds.
func TestPipeInherit(t *testing.T) {
	ctx := t.Context()
	p := NewPipe(false, 1)
	if err := p.Close(1, 1); err != nil { // parent keeps only the read end
		t.Fatal(err)
	}
	p.Inherit(1, 2)
	if p.Holds(2, 1) || !p.Holds(2, 0) {
		t.Fatalf("child holds end0=%v end1=%v; want only end 0", p.Holds(2, 0), p.Holds(2, 1))
	}
	// Nobody holds the write end, so both readers see EOF.
	for _, who := range []int32{1, 2} {
		if _, _, err := p.Recv(ctx, who, 0, -1, -1); !errors.Is(err, ErrEOF) {
			t.Errorf("recv by %d = %v, want ErrEOF", who, err)
		}
	}
}

// A blocked receiver learns EOF when the last writer dies.
func TestPipeWriterExitGivesEOF(t *testing.T) {
	p := NewPipe(false, 1)
	p.Inherit(1, 2)
	if err := p.Close(1, 1); err != nil {
		t.Fatal(err)
	}
	res := async(func() error { _, _, err := p.Recv(t.Context(), 1, 0, -1, -1); return err })
	eventually(t, "receiving", func() bool { return p.m.sleepers() == 1 })
	pending(t, "recv while child 2 still holds the write end", res)
	p.ProcessExited(2)
	if err := await(t, "recv", res); !errors.Is(err, ErrEOF) {
		t.Errorf("recv after the last writer died = %v, want ErrEOF", err)
	}
}
