package host_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/runner"
)

// probeSupervisor is a Supervisor of the probe with args under cfg (its
// module, arguments, runner unless cfg has one, output and logger set
// here), and the buffer that takes its output and its log.
func probeSupervisor(t *testing.T, cfg host.Config, args ...string) (*host.Supervisor, *syncBuffer) {
	t.Helper()
	module, cache := probe(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cfg.Module, cfg.Args = module, append([]string{"probe.wasm"}, args...)
	if cfg.Runner == nil {
		cfg.Runner = []string{exe, runner.Mode}
	}
	cfg.RunnerArgs = []string{"--cache-dir", cache}
	cfg.Stdout, cfg.Stderr = out, out
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: out, Level: hclog.Warn})
	s, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, out
}

// runLimited runs the probe with args, runner reuse, its children on one
// runner (oneRunner), and a per-process CPU limit of two seconds (a
// race-built runner's start-up alone takes 0.6-0.9 s of it), given only
// as Config.CPULimit (the host passes it to the runners), and returns how
// the run ended, error included.
func runLimited(t *testing.T, args ...string) (host.Result, string, error) {
	t.Helper()
	s, out := probeSupervisor(t, host.Config{CPULimit: 2 * time.Second, ReuseRunners: true, Runner: oneRunner(t)}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.Run(ctx)
	return res, out.String(), err
}

// oneRunner is a Config.Runner with which no runner the run starts after
// MainProcess's and one spare ever loads (stuckRunnerMode; killed at the
// end of the run): processes started one after another then all run on
// that spare's runner, as no other spare is loaded when one starts
// (acquire takes the one idle runner whether its next guest is parked yet
// or not). (Were that runner let go, the next start would wait for a
// stuck one: the test's timeout.)
func oneRunner(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, stuckRunnerMode, t.TempDir(), runner.Mode}
}

// runOnOneRunner runs the probe with args and runner reuse, its children
// on one runner (oneRunner).
func runOnOneRunner(t *testing.T, args ...string) (host.Result, string) {
	t.Helper()
	s, out := probeSupervisor(t, host.Config{ReuseRunners: true, Runner: oneRunner(t)}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.Run(ctx)
	if err != nil {
		t.Fatalf("Run(%v): %v\n%s", args, err, out)
	}
	return res, out.String()
}

// TestRunnerReuse: with ReuseRunners, a process started after another
// ended runs on its runner, and each keeps what is its own (its pid): a
// kill of the first reaches nothing; CPU time and the CPU limit are per
// process, not per runner.
func TestRunnerReuse(t *testing.T) {
	t.Run("kill-after-end", func(t *testing.T) {
		t.Parallel()
		res, out := runOnOneRunner(t, "after-end")
		if res.ExitCode != 0 {
			t.Fatalf("exit code %d\n%s", res.ExitCode, out)
		}
		matchLines(t, "stdout", out, []string{"same pid=false", "b lived", "a exitcode=0 b exitcode=0"})
		if a, b := res.Processes[1], res.Processes[2]; a.RunnerPID != b.RunnerPID {
			t.Errorf("%s ran in runner %d, %s in %d: runner not reused", a.Name, a.RunnerPID, b.Name, b.RunnerPID)
		}
	})
	t.Run("no-reuse", func(t *testing.T) {
		t.Parallel()
		_, stdout, stderr := run(t, host.Config{}, "after-end")
		matchLines(t, "stdout", stdout, []string{"same pid=false", "b lived", "a exitcode=0 b exitcode=0"})
		_ = stderr
	})
	t.Run("cpu-per-process", func(t *testing.T) {
		t.Parallel()
		// Four children of 0.6 s of CPU each at most, one after another,
		// on one runner under a limit of 2 s each: the runner's total
		// passes 2.4 s, so each child must have had its own limit.
		res, out, err := runLimited(t, "burn", "4", "600")
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("exit code %d, %v\n%s", res.ExitCode, err, out)
		}
		matchLines(t, "stdout", out, []string{"burn 1 exitcode=0", "burn 2 exitcode=0", "burn 3 exitcode=0", "burn 4 exitcode=0"})
		kids := res.Processes[1:]
		if len(kids) != 4 {
			t.Fatalf("%d children, want 4", len(kids))
		}
		for _, k := range kids {
			if k.RunnerPID != kids[0].RunnerPID {
				t.Errorf("%s ran in runner %d, %s in %d: runner not reused", k.Name, k.RunnerPID, kids[0].Name, kids[0].RunnerPID)
			}
			if k != kids[0] && k.PID == kids[0].PID {
				t.Errorf("%s and %s have one pid %d: pids must be unique in a run", k.Name, kids[0].Name, k.PID)
			}
			// Its own CPU time (within its limit), not its runner's so
			// far (past 2.4 s by the fourth child).
			if k.CPU <= 0 || k.CPU > 2*time.Second {
				t.Errorf("%s CPU = %v, want its own share (0, 2s]", k.Name, k.CPU)
			}
		}
	})
	t.Run("cpu-limit-on-reused-runner", func(t *testing.T) {
		t.Parallel()
		res, out, err := runLimited(t, "burn", "1", "300", "loop")
		var le *host.LimitError
		if !errors.As(err, &le) || res.Verdict != host.VerdictCPULimit {
			t.Fatalf("verdict %q, error %v, want the CPU limit\n%s", res.Verdict, err, out)
		}
		kids := res.Processes[1:]
		if len(kids) != 2 || kids[0].RunnerPID != kids[1].RunnerPID {
			t.Fatalf("children %+v: want two on one runner", kids)
		}
		// The loop may use its 2 s limit, plus up to 1 s as the soft limit
		// is whole seconds above what the runner used, and a sample's
		// lateness (0.5 s of margin). Its CPU time, not the run's wall
		// clock: a loaded machine gives the loop less than a core.
		if cpu := kids[1].CPU; cpu < time.Second || cpu > 3500*time.Millisecond {
			t.Errorf("the loop used %v of CPU, want its 2 s limit (up to 3.5 s)", cpu)
		}
	})
}

// lateRunnerMode, as this test binary's first argument, makes it a
// runner that starts late: "late-runner DIR runner-args...". Every
// process started so numbers itself with a directory in DIR; the first
// two run at once, the others wait lateBy first (as spares loading on a
// busy machine), then run as runners. stuckRunnerMode is the same, but
// the others wait until they are killed (oneRunner).
const (
	lateRunnerMode  = "late-runner"
	stuckRunnerMode = "stuck-runner"
	lateBy          = 30 * time.Second
)

// lateRunner is called first in TestMain: see lateRunnerMode.
func lateRunner() {
	if len(os.Args) < 3 || (os.Args[1] != lateRunnerMode && os.Args[1] != stuckRunnerMode) {
		return
	}
	late := lateBy
	if os.Args[1] == stuckRunnerMode {
		late = 24 * time.Hour
	}
	dir := os.Args[2]
	for i := 1; ; i++ {
		err := os.Mkdir(filepath.Join(dir, strconv.Itoa(i)), 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			os.Exit(3)
		}
		if i > 2 {
			time.Sleep(late)
		}
		break
	}
	os.Args = append(os.Args[:1], os.Args[3:]...)
}

// TestStartTakesFirstFreeRunner: a start that finds no idle runner and
// no ready spare takes whichever comes first, a runner going idle or a
// spare becoming ready. Here MainProcess's runner and one spare start at
// once, the other runners lateBy late: MainProcess starts two children
// that sleep 0.3 s, the first takes the spare, the second (started while
// the first sleeps, so no runner is idle yet) must take the first's
// runner when that child ends, not wait for a late spare.
func TestStartTakesFirstFreeRunner(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, out := probeSupervisor(t, host.Config{
		Runner:       []string{exe, lateRunnerMode, t.TempDir(), runner.Mode},
		ReuseRunners: true,
	}, "spawn", "2", "300ms")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	res, err := s.Run(ctx)
	took := time.Since(began)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit code %d, %v\n%s", res.ExitCode, err, out.String())
	}
	matchLines(t, "stdout", out.String(), []string{"started=2 failed=0"})
	kids := res.Processes[1:]
	if len(kids) != 2 || kids[0].RunnerPID != kids[1].RunnerPID {
		t.Errorf("children %+v: want two on one runner", kids)
	}
	// A late spare would take lateBy; 20 s leaves 10 s of margin for a
	// loaded machine, and the late spares are killed at the end.
	if took > lateBy-10*time.Second {
		t.Errorf("run took %v: a start waited for a late spare", took)
	}
}

// TestParkedGuests: a reused runner starts its next guest before the
// process is assigned (a parked guest, runner/runner.go). What a guest
// prints before its first call is its process's, in order, and the guest
// parked when the run ends prints nothing; one that computes without end
// before its first call is killed with the run, not waited for.
func TestParkedGuests(t *testing.T) {
	t.Run("init-output", func(t *testing.T) {
		t.Parallel()
		res, stdout := runOnOneRunner(t, "init-print", "3")
		if res.ExitCode != 0 {
			t.Fatalf("exit code %d\n%s", res.ExitCode, stdout)
		}
		if want := "init\ninit\nchild 1\ninit\nchild 2\ninit\nchild 3\n"; stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
		kids := res.Processes[1:]
		if len(kids) != 3 || kids[1].RunnerPID != kids[0].RunnerPID || kids[2].RunnerPID != kids[0].RunnerPID {
			t.Errorf("children %+v: want three on one runner", kids)
		}
	})
	t.Run("spin-ended-with-run", func(t *testing.T) {
		t.Parallel()
		// Every process started after spinFrom loops before its first
		// call: the child (started before it) sleeps past it, so the guest
		// parked on the child's runner once it ends loops, unassigned,
		// until its CPU limit (a minute) unless the end of the run ends
		// it. spinFrom leaves 10 s for MainProcess and the child to start
		// on a loaded machine (a child started later would loop itself).
		began := time.Now()
		spinFrom := began.Add(10 * time.Second)
		res, stdout, stderr := run(t, host.Config{ReuseRunners: true, CPULimit: time.Minute},
			"init-spin", strconv.FormatInt(spinFrom.UnixMilli(), 10))
		took := time.Since(began)
		if res.ExitCode != 0 {
			t.Fatalf("exit code %d\n%s\n%s", res.ExitCode, stdout, stderr)
		}
		matchLines(t, "stdout", stdout, []string{"joined"})
		// The run ends 0.3 s after spinFrom; 10 s of margin for a loaded
		// machine, against the minute a parked loop would take.
		if limit := spinFrom.Sub(began) + 10*time.Second; took > limit {
			t.Errorf("run took %v, more than %v: the end of the run waited for a parked guest", took, limit)
		}
	})
	t.Run("spin-counted", func(t *testing.T) {
		t.Parallel()
		// As above, but MainProcess then sleeps a minute under a run CPU
		// limit of 5 s (MainProcess and the child use about 2 of it,
		// under -race): the parked guest's loop, on a runner no process
		// has taken, is the run's CPU time and ends the run.
		began := time.Now()
		spinFrom := began.Add(10 * time.Second)
		s, out := probeSupervisor(t, host.Config{ReuseRunners: true, RunCPULimit: 5 * time.Second},
			"init-spin", strconv.FormatInt(spinFrom.UnixMilli(), 10), "60000")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := s.Run(ctx)
		took := time.Since(began)
		var le *host.LimitError
		if !errors.As(err, &le) || res.Verdict != host.VerdictCPULimit {
			t.Fatalf("verdict %q, error %v, want the run's CPU limit\n%s", res.Verdict, err, out)
		}
		// At most 5 s of loop after spinFrom + 0.3; 15 s of margin for a
		// loaded machine (the loop gets less than a core), against the
		// minute's sleep.
		if limit := spinFrom.Sub(began) + 20*time.Second; took > limit {
			t.Errorf("run took %v, more than %v", took, limit)
		}
	})
}
