package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"
)

// result is one finished "sandbox" command.
type result struct {
	stdout, stderr string
	code           int
}

// runSandbox runs the real sandbox binary (this test binary, put on PATH
// as "sandbox" by testscript.Main) with args and waits at most two
// minutes. Every call shares one compilation cache per test binary run.
func runSandbox(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sandbox", args...)
	cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("sandbox %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("sandbox %v did not finish in time\nstdout:\n%s\nstderr:\n%s", args, res.stdout, res.stderr)
	}
	return res
}
