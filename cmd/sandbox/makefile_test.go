package main

import (
	"os/exec"
	"regexp"
	"slices"
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

// TestMakeBuildStamps: `make build` builds the sandbox binary and the
// runner binary with one stamp of the source (runner.Command takes the
// runner binary only then), both without cgo (the Makefile's NOCGO).
func TestMakeBuildStamps(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	cmd := exec.Command("make", "-n", "-B", "build")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n -B build: %v", err)
	}
	// (The go command may be a path or another name: make test
	// GO=/path/to/go1.26.8.)
	stamp := regexp.MustCompile(`(?m)^((?:\S+=\S* )*)\S+ build -ldflags '-X github.com/sandbox-dev/sandbox/runner.Stamp=([0-9a-f]{16})' -o (\S+) `)
	stamps := map[string]string{}
	for _, m := range stamp.FindAllStringSubmatch(string(out), -1) {
		stamps[m[3]] = m[2]
		if !slices.Contains(strings.Fields(m[1]), "CGO_ENABLED=0") {
			t.Errorf("%s is built with %q before go build, not CGO_ENABLED=0:\n%s", m[3], m[1], out)
		}
	}
	if s := stamps["bin/sandbox"]; s == "" || stamps["bin/sandbox-runner"] != s {
		t.Errorf("the two binaries' stamps: %v; want one, in both:\n%s", stamps, out)
	}
}
