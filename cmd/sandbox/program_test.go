package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/testutil"
	"github.com/sandbox-dev/sandbox/runner"
)

// TestRunnerProgram: real builds of the sandbox binary and the runner
// binary (as the Makefile makes them: stamped, without cgo, so Landlock
// binds every thread by Go's own AllThreadsSyscall): the runners of a run are
// the runner binary's, told the stamp, when it carries the sandbox
// binary's stamp; when
// it carries another, or is not there, the sandbox binary's, and the
// run is the same.
func TestRunnerProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	root := testutil.RepoRoot(t)
	guest := testutil.Guest(t, "guests/hello_processes")
	dir := t.TempDir()
	build := func(t *testing.T, pkg, out, stamp string) {
		t.Helper()
		cmd := exec.Command("go", "build", "-ldflags", "-X github.com/sandbox-dev/sandbox/runner.Stamp="+stamp,
			"-o", filepath.Join(dir, out), "./"+pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	build(t, "cmd/sandbox", "sandbox", "test-1")
	build(t, "cmd/sandbox-runner", runner.ProgramName, "test-1")
	cache := t.TempDir()
	run := func(t *testing.T) (stdout, log string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, "sandbox"), "run", "--cache-dir", cache, "--log-level", "debug", guest)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("sandbox run: %v\n%s", err, errb.String())
		}
		// (The pids differ from run to run.)
		return regexp.MustCompile(`[0-9]+`).ReplaceAllString(out.String(), "N"), errb.String()
	}
	want, log := run(t)
	if !strings.Contains(log, "runner program: path="+filepath.Join(dir, runner.ProgramName)) {
		t.Errorf("the runner binary of the same stamp is not the runners' program:\n%s", log)
	}
	if strings.Contains(log, "[WARN]") {
		t.Errorf("warnings with the runner binary of the same stamp:\n%s", log)
	}
	if !strings.Contains(log, "--stamp test-1") {
		t.Errorf("the runners are not told the stamp:\n%s", log)
	}
	if !strings.Contains(want, "Process-") {
		t.Fatalf("the guest's children printed nothing:\n%s", want)
	}
	t.Run("told another stamp", func(t *testing.T) {
		// A runner binary replaced after the host chose it: told the
		// host's stamp, it refuses to run.
		cmd := exec.Command(filepath.Join(dir, runner.ProgramName), runner.Mode, "--stamp", "test-0", "--module", guest)
		var errb strings.Builder
		cmd.Stderr = &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != runner.ExitFailed || !strings.Contains(errb.String(), `"test-1", not the host's "test-0"`) {
			t.Errorf("the runner binary told another stamp: %v\n%s", err, errb.String())
		}
	})
	t.Run("another stamp", func(t *testing.T) {
		build(t, "cmd/sandbox-runner", runner.ProgramName, "test-2")
		out, log := run(t)
		if !strings.Contains(log, "runner program: path="+filepath.Join(dir, "sandbox")) ||
			!strings.Contains(log, "the runners run the sandbox binary") || !strings.Contains(log, "Stamp=test-2") {
			t.Errorf("the runner binary of another stamp is not set aside, with why:\n%s", log)
		}
		if out != want {
			t.Errorf("the run printed\n%s\nwith the runner binary\n%s", out, want)
		}
	})
	t.Run("none", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, runner.ProgramName)); err != nil {
			t.Fatal(err)
		}
		out, log := run(t)
		if !strings.Contains(log, "runner program: path="+filepath.Join(dir, "sandbox")) || strings.Contains(log, "[WARN]") {
			t.Errorf("with no runner binary, not the sandbox binary, silently:\n%s", log)
		}
		if out != want {
			t.Errorf("the run printed\n%s\nwith the runner binary\n%s", out, want)
		}
	})
}
