package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

func TestMain(m *testing.M) {
	// The host starts runners by re-running its own executable, which in
	// tests is this test binary.
	testutil.RunnerMode()
	testscript.Main(m, map[string]func(){
		"sandbox": func() { os.Exit(doMain(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: each one behaviour of the CLI,
// with the real binary, real runners and real guests.
func TestScripts(t *testing.T) {
	root := testutil.RepoRoot(t)
	probe := testutil.Guest(t, "internal/testguests/probe")
	hello := testutil.Guest(t, "guests/hello_processes")
	block := testutil.Guest(t, "internal/testguests/block")
	cache := sharedCache(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROBE", probe)
			env.Setenv("HELLO", hello)
			env.Setenv("BLOCK", block)
			env.Setenv("FIXTURES", filepath.Join(root, "cmd", "sandbox", "testdata"))
			// One compilation cache for every script: the probe is
			// compiled once, not once per script.
			env.Setenv("XDG_CACHE_HOME", cache)
			return nil
		},
	})
}

// sharedCache is the compilation cache (XDG_CACHE_HOME) of every test of
// this package, so that each guest is compiled once, not once per test. It
// stays in the temp dir between runs: testscript.Main exits without running
// deferred cleanups, and a warm cache makes the next run faster.
func sharedCache(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "sandbox-test-cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
