package host

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// spareTarget is how many runners the host keeps ready for a start:
// spares, and idle runners (runner reuse), which count as spares. Two let
// two processes started back to back (a producer and its consumer, the
// two halves of a pipe) both start at once, as forked processes do,
// instead of the second lagging a runner's start-up behind the first.
// Idle runners count: a spare loaded while two runners wait idle only
// costs CPU (about 10 ms) and memory, and in a loop of starts one after
// another, which takes a spare when the idle runners' guests are not yet
// parked (acquire), it would load again and again.
const spareTarget = 2

// spare is a runner started before anyone asked for it: started, module
// compiled, Hello received, waiting to be told which process it is. Taking
// a spare makes a process start in the time its guest needs to instantiate,
// instead of the time a runner needs to start and load the module.
//
// The host keeps up to spareTarget spares (fewer by the idle runners),
// prepared as soon as MainProcess is loaded, or one of them alongside
// MainProcess's runner when the host has nothing else to do meanwhile
// (Run), so that its first children start at once (a program that never
// starts one pays two runner start-ups of CPU time, in parallel); it
// prepares another when one is taken and a CPU is free or a start needs
// it (wishSpares), and more for starts that wait (awaitRunner).
type spare struct {
	r       *started
	conn    *wire.Conn
	started chan struct{} // closed when the runner was started (r set) or failed to
	ready   chan struct{} // closed when Hello came, or err is set
	err     error
}

// wishSpares asks for spareTarget spares (idle runners counted) ahead of
// need, as a program that started one process likely starts another
// (proc_new, a surer sign, prepares them at once). A runner loads for
// about 10 ms of CPU (0.1 s when this was measured), which, loaded at
// once, the processes just started lost (on two vCPUs a stream
// of 64 B pipe messages begun at its child's start ran at 4.4-4.8 µs a
// message against 2.3-2.8 once the refill was over). So the spares load
// at the first sample of the run's usage (every 50 ms) whose interval was
// quiet, or when a start needs a runner (acquire), whichever comes first;
// with no sampler (no run limit), at once.
func (s *Supervisor) wishSpares() {
	if !s.sampling() {
		s.prepareSpares()
		return
	}
	s.spareWish.Store(true)
}

// grantWish starts the spares wished for, if any (a wish that cannot be
// granted yet, every interpreted runner's place taken, stays).
func (s *Supervisor) grantWish() {
	if s.spareWish.Swap(false) && !s.prepareSpares() {
		s.spareWish.Store(true)
	}
}

// prepareSpares starts spares until there are spareTarget of them, idle
// runners counted, unless the run is ending; false when none could start
// now (prepareSparesUpTo).
func (s *Supervisor) prepareSpares() bool { return s.prepareSparesUpTo(spareTarget) }

// prepareSparesUpTo starts spares until there are n of them, idle runners
// counted, unless the run is ending; false when none could start now: the
// module runs interpreted and every interpreted runner's place is taken.
func (s *Supervisor) prepareSparesUpTo(n int) bool {
	if !s.compiled() && len(s.interp) == cap(s.interp) {
		return false // it could only fail (errNoPlace)
	}
	s.mu.Lock()
	var todo []*spare
	for idle := s.idleReady(); len(s.spares)+idle < n && !s.closing; {
		sp := &spare{started: make(chan struct{}), ready: make(chan struct{})}
		s.spares = append(s.spares, sp)
		todo = append(todo, sp)
	}
	s.mu.Unlock()
	for _, sp := range todo {
		go s.fill(sp)
	}
	return true
}

// fill starts sp's runner and waits for its Hello; then every start
// waiting for a runner looks again (acquire), whether sp is ready or
// failed.
func (s *Supervisor) fill(sp *spare) {
	defer s.lookAgain() // (after ready is closed: deferred first)
	defer close(sp.ready)
	r, err := s.startRunner(nil)
	if err != nil {
		sp.err = err
		close(sp.started)
		return
	}
	sp.r = r
	close(sp.started)
	sp.conn = wire.NewConn(r.control)
	hello, err := sp.conn.Recv()
	switch {
	case errors.Is(err, io.EOF):
		sp.err = errors.New("runner ended before it was ready")
	case err != nil:
		sp.err = err
	case hello.Kind != wire.KindHello:
		sp.err = fmt.Errorf("runner sent frame kind %d before hello", hello.Kind)
	}
}

// takeSpare returns a ready spare, or nil and whether another is still
// loading. It does not wait. Spares that failed, or that interpret the
// module while its machine code is ready now, are disposed of on the way.
func (s *Supervisor) takeSpare() (*spare, bool) {
	for {
		s.mu.Lock()
		i := slices.IndexFunc(s.spares, (*spare).loaded)
		var sp *spare
		if i >= 0 {
			sp = s.spares[i]
			s.spares = slices.Delete(s.spares, i, i+1)
		}
		pending := sp == nil && len(s.spares) > 0
		s.mu.Unlock()
		switch {
		case sp == nil:
			return nil, pending
		case errors.Is(sp.err, errNoPlace):
			continue // never started
		case sp.err != nil:
			s.log.Debug("spare runner failed", "error", sp.err)
			sp.dispose()
			continue
		case s.outdated(sp.r):
			// Started before the machine code was ready: a runner started
			// now runs the process faster. (Counted in s.all, as the
			// start that took it is: the run waits for the reap.)
			s.all.Add(1)
			go func() { defer s.all.Done(); sp.dispose() }()
			continue
		}
		return sp, false
	}
}

// idleReady is how many idle runners could take a process: those listed
// but for any that ended while idle or runs a module interpreted that is
// compiled now (takeIdle lets both go). s.mu held.
func (s *Supervisor) idleReady() int {
	n := 0
	for _, w := range s.idle {
		if !closed(w.gone) && !s.outdated(w.started) {
			n++
		}
	}
	return n
}

// loaded says whether sp's load has ended, ready or failed.
func (sp *spare) loaded() bool { return closed(sp.ready) }

// dispose kills and reaps a spare that will never be used, without waiting
// for it to finish loading.
func (sp *spare) dispose() {
	<-sp.started
	if sp.r == nil {
		return
	}
	sp.r.cmd.Process.Kill()
	<-sp.ready // its Hello read ends with the kill
	sp.r.cmd.Wait()
	sp.r.exited()
	sp.r.control.Close()
	sp.r.logs.Close()
}

// dropSpares disposes of every spare at the end of the run.
func (s *Supervisor) dropSpares() {
	s.mu.Lock()
	spares := s.spares
	s.spares = nil
	s.mu.Unlock()
	for _, sp := range spares {
		sp.dispose()
	}
}
