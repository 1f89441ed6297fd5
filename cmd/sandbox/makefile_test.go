package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeDemoIsShell: the commands `make demo` runs, with and without
// TRACE=1, are valid shell (a comma inside a $(if ...) once cut the
// recipe in two, and only a fresh `make demo` showed it).
func TestMakeDemoIsShell(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	for _, args := range [][]string{{"-n", "demo"}, {"-n", "demo", "TRACE=1"}} {
		cmd := exec.Command("make", args...)
		cmd.Dir = "../.."
		script, err := cmd.Output()
		if err != nil {
			t.Fatalf("make %s: %v", strings.Join(args, " "), err)
		}
		sh := exec.Command("sh", "-n")
		sh.Stdin = strings.NewReader(string(script))
		if out, err := sh.CombinedOutput(); err != nil {
			t.Errorf("make %s prints what sh rejects: %v\n%s\n%s", strings.Join(args, " "), err, out, script)
		}
	}
}
