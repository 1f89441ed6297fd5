package testutil

import (
	"os"

	"github.com/sandbox-dev/sandbox/runner"
)

// RunnerMode is the first line of the TestMain of a test binary that a
// host under test re-runs as its runner: when this process was started in
// runner mode it runs the runner and exits; otherwise it returns, having
// made race-built runners exit at once (GORACE's atexit_sleep_ms would
// otherwise add a second to every process, and every Join waits for it).
func RunnerMode() {
	if status, ok := runner.HiddenMode(os.Args[1:], os.Stderr); ok {
		os.Exit(status)
	}
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
}
