package host

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Verdict says how a run ended: one of a fixed set, for machines (grading)
// and, with Result.Explanation, for students. README "Verdicts" lists them
// with the exit statuses of `sandbox run`.
type Verdict string

// The verdicts the host gives. (The CLI adds invalid_module and
// internal_error for runs that could not start.)
const (
	VerdictOK           Verdict = "ok"            // MainProcess exited with 0
	VerdictExit         Verdict = "exit"          // MainProcess exited with another code
	VerdictRuntimeError Verdict = "runtime_error" // MainProcess trapped (unreachable, out of bounds, stack overflow) or crashed (a Go panic or fatal error)
	VerdictKilled       Verdict = "killed"        // MainProcess was ended by a signal the run did not send
	VerdictTimeLimit    Verdict = "time_limit"    // the wall-clock limit of the run was reached
	VerdictOutputLimit  Verdict = "output_limit"  // a process, or the run, printed more than allowed
	VerdictProcessLimit Verdict = "process_limit" // the run started more processes than allowed (a fork bomb)
	VerdictIPCLimit     Verdict = "ipc_limit"     // too many shared objects, too large a message, too many bytes held
	VerdictCPULimit     Verdict = "cpu_limit"     // a process used more CPU time than allowed
	VerdictMemoryLimit  Verdict = "memory_limit"  // a process needed more memory than allowed
	VerdictDeadlock     Verdict = "deadlock"      // every process waited forever on another
	VerdictInterrupted  Verdict = "interrupted"   // the run was cancelled from outside (SIGINT, SIGTERM)
	VerdictOutputClosed Verdict = "output_closed" // the reader of stdout or stderr went away
	VerdictInternal     Verdict = "internal_error"
)

// LimitError stops a run that reached one of its limits.
type LimitError struct {
	Verdict Verdict
	Msg     string
}

func (e *LimitError) Error() string { return e.Msg }

// ErrLimit is matched by every *LimitError.
var ErrLimit = errors.New("limit reached")

// Is makes errors.Is(err, ErrLimit) hold.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// ProcessResult is what one process of the run did.
type ProcessResult struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// RunnerPID is the OS pid of the runner that ran it: its PID, unless
	// the runner had served another process of the run before (runner
	// reuse), whose PID that is.
	RunnerPID int `json:"runner_pid"`
	// Interpreted says its runner ran the module in wazero's interpreter:
	// it started while the module's machine code was being compiled
	// (Config.Compiled), so its guest ran slower than compiled code.
	Interpreted bool          `json:"interpreted,omitempty"`
	Parent      string        `json:"parent,omitempty"`
	ExitCode    int           `json:"exit_code"`
	Signal      string        `json:"signal,omitempty"` // the signal that ended it, if one did
	CPU         time.Duration `json:"-"`
	CPUMs       int64         `json:"cpu_ms"`
	PeakRSS     int64         `json:"peak_rss_bytes"`
	Output      int64         `json:"output_bytes"`
	Trap        string        `json:"trap,omitempty"`
	// StartMs and EndMs are when the process's runner started and ended,
	// in milliseconds since the run started.
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
}

// stop ends the run early, for the reason err (once; later reasons are
// ignored).
func (s *Supervisor) stop(err error) {
	s.stopOnce.Do(func() {
		s.stopErr = err
		close(s.stopped)
	})
}

// isStopped reports whether the run was stopped (stop).
func (s *Supervisor) isStopped() bool { return closed(s.stopped) }

// verdict decides the verdict of a run from why it was stopped (nil: it
// ended by itself) and how MainProcess ended.
func verdict(stopped error, main *proc) (Verdict, string) {
	var le *LimitError
	var de *DeadlockError
	switch {
	case errors.As(stopped, &le):
		return le.Verdict, le.Msg
	case errors.As(stopped, &de):
		return VerdictDeadlock, fmt.Sprintf("deadlock: every process was waiting for another (%d processes)", len(de.Waits))
	case errors.Is(stopped, ErrOutputClosed):
		return VerdictOutputClosed, "the reader of the output went away; every process was killed"
	case stopped != nil:
		return VerdictInterrupted, "the run was interrupted; every process was killed"
	case main.failure != nil:
		return VerdictInternal, "MainProcess could not run: " + main.failure.Error()
	case main.trap != "":
		return VerdictRuntimeError, "MainProcess stopped on an error: " + main.trap
	case main.exitCode > 0 && main.crash.found != "":
		return VerdictRuntimeError, "MainProcess stopped on an error: " + main.crash.found
	case main.exitCode < 0:
		return VerdictKilled, fmt.Sprintf("MainProcess was killed by signal %d (%s), not by the run", -main.exitCode, syscall.Signal(-main.exitCode))
	case main.exitCode != 0:
		return VerdictExit, fmt.Sprintf("MainProcess exited with code %d", main.exitCode)
	}
	return VerdictOK, "MainProcess exited with code 0"
}

// results lists every process that was started, in handle order.
func (s *Supervisor) results() []ProcessResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ProcessResult
	for h := int32(1); h <= s.lastHandle; h++ {
		p := s.procs[h]
		if p == nil || p.pid == 0 {
			continue
		}
		r := ProcessResult{Name: p.name, PID: p.pid, RunnerPID: p.runnerPID(), Interpreted: p.interpreted(), ExitCode: p.exitCode, CPU: p.cpu, CPUMs: p.cpu.Milliseconds(),
			PeakRSS: p.peakRSS, Output: p.output.Load(), Trap: p.trap,
			StartMs: s.ms(p.began), EndMs: s.ms(p.finished)}
		if p.exitCode < 0 {
			r.Signal = signalName(syscall.Signal(-p.exitCode))
		}
		if r.Trap == "" && p.exitCode > 0 {
			r.Trap = p.crash.found
		}
		if p.parent != nil {
			r.Parent = p.parent.name
		}
		out = append(out, r)
	}
	return out
}

// emit writes what p printed, within the output limits: what fits is
// written, and a process or run that prints past its limit stops the run.
func (s *Supervisor) emit(p *proc, stream int, data []byte) {
	n := int64(len(data))
	mine := p.output.Add(n)
	all := s.output.Add(n)
	if limit := s.cfg.MaxProcessOutput; limit > 0 && mine > limit {
		data = data[:max(0, len(data)-int(min(mine-limit, n)))]
		s.stop(&LimitError{VerdictOutputLimit, fmt.Sprintf("output limit: %s printed more than %s; every process was killed", s.who(p), bytesText(limit))})
	}
	if limit := s.cfg.MaxOutput; limit > 0 && all > limit {
		data = data[:max(0, len(data)-int(min(all-limit, n)))]
		s.stop(&LimitError{VerdictOutputLimit, fmt.Sprintf("output limit: the processes printed more than %s together; every process was killed", bytesText(limit))})
	}
	if len(data) > 0 {
		s.out.write(s, p, stream, data)
		if s.ev != nil {
			s.outputEvents(p, stream, data)
		}
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// who names p for messages: "Process-1 (pid 4711)".
func (s *Supervisor) who(p *proc) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s (pid %d)", p.name, p.pid)
}

func cpuText(d time.Duration) string {
	if d <= 0 {
		return "its limit"
	}
	return d.String()
}

// ms is t in milliseconds since the run started (0 for a zero t).
func (s *Supervisor) ms(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Sub(s.t0).Microseconds()) / 1000
}
