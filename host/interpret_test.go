package host_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/runner"
)

// TestInterpretedRunners: while Config.Compiled is open, runners
// interpret the module, at most four alive at once; a start past them
// waits, and goes on as soon as the machine code is ready, on a runner
// that runs it.
func TestInterpretedRunners(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		name := map[bool]string{true: "reuse", false: "no-reuse"}[reuse]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compiled := make(chan struct{})
			// Six children alive at once for 3 s; the machine code is
			// "ready" 1.5 s in: without the bound, all seven would
			// have been interpreted.
			timer := time.AfterFunc(1500*time.Millisecond, func() { close(compiled) })
			defer timer.Stop()
			res, stdout, stderr := run(t, host.Config{Compiled: compiled, ReuseRunners: reuse}, "children", "6", "sleep", "3s")
			if res.ExitCode != 0 || len(res.Processes) != 7 {
				t.Fatalf("exit code %d, %d processes\n%s\n%s", res.ExitCode, len(res.Processes), stdout, stderr)
			}
			interpreted := 0
			for _, p := range res.Processes {
				if p.Interpreted {
					interpreted++
				}
			}
			if interpreted > 4 {
				t.Errorf("%d processes interpreted at once, want 4 at most: %+v", interpreted, res.Processes)
			}
			if !res.Processes[0].Interpreted {
				t.Errorf("MainProcess started before the machine code was ready and is not interpreted")
			}
			if last := res.Processes[6]; last.Interpreted {
				t.Errorf("%s started after the machine code was ready and is interpreted", last.Name)
			}
		})
	}
}

// TestCheckedWhileStarting: with Config.Checked, MainProcess's runner
// starts at once and the guest runs only after the check passes; a check
// that fails ends Run with its error, before any guest ran.
func TestCheckedWhileStarting(t *testing.T) {
	module, cache := probe(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("invalid module: made up by the test")
	tests := []struct {
		name    string
		outcome error
	}{
		{"passes", nil},
		{"fails", bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checked := make(chan error, 1)
			timer := time.AfterFunc(300*time.Millisecond, func() { checked <- tt.outcome })
			defer timer.Stop()
			var out syncBuffer
			s, err := host.New(host.Config{
				Module: module, Args: []string{"probe.wasm", "hello"},
				Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
				Stdout: &out, Stderr: &out, Logger: hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Warn}),
				Checked: checked,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := s.Run(ctx)
			if tt.outcome == nil {
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("Run: exit code %d, %v\n%s", res.ExitCode, err, out.String())
				}
				matchLines(t, "stdout", out.String(), []string{"hello from MainProcess.*"})
				return
			}
			if !errors.Is(err, host.ErrMainFailed) || !errors.Is(err, bad) {
				t.Fatalf("Run error %v, want ErrMainFailed wrapping %v", err, bad)
			}
			if res.Verdict != "" || len(res.Processes) != 0 || out.String() != "" {
				t.Errorf("a guest ran: verdict %q, processes %+v, output %q", res.Verdict, res.Processes, out.String())
			}
		})
	}
}

// TestInterpretedLimitSaysSo: a limit reached by an interpreted process
// says it ran interpreted, and how to run compiled code instead.
func TestInterpretedLimitSaysSo(t *testing.T) {
	t.Parallel()
	module, cache := probe(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s, err := host.New(host.Config{
		Module: module, Args: []string{"probe.wasm", "loop"},
		Runner: []string{exe, runner.Mode}, RunnerArgs: []string{"--cache-dir", cache},
		Stdout: &out, Stderr: &out, Logger: hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Warn}),
		CPULimit: time.Second, Compiled: make(chan struct{}), // never ready
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.Run(ctx)
	if res.Verdict != host.VerdictCPULimit || !strings.Contains(res.Explanation, "running interpreted") {
		t.Fatalf("verdict %q: %s (%v)\n%s", res.Verdict, res.Explanation, err, out.String())
	}
}
