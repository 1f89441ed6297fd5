// Package testutil finds the repository and the guest modules that tests
// run. Guests are built by the Makefile; a test run without it (plain
// `go test`) builds a missing guest itself, so tests never depend on a
// step someone forgot.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var buildMu sync.Mutex

// RepoRoot returns the repository's root directory (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Guest returns the absolute path of the module built from the guest
// package in folder pkg (relative to the repository root, e.g.
// "guests/hello_processes"), building it when it is missing.
func Guest(t testing.TB, pkg string) string {
	t.Helper()
	root := RepoRoot(t)
	out := filepath.Join(root, pkg+".wasm")
	buildMu.Lock()
	defer buildMu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build guest %s: %v\n%s", pkg, err, b)
	}
	return out
}
