// Command sandbox runs WebAssembly programs written against a
// multiprocessing-style API, every guest process in its own OS process,
// under one supervising host.
//
// Usage:
//
//	sandbox run [flags] MODULE.wasm [-- guest args...]
//	sandbox version
//	sandbox help [command]
//
// Run "sandbox help run" for the flags and the exit codes.
package main

import (
	"os"

	"github.com/sandbox-dev/sandbox/runner"
)

func main() {
	if status, ok := runner.HiddenMode(os.Args[1:], os.Stderr); ok {
		os.Exit(status)
	}
	os.Exit(doMain(os.Args[1:], os.Stdout, os.Stderr))
}
