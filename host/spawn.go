package host

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// spawner starts runners from one goroutine locked to one OS thread for the
// whole run. The parent-death signal of a child fires when the *thread*
// that started it ends, so every runner must come from a thread that lives
// as long as the host does.
type spawner struct {
	reqs chan func()
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func())}
	go func() {
		// Never unlocked: when the loop ends the thread ends with it,
		// which is what the parent-death signal watches.
		runtime.LockOSThread()
		for f := range s.reqs {
			f()
		}
	}()
	return s
}

// do runs f on the spawner's thread and waits for it.
func (s *spawner) do(f func()) {
	done := make(chan struct{})
	s.reqs <- func() { f(); close(done) }
	<-done
}

func (s *spawner) stop() { close(s.reqs) }

// envAllowlist is what a runner may see of the host's environment: only
// what tunes the Go runtime of the runner itself. The guest sees none of it.
var envAllowlist = []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GORACE", "GOCOVERDIR", "TMPDIR"}

func runnerEnv() []string {
	// A runner runs one single-threaded guest: one P avoids handing every
	// host call between threads (unless the user tunes it).
	env := []string{"GOMAXPROCS=1"}
	for _, k := range envAllowlist {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// started is a runner that has just been started.
type started struct {
	// interpreted: it was started with --interpret (Config.Compiled).
	interpreted bool
	release     func() // gives back its interpreted place (interpretSlot)
	cmd         *exec.Cmd
	control     net.Conn
	logs        *os.File
}

// startRunner starts one runner: control socket on fd 3, its log on
// stderr, nothing on stdin and stdout. When it is to interpret and no
// place is free, a nil again is errNoPlace; else it waits for a place,
// or for again to close (errLookAgain; interpretSlot).
func (s *Supervisor) startRunner(again <-chan struct{}) (*started, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	hostEnd := os.NewFile(uintptr(fds[0]), "control")
	childEnd := os.NewFile(uintptr(fds[1]), "control-runner")
	defer childEnd.Close()
	control, err := net.FileConn(hostEnd)
	hostEnd.Close()
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		control.Close()
		return nil, fmt.Errorf("log pipe: %w", err)
	}
	defer logW.Close()

	argv := append([]string{}, s.cfg.Runner[1:]...)
	argv = append(argv, "--module", s.cfg.Module, "--host-pid", fmt.Sprint(os.Getpid()))
	argv = append(argv, s.cfg.RunnerArgs...)
	if s.firstStarted.CompareAndSwap(false, true) {
		// MainProcess's: Run starts it first, whether it takes a spare
		// prepared during the check or a runner of its own.
		argv = append(argv, s.cfg.FirstRunnerArgs...)
	}
	if s.cfg.CPULimit > 0 {
		argv = append(argv, "--cpu-limit", fmt.Sprint(cpuSeconds(s.cfg.CPULimit)))
	}
	if lt := s.cpuLifetime(); lt > 0 {
		argv = append(argv, "--cpu-lifetime", fmt.Sprint(lt))
	}
	interpret, err := s.interpretSlot(again)
	if err != nil {
		control.Close()
		logR.Close()
		return nil, err
	}
	if interpret {
		argv = append(argv, "--interpret")
	}
	cmd := exec.Command(s.cfg.Runner[0], argv...)
	cmd.Env = runnerEnv()
	cmd.Stderr = logW
	cmd.ExtraFiles = []*os.File{childEnd}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.spawner.do(func() { err = cmd.Start() })
	if err != nil {
		if interpret {
			<-s.interp
		}
		control.Close()
		logR.Close()
		return nil, fmt.Errorf("start runner: %w", err)
	}
	r := &started{interpreted: interpret, cmd: cmd, control: control, logs: logR}
	if interpret {
		r.release = func() { <-s.interp }
	}
	return r, nil
}

// maxInterpreted is how many interpreted runners (Config.Compiled) a run
// has alive at once; another start waits for the machine code, for one
// of them to end or to be idle. The interpreter's code is kept in the
// runner's heap: about 90 MiB for a Go module of 4 MB, against 14 MiB of
// machine code; 8 of them keep a run's first processes under 1 GiB
// (--run-memory is 4 GiB by default). With 4, the first run of the
// process_pool example (MainProcess and a Pool of 4) took 3.0 s, its
// fifth process waiting for the machine code; with 8, 1.2-1.4 s (as
// long as compiled first, 1.4 s).
const maxInterpreted = 8

var (
	// errNoPlace: a spare is not started while every interpreted place
	// is taken; the start that needs a runner waits for one.
	errNoPlace = errors.New("every place for an interpreted runner is taken")
	// errLookAgain: while a start waited for a place, a runner went
	// idle or a spare became ready (or failed): it may take one of those
	// instead, or look for a place again.
	errLookAgain = errors.New("a runner went idle or a spare is ready or failed")
)

// interpretSlot says whether the runner about to start interprets the
// module: while the machine code is not ready, once one of the
// maxInterpreted places is free (the runner holds it until it has
// ended), or not at all once the machine code is ready. With a nil
// again, no free place is errNoPlace; else the wait ends with the
// machine code, a free place, errLookAgain when again closes, or an
// error when the run ends.
func (s *Supervisor) interpretSlot(again <-chan struct{}) (bool, error) {
	take := func() bool {
		if s.compiled() {
			<-s.interp
			return false
		}
		return true
	}
	if s.compiled() {
		return false, nil
	}
	select {
	case s.interp <- struct{}{}:
		return take(), nil
	default:
	}
	if again == nil {
		return false, errNoPlace
	}
	select {
	case s.interp <- struct{}{}:
		return take(), nil
	case <-s.cfg.Compiled:
		return false, nil
	case <-again:
		return false, errLookAgain
	case <-s.closed:
		return false, errors.New("the run is ending")
	}
}

// lookAgain tells every start waiting for a runner (acquire) or for an
// interpreted place (interpretSlot) that a runner went idle or a spare is
// ready or failed: it may take that one instead.
func (s *Supervisor) lookAgain() {
	s.mu.Lock()
	s.lookAgainLocked()
	s.mu.Unlock()
}

// lookAgainLocked is lookAgain with s.mu held.
func (s *Supervisor) lookAgainLocked() {
	close(s.again)
	s.again = make(chan struct{})
}

// lookAgainChan returns the channel the next lookAgain closes.
func (s *Supervisor) lookAgainChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.again
}

// exited is called once the runner has exited and was waited for.
func (r *started) exited() {
	if r.release != nil {
		r.release()
	}
}

// compiled says whether the module's machine code is in the cache, so
// that a runner started now runs it (Config.Compiled).
func (s *Supervisor) compiled() bool {
	return s.cfg.Compiled == nil || closed(s.cfg.Compiled)
}

// closed says whether ch is closed (ch only ever is closed, never sent on).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// outdated reports whether r interprets the module while its machine
// code is ready now: a runner started now would run a process faster, so
// r is given none (not kept idle, not taken from idle or as a spare).
func (s *Supervisor) outdated(r *started) bool {
	return r.interpreted && s.compiled()
}
