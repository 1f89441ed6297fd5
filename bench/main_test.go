package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEveryShapeRuns runs every shape once with small counts (-quick)
// under the sandbox and, where python3 is installed, under CPython fork
// and spawn: each must give a positive figure, no error, and a row of the
// table and of the JSON. It asserts no speed.
func TestEveryShapeRuns(t *testing.T) {
	cfg := config{
		reps:    1,
		quick:   true,
		sandbox: "../bin/sandbox",
		guest:   "../internal/testguests/bench.wasm",
		python:  "python3",
		script:  "bench.py",
		alive:   "3,6",
	}
	for _, f := range []string{cfg.sandbox, cfg.guest} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v (build it with make build testguests)", err)
		}
	}
	withPython := true
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("python3 not installed: the sandbox side only")
		withPython = false
		cfg.python = ""
	}
	var log bytes.Buffer
	res, err := run(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	all := shapes(cfg)
	if len(res.Shapes) != len(all) {
		t.Fatalf("%d rows, want %d", len(res.Shapes), len(all))
	}
	for i, r := range res.Shapes {
		if len(r.Errors) > 0 {
			t.Errorf("%s: %s", r.Key, strings.Join(r.Errors, "; "))
		}
		impls := []string{implSandbox}
		if withPython {
			impls = append(impls, implPythonFork, implPythonSpawn)
		}
		for _, impl := range impls {
			if all[i].Impls != nil && !slices.Contains(all[i].Impls, impl) {
				continue
			}
			if v := r.Median[impl]; !(v > 0) {
				t.Errorf("%s under %s: median %v, want > 0", r.Key, impl, v)
			}
		}
		if withPython && r.Median[implPythonFork] > 0 && !(r.RatioToFork > 0) {
			t.Errorf("%s: no ratio to fork", r.Key)
		}
	}
	if t.Failed() {
		t.Logf("bench log:\n%s", log.String())
	}

	var table bytes.Buffer
	printTable(&table, res)
	for _, s := range all {
		if !strings.Contains(table.String(), s.Name) {
			t.Errorf("the table has no row %q:\n%s", s.Name, table.String())
		}
	}
	file := filepath.Join(t.TempDir(), "out", "results.json")
	if err := writeJSON(file, res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if back.Version != 1 || len(back.Shapes) != len(all) || back.Machine.CPUs < 1 || back.Date == "" {
		t.Errorf("results.json: version %d, %d shapes, %d CPUs, date %q", back.Version, len(back.Shapes), back.Machine.CPUs, back.Date)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for _, c := range []struct {
		k    int
		want string
	}{{0, "abc"}, {1, "bca"}, {2, "cab"}, {3, "abc"}, {7, "bca"}} {
		if got := strings.Join(rotate(xs, c.k), ""); got != c.want {
			t.Errorf("rotate(abc, %d) = %s, want %s", c.k, got, c.want)
		}
	}
	if strings.Join(xs, "") != "abc" {
		t.Errorf("rotate changed its argument: %v", xs)
	}
}

// TestFlags: -flags and -before-flags reach the command line of their
// own column only.
func TestFlags(t *testing.T) {
	cfg := config{sandbox: "bin/sandbox", guest: "g.wasm", before: "/old", flags: "--reuse-runners=false  --prefix", beforeFlags: ""}
	tests := []struct {
		impl string
		want []string // flags expected on the command line
		not  []string // flags that must not be there
	}{
		{implSandbox, []string{"--reuse-runners=false", "--prefix"}, nil},
		{implBefore, nil, []string{"--reuse-runners=false", "--prefix"}},
		{implPythonFork, nil, []string{"--reuse-runners=false", "--prefix"}},
	}
	for _, tt := range tests {
		cmd := command(context.Background(), cfg, tt.impl, "", nil, "spawn", "1")
		for _, f := range tt.want {
			if !slices.Contains(cmd.Args, f) {
				t.Errorf("%s: %v lacks %s", tt.impl, cmd.Args, f)
			}
		}
		for _, f := range tt.not {
			if slices.Contains(cmd.Args, f) {
				t.Errorf("%s: %v has %s", tt.impl, cmd.Args, f)
			}
		}
	}
}

// TestSupports: a flag is found in the real CLI's help by its whole name.
func TestSupports(t *testing.T) {
	bin := "../bin/sandbox"
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%v (make build makes it)", err)
	}
	cfg := config{sandbox: bin}
	tests := []struct {
		impl, flag string
		want       bool
	}{
		{implSandbox, "--interpret-new=false", true},
		{implSandbox, "--reuse-runners", true},
		{implSandbox, "--interpret", false}, // only the start of a flag
		{implSandbox, "--no-such-flag", false},
		{implPythonFork, "--interpret-new=false", false},
	}
	for _, tt := range tests {
		if got := cfg.supports(tt.impl, tt.flag); got != tt.want {
			t.Errorf("supports(%s, %s) = %v, want %v", tt.impl, tt.flag, got, tt.want)
		}
	}
}
