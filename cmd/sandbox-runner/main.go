// Command sandbox-runner is the runner binary: what the sandbox binary
// starts for every guest process when it finds it beside itself, of the
// same build (runner.Command). It runs the same runner code as the
// sandbox binary's hidden runner mode, without the packages only the
// command line uses, so that a runner starts sooner and keeps less
// memory. It is not a command users type.
package main

import (
	"fmt"
	"os"

	"github.com/sandbox-dev/sandbox/runner"
)

func main() {
	if status, ok := runner.HiddenMode(os.Args[1:], os.Stderr); ok {
		os.Exit(status)
	}
	fmt.Fprintln(os.Stderr, "sandbox-runner: started by sandbox for each guest process; not a command to run (see 'sandbox help')")
	os.Exit(2)
}
