package host

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultDeadlockAfter is how long every live process must have been
// waiting, without a timeout and with nothing else happening in the run,
// before the run is declared deadlocked.
//
// The wait covers the one window in which "every process is blocked" is
// not yet a deadlock: a waiter an object has just woken that the Go
// scheduler has not yet run. Nothing else moves in a run whose every
// process waits, so the host's goroutines run at once; a quarter of a
// second is hundreds of times what that takes on a loaded machine.
const DefaultDeadlockAfter = 250 * time.Millisecond

// ErrDeadlock is matched by a *DeadlockError.
var ErrDeadlock = errors.New("deadlock")

// DeadlockError ends a run in which every live process waited, without a
// timeout, for something only another waiting process could do.
type DeadlockError struct {
	// Waits is every live process and what it waited on.
	Waits []Wait
	// Lines explain each wait in plain words.
	Lines []string
}

func (e *DeadlockError) Error() string {
	return "deadlock: every process is waiting and none can go on:\n  " + strings.Join(e.Lines, "\n  ")
}

// Is makes errors.Is(err, ErrDeadlock) hold.
func (e *DeadlockError) Is(target error) bool { return target == ErrDeadlock }

// moved notes that something happened in the run (a call, a sleep, a
// wake, a process's start or end): a pending deadlock confirmation that
// sees it gives up.
func (s *Supervisor) moved() { s.generation.Add(1) }

// checkStuck asks the cheap question after a process went to sleep or
// ended: is every live process waiting without a timeout? If so, it arms
// a confirmation that declares the deadlock if nothing moves meanwhile.
func (s *Supervisor) checkStuck() {
	if s.cfg.DeadlockAfter < 0 || !s.allBlocked() {
		return
	}
	if !s.armed.CompareAndSwap(false, true) {
		return
	}
	gen := s.generation.Load()
	time.AfterFunc(s.cfg.DeadlockAfter, func() {
		s.armed.Store(false)
		if s.generation.Load() != gen {
			s.checkStuck() // things moved; look again from here
			return
		}
		if !s.allBlocked() {
			return
		}
		if s.directWaking() {
			// A runner is about to say it woke: look again later.
			time.AfterFunc(s.cfg.DeadlockAfter, s.checkStuck)
			return
		}
		s.declareDeadlock()
	})
}

// allBlocked reports whether every live process is waiting without a
// timeout. A process that is starting, running, or has ended and is not
// yet reaped is not waiting.
func (s *Supervisor) allBlocked() bool {
	s.mu.Lock()
	live, closing := s.alive, s.closing
	s.mu.Unlock()
	if closing || live == 0 {
		return false
	}
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	return s.forever >= live
}

// declareDeadlock ends the run with a DeadlockError (once).
func (s *Supervisor) declareDeadlock() {
	ws := s.Waits()
	e := &DeadlockError{Waits: ws}
	now := time.Now()
	for _, w := range ws {
		e.Lines = append(e.Lines, s.explain(w, now))
	}
	s.log.Debug("deadlock: ending the run", "processes", len(ws))
	s.stop(e)
}

// Stuck returns the processes that wait, without a timeout, only on
// processes that are themselves in the set: a deadlock among part of the
// processes, while others may still run. A wait that any process could
// end (a queue, an event, a barrier) is never in it; a plain Lock counts
// as waiting on its owner.
func (s *Supervisor) Stuck() []Wait {
	ws := s.Waits()
	stuck := map[int32]Wait{}
	for _, w := range ws {
		if w.Timeout < 0 && (!w.Anyone || (w.Kind == "lock" && len(w.By) > 0)) {
			stuck[w.Process] = w
		}
	}
	for changed := true; changed; {
		changed = false
		for h, w := range stuck {
			for _, b := range w.By {
				if _, ok := stuck[b]; !ok {
					delete(stuck, h)
					changed = true
					break
				}
			}
		}
	}
	var out []Wait
	for _, w := range ws {
		if _, ok := stuck[w.Process]; ok {
			out = append(out, w)
		}
	}
	return out
}

// Explain says what the waits are, in plain words, one line each.
func (s *Supervisor) Explain(ws []Wait) []string {
	now := time.Now()
	var lines []string
	for _, w := range ws {
		lines = append(lines, s.explain(w, now))
	}
	return lines
}

// explain says what w is, in plain words: "MainProcess (pid 4711) waits in
// conn_recv on pipe 6 for 1.2s; only Process-2 could end it".
func (s *Supervisor) explain(w Wait, now time.Time) string {
	names := func(hs []int32) string {
		var ns []string
		for _, h := range hs {
			ns = append(ns, s.ProcessName(h))
		}
		return strings.Join(ns, ", ")
	}
	since := now.Sub(w.Since).Round(time.Millisecond)
	who := fmt.Sprintf("%s (pid %d)", w.Name, w.PID)
	switch {
	case w.Op == OpExit:
		return fmt.Sprintf("%s has returned and waits %v for its children to end: %s", who, since, names(w.By))
	case w.Kind == "process":
		return fmt.Sprintf("%s waits in %s %v for %s to end", who, w.Op, since, names(w.By))
	}
	line := fmt.Sprintf("%s waits in %s on %s %d for %v", who, w.Op, w.Kind, w.Object, since)
	switch {
	case w.Kind == "lock" && len(w.By) > 0:
		line += "; it is held by " + names(w.By)
	case w.Kind == "rlock" && len(w.By) > 0:
		line += "; it is held by " + names(w.By)
	case w.Kind == "barrier":
		line += fmt.Sprintf("; %d more must arrive", w.Missing)
	case len(w.By) > 0:
		line += "; only " + names(w.By) + " could end it"
	case w.Anyone:
		line += "; any process could end it"
	default:
		line += "; no process alive could end it"
	}
	return line
}
