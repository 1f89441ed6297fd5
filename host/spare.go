package host

import (
	"errors"
	"fmt"
	"io"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// spare is a runner started before anyone asked for it: started, module
// compiled, Hello received, waiting to be told which process it is. Taking
// a spare makes a process start in the time its guest needs to instantiate,
// instead of the time a runner needs to start and load the module.
//
// The host keeps at most one spare, prepared from the moment the program
// first creates a child process (a program that never creates one never
// pays for it), and prepares the next whenever one is taken.
type spare struct {
	r     *started
	conn  *wire.Conn
	ready chan struct{} // closed when Hello came, or err is set
	err   error
}

// prepareSpare starts a spare unless one exists or the run is ending.
func (s *Supervisor) prepareSpare() {
	s.mu.Lock()
	if s.spare != nil || s.closing {
		s.mu.Unlock()
		return
	}
	sp := &spare{ready: make(chan struct{})}
	s.spare = sp
	s.mu.Unlock()
	go func() {
		defer close(sp.ready)
		r, err := s.startRunner()
		if err != nil {
			sp.err = err
			return
		}
		sp.r = r
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
	}()
}

// takeSpare returns the spare, waiting for it to be ready, or nil when
// there is none or it failed (then it is disposed of).
func (s *Supervisor) takeSpare() *spare {
	s.mu.Lock()
	sp := s.spare
	s.spare = nil
	s.mu.Unlock()
	if sp == nil {
		return nil
	}
	<-sp.ready
	if sp.err != nil {
		s.log.Debug("spare runner failed; starting one afresh", "error", sp.err)
		sp.dispose()
		return nil
	}
	return sp
}

// dispose kills and reaps a spare that will never be used.
func (sp *spare) dispose() {
	if sp.r == nil {
		return
	}
	sp.r.cmd.Process.Kill()
	sp.r.cmd.Wait()
	sp.r.control.Close()
	sp.r.logs.Close()
}

// dropSpare disposes of the spare at the end of the run.
func (s *Supervisor) dropSpare() {
	s.mu.Lock()
	sp := s.spare
	s.spare = nil
	s.mu.Unlock()
	if sp != nil {
		<-sp.ready
		sp.dispose()
	}
}
