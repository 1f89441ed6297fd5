//go:build !wasip1

package mp

import (
	"errors"
	"strings"
	"testing"
)

// Outside wasip1 every call fails: Main must say so rather than run the
// body as if it were MainProcess.
func TestOutsideSandbox(t *testing.T) {
	oldHost, oldState, oldStderr := host, st, stderr
	t.Cleanup(func() { host, st, stderr = oldHost, oldState, oldStderr })
	host, st = noSandbox{}, newState()
	out := captureStderr(t)

	code, exit := run(func() { t.Error("body ran outside the sandbox") })
	if code != 1 || !exit {
		t.Errorf("run = %d, %v; want 1, true", code, exit)
	}
	if !strings.Contains(out.String(), "not running in the sandbox") {
		t.Errorf("stderr %q", out)
	}
	if _, _, err := st.ids(); !errors.Is(err, ErrHost) {
		t.Errorf("ids: %v, want ErrHost", err)
	}
	if msg := mustPanic(t, func() { CurrentProcess() }); !strings.Contains(msg, "not running in the sandbox") {
		t.Errorf("CurrentProcess panic %q", msg)
	}
}
