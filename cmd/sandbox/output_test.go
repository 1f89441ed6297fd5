package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// stopBound is how long after a stop (a time limit, a signal, a closed
// reader) the sandbox may take to exit whatever its stdout does: killing
// and reaping the runners, then host.DrainTimeout (2 s) for the output,
// with a margin for a loaded machine.
const stopBound = 10 * time.Second

// floods are the guests that print without end: one process, or several
// at once.
var floods = []struct {
	name string
	args []string
}{
	{"one process", []string{"flood"}},
	{"four processes", []string{"children", "4", "flood"}},
}

// startFlood starts "sandbox run [flags] PROBE -- FLOOD..." with its
// stdout on a pipe the test reads as it likes; stderr is collected.
func startFlood(t *testing.T, flood []string, flags ...string) (cmd *exec.Cmd, stdout *os.File, stderr *bytes.Buffer, exited chan error) {
	t.Helper()
	probe := testutil.Guest(t, "internal/testguests/probe")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sandbox", append(append(append([]string{"run"}, flags...), probe, "--"), flood...)...)
	cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
	stderr = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = w, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); r.Close() })
	// The flood has begun once output arrives.
	if _, err := io.ReadFull(r, make([]byte, 64<<10)); err != nil {
		t.Fatalf("no output from the flood: %v\n%s", err, stderr)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, r, stderr, exited
}

// waitExit waits for the sandbox to exit within bound and returns its
// status.
func waitExit(t *testing.T, exited chan error, bound time.Duration, stderr *bytes.Buffer) int {
	t.Helper()
	select {
	case err := <-exited:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(bound):
		t.Fatalf("the sandbox still runs %v later\nstderr:\n%s", bound, stderr)
		return -1
	}
}

// TestStalledReader: a reader of stdout that stops reading holds up
// neither the time limit nor SIGTERM.
func TestStalledReader(t *testing.T) {
	for _, fl := range floods {
		t.Run(fl.name, func(t *testing.T) { stalledReader(t, fl.args) })
	}
}

func stalledReader(t *testing.T, flood []string) {
	t.Run("time limit", func(t *testing.T) {
		start := time.Now()
		_, _, stderr, exited := startFlood(t, flood, "--timeout", "3s")
		if code := waitExit(t, exited, 3*time.Second+stopBound, stderr); code != exitTimeout {
			t.Errorf("status %d, want %d\nstderr:\n%s", code, exitTimeout, stderr)
		}
		t.Logf("ended %v after its start with a 3s limit", time.Since(start).Round(time.Millisecond))
		if !bytes.Contains(stderr.Bytes(), []byte("time limit of 3s reached")) {
			t.Errorf("stderr:\n%s\nwant the time limit named", stderr)
		}
	})
	t.Run("SIGTERM", func(t *testing.T) {
		cmd, _, stderr, exited := startFlood(t, flood)
		cmd.Process.Signal(syscall.SIGTERM)
		if code := waitExit(t, exited, stopBound, stderr); code != 130 {
			t.Errorf("status %d, want 130\nstderr:\n%s", code, stderr)
		}
	})
}

// TestClosedReader: `sandbox run … | head` ends the run with status 141
// and a message, not by SIGPIPE.
func TestClosedReader(t *testing.T) {
	for _, fl := range floods {
		t.Run(fl.name, func(t *testing.T) {
			_, stdout, stderr, exited := startFlood(t, fl.args)
			stdout.Close()
			if code := waitExit(t, exited, stopBound, stderr); code != exitClosed {
				t.Errorf("status %d, want %d\nstderr:\n%s", code, exitClosed, stderr)
			}
			if !bytes.Contains(stderr.Bytes(), []byte("sandbox: the reader of the output went away; every process was killed")) {
				t.Errorf("stderr:\n%s\nwant the closed reader named", stderr)
			}
		})
	}
}
