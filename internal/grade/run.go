package grade

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// runner runs one test once: `sandbox run` in a process of its own, so
// that nothing a student's program does reaches the grader, with the
// result file and the event log written into a folder of the run.
type runner struct {
	sandbox  []string // the command of the CLI: {exe}
	cacheDir string   // the compilation cache every run shares
}

// run runs module for test t under flags, in dir (created), and returns
// its outcome and measurements.
func (r *runner) run(ctx context.Context, dir, module string, flags []string, t *Test, timeline bool, chaos int64) (*Outcome, Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Run{}, err
	}
	result, evs := filepath.Join(dir, "result.json"), filepath.Join(dir, "events.jsonl")
	args := append([]string{}, r.sandbox[1:]...)
	// Compiled code only: an interpreted first run (--interpret-new) would
	// use more CPU and time for the same work, and a verdict under a
	// limit must not depend on whether the module was run before.
	args = append(args, "run", "--interpret-new=false", "--result", result, "--events", evs, "--log-file", filepath.Join(dir, "sandbox.log"))
	if r.cacheDir != "" {
		args = append(args, "--cache-dir", r.cacheDir)
	}
	if timeline {
		args = append(args, "--timeline", filepath.Join(dir, "timeline.html"))
	}
	if chaos > 0 {
		args = append(args, "--chaos", fmt.Sprint(chaos))
	}
	args = append(args, flags...)
	args = append(args, module, "--")
	args = append(args, t.Args...)

	// The run's own --timeout ends it; this bound only guards against a
	// sandbox that would not end (a bug), with a wide margin.
	limit := time.Duration(0)
	for i := 0; i+1 < len(flags); i += 2 {
		if flags[i] == "--timeout" {
			limit, _ = time.ParseDuration(flags[i+1])
		}
	}
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.sandbox[0], args...)
	// argv[0] is the command's name whatever the file is called (a test
	// binary dispatches on it).
	cmd.Args[0] = "sandbox"
	cmd.Stdin = strings.NewReader(t.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	began := time.Now()
	err := cmd.Run()
	wall := time.Since(began)
	if ctx.Err() != nil {
		return nil, Run{}, fmt.Errorf("sandbox run did not end: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, Run{}, fmt.Errorf("sandbox run: %w", err)
	}
	o := &Outcome{Stdout: stdout.String()}
	var res struct {
		Verdict      string           `json:"verdict"`
		Explanation  string           `json:"explanation"`
		ExitStatus   int              `json:"exit_status"`
		MainExitCode *int             `json:"main_exit_code"`
		Processes    []map[string]any `json:"processes"`
		Deadlock     []string         `json:"deadlock"`
		Stuck        []string         `json:"stuck"`
		CPUMs        int64            `json:"cpu_ms"`
		PeakMemory   int64            `json:"peak_memory_bytes"`
	}
	b, err := os.ReadFile(result)
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil {
		return nil, Run{}, fmt.Errorf("sandbox run wrote no result (%v); its stderr: %s", err, excerpt(stderr.String()))
	}
	o.Verdict, o.Explanation, o.ExitStatus = res.Verdict, res.Explanation, res.ExitStatus
	if res.MainExitCode != nil {
		o.MainExitCode, o.MainRan = *res.MainExitCode, true
	}
	o.Processes, o.Deadlock, o.Stuck = res.Processes, res.Deadlock, res.Stuck
	if f, err := os.Open(evs); err == nil {
		o.Events, err = events.ReadJSONL(f)
		f.Close()
		if err != nil {
			return nil, Run{}, fmt.Errorf("the run's event log: %w", err)
		}
	}
	// The guests' stderr, without the sandbox's own messages: the lines
	// the processes printed there, as they arrived.
	var errText strings.Builder
	for _, e := range o.Events {
		if e.Type == events.TypeOutput && e.Stream == "stderr" {
			errText.WriteString(e.Text + "\n")
		}
	}
	o.Stderr = errText.String()
	run := Run{
		Verdict: o.Verdict, Explanation: o.Explanation, ExitStatus: o.ExitStatus,
		WallMs: float64(wall.Microseconds()) / 1000, CPUMs: res.CPUMs, PeakMemory: res.PeakMemory,
		Processes: len(res.Processes), Stdout: excerpt(o.Stdout), Stderr: excerpt(o.Stderr),
	}
	if chaos > 0 {
		run.Chaos = &chaos
	}
	return o, run, nil
}
