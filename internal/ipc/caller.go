package ipc

import (
	"context"
	"time"
)

// Caller is the process making a call, as the host describes it to the
// objects through the call's context (WithCaller). Objects keep no record
// of their own of which processes have ended; they ask the caller, so the
// host's process table is the one place that knows, and an object's memory
// does not grow with the number of processes a run has started.
//
// A blocking method tells the caller when it goes to sleep and when it
// wakes for good, so the host knows at every moment who waits on what.
type Caller interface {
	// Ended reports whether the process has ended. From then on every
	// object refuses it (ErrExited), whatever the order in which the host
	// cancels the process's context and calls ProcessExited.
	Ended() bool
	// Sleeping is called when a call of the process goes to sleep waiting
	// for another process: on obj (which may be another object than the
	// one called: the lock a Condition.Wait takes back), for at most
	// timeout (negative: no limit). It is called once per sleep, however
	// often the sleeper re-checks its condition; one call may sleep more
	// than once (a Condition.Wait on its notification, then on its lock;
	// a Barrier.Wait for the previous round, then for its own). No object
	// lock is held.
	Sleeping(obj Object, timeout time.Duration)
	// Woke is called once when that sleep ends, for whatever reason. An
	// object's lock may be held: it must not call into an object.
	Woke()
	// Seq names what the call took part in, by a number that is the same
	// for every call that took part in it: the message it put into a pipe
	// or queue (sent, put) or took out (received, got), numbered 1, 2, ...
	// in its pipe direction or queue, so that a receive names the send it
	// matches; or the generation of a barrier it waited in (1 for the
	// first). The object's lock is held: it must not call into an object.
	Seq(n uint64)
}

type callerKey struct{}

// WithCaller returns a context whose calls are made by c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf returns the Caller of ctx; a context without one belongs to a
// process that is alive and whose sleeps nobody watches (noCaller).
func callerOf(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return noCaller{}
}

// ended reports whether the caller of ctx has ended.
func ended(ctx context.Context) bool { return callerOf(ctx).Ended() }

// noCaller stands for the Caller of a context that has none.
type noCaller struct{}

func (noCaller) Ended() bool                    { return false }
func (noCaller) Sleeping(Object, time.Duration) {}
func (noCaller) Woke()                          {}
func (noCaller) Seq(uint64)                     {}
