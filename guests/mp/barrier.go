package mp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Barrier is Python's multiprocessing.Barrier: parties processes call
// Wait, and all of them return once the last has arrived. Each gets an
// index distinct within that round (a generation): 0 for the first to
// arrive, parties-1 for the last. The barrier is then ready for the next
// round.
//
// A timeout (the Wait's own, or else the barrier's default) breaks the
// barrier: every process waiting, and every later Wait until Reset, gets
// ErrBrokenBarrier. So do Abort, a failed action, and a process that dies
// while waiting.
//
// The optional action (BarrierAction) runs once per round, in the last
// process to arrive, before any process is released.
//
//	func report() { fmt.Println("all arrived") }
//
//	func runner(b *mp.Barrier) {
//		i, err := b.Wait() // i: 0, 1 or 2; err wraps ErrBrokenBarrier if broken
//		fmt.Println(i, err)
//	}
//
//	mp.Register(runner, report) // before mp.Main
//
//	b := mp.NewBarrier(3, mp.BarrierAction(report), mp.BarrierTimeout(5*time.Second))
//	for range 3 {
//		mp.NewProcess(runner, mp.Args(b)).Start()
//	}
type Barrier struct {
	handle int32
	action string // runtime name of the registered action, "" for none
}

var _ json.Marshaler = (*Barrier)(nil)

// BarrierOption configures a new Barrier.
type BarrierOption func(*barrierConfig)

type barrierConfig struct {
	action  string
	timeout time.Duration
}

// BarrierAction sets the barrier's action, Python's action=fn: a function
// taking no arguments and returning nothing or an error, registered with
// Register (it may run in any process that waits at the barrier, which
// finds it by name). If it panics or returns an error, the barrier breaks:
// the process that ran it gets the panic or the error, the others
// ErrBrokenBarrier.
//
// NewBarrier panics if fn is not such a registered function.
func BarrierAction(fn any) BarrierOption {
	return func(c *barrierConfig) {
		v := reflect.ValueOf(fn)
		if v.Kind() != reflect.Func || v.IsNil() {
			panic(fmt.Sprintf("mp: NewBarrier: action %T is not a function", fn))
		}
		t := v.Type()
		name := funcName(v)
		if t.NumIn() != 0 || t.NumOut() > 1 || t.NumOut() == 1 && t.Out(0) != errorType {
			panic(fmt.Sprintf("mp: NewBarrier: action %s must be a func() or a func() error, not %s", name, t))
		}
		if _, ok := registered(name); !ok {
			panic(fmt.Sprintf("mp: NewBarrier: action %s is not registered: call mp.Register(%s) before mp.Main",
				name, shortName(name)))
		}
		c.action = name
	}
}

// BarrierTimeout sets the default timeout of Wait, Python's timeout=d. A
// negative d means none (Python's None), the default.
func BarrierTimeout(d time.Duration) BarrierOption {
	return func(c *barrierConfig) { c.timeout = max(d, -1) }
}

// NewBarrier returns a new barrier for parties processes.
//
// It panics if parties is below 1, on a bad BarrierAction, or if the host
// cannot create it.
func NewBarrier(parties int, opts ...BarrierOption) *Barrier {
	cfg := barrierConfig{timeout: -1}
	for _, o := range opts {
		o(&cfg)
	}
	if parties < 1 || parties > 1<<31-1 {
		panic(fmt.Sprintf("mp: NewBarrier: parties must be at least 1, not %d", parties))
	}
	b := &Barrier{action: cfg.action}
	mustNew("Barrier", host.barrierNew(int32(parties), int64(cfg.timeout), cfg.action != "", &b.handle))
	return b
}

func (b *Barrier) h() int32 { return checkHandle("Barrier", b.handle) }

// Handle returns the host's handle of the barrier, valid in every process.
func (b *Barrier) Handle() int32 { return b.h() }

// Wait waits until parties processes have called Wait, for at most the
// barrier's default timeout if it has one, and returns this process's
// index in the round. The error wraps ErrBrokenBarrier when the barrier is
// or becomes broken; if this process ran the action and it failed, the
// error is the action's (a panic of the action is passed on).
func (b *Barrier) Wait() (int, error) { return b.wait(-1) }

// WaitTimeout is Wait with its own timeout instead of the barrier's
// default: when d passes, the barrier breaks.
func (b *Barrier) WaitTimeout(d time.Duration) (int, error) { return b.wait(atMostArg(d)) }

func (b *Barrier) wait(timeoutNs int64) (int, error) {
	h := b.h()
	index, runAction, e := host.barrierWait(h, timeoutNs)
	switch e {
	case errnoOK:
	case errnoBroken:
		return 0, ErrBrokenBarrier
	default:
		return 0, objError(e, "barrier wait", nil)
	}
	if runAction {
		if err := b.runAction(h); err != nil {
			return 0, err
		}
	}
	return int(index), nil
}

// runAction runs the action and reports to the host; a panic of the
// action is passed on after the report.
func (b *Barrier) runAction(h int32) (err error) {
	fn, ok := registered(b.action)
	if !ok {
		host.barrierActionDone(h, false)
		if b.action == "" {
			return fmt.Errorf("mp: barrier wait: %w: the host asked for an action the barrier does not have", ErrHost)
		}
		return fmt.Errorf("mp: barrier action %s is not registered in this process: call mp.Register(%s) before mp.Main",
			b.action, shortName(b.action))
	}
	done := false
	defer func() {
		if !done {
			host.barrierActionDone(h, false) // a panic: break the barrier, then pass it on
		}
	}()
	out := fn.Call(nil)
	done = true
	if len(out) == 1 && !out[0].IsNil() {
		host.barrierActionDone(h, false)
		return out[0].Interface().(error)
	}
	switch e := host.barrierActionDone(h, true); e {
	case errnoOK:
		return nil
	case errnoBroken: // aborted or reset while the action ran
		return ErrBrokenBarrier
	default:
		return objError(e, "barrier action", nil)
	}
}

// Abort breaks the barrier: every process waiting, and every later Wait
// until Reset, gets ErrBrokenBarrier.
func (b *Barrier) Abort() error { return objError(host.barrierAbort(b.h()), "barrier abort", nil) }

// Reset returns the barrier to its first state: processes waiting get
// ErrBrokenBarrier, later ones wait for a new round.
func (b *Barrier) Reset() error { return objError(host.barrierReset(b.h()), "barrier reset", nil) }

func (b *Barrier) info() [3]int32 {
	rec, e := host.barrierInfo(b.h())
	must("barrier info", e)
	return rec
}

// Parties returns the number of processes needed to pass the barrier.
func (b *Barrier) Parties() int { return int(b.info()[0]) }

// NWaiting returns the number of processes waiting in the current round.
func (b *Barrier) NWaiting() int { return int(b.info()[1]) }

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.info()[2] != 0 }

// MarshalJSON encodes the barrier as its handle and the name of its
// action, so it can be passed to a child.
func (b *Barrier) MarshalJSON() ([]byte, error) {
	if b.handle == 0 {
		return marshalObject(kindBarrierJSON, 0)
	}
	return json.Marshal(objectJSON{Kind: kindBarrierJSON, Handle: b.handle, Action: b.action})
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (b *Barrier) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindBarrierJSON)
	b.handle, b.action = o.Handle, o.Action
	return err
}
