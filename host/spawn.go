package host

import (
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
	cmd     *exec.Cmd
	control net.Conn
	logs    *os.File
}

// startRunner starts one runner: control socket on fd 3, its log on
// stderr, nothing on stdin and stdout.
func (s *Supervisor) startRunner() (*started, error) {
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
	if s.cfg.CPULimit > 0 {
		argv = append(argv, "--cpu-limit", fmt.Sprint(cpuSeconds(s.cfg.CPULimit)))
	}
	if lt := s.cpuLifetime(); lt > 0 {
		argv = append(argv, "--cpu-lifetime", fmt.Sprint(lt))
	}
	cmd := exec.Command(s.cfg.Runner[0], argv...)
	cmd.Env = runnerEnv()
	cmd.Stderr = logW
	cmd.ExtraFiles = []*os.File{childEnd}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.spawner.do(func() { err = cmd.Start() })
	if err != nil {
		control.Close()
		logR.Close()
		return nil, fmt.Errorf("start runner: %w", err)
	}
	return &started{cmd: cmd, control: control, logs: logR}, nil
}
