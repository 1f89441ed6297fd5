package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayerOf: each sample counts in the layer of the process and the
// mapping it was taken in.
func TestLayerOf(t *testing.T) {
	for _, c := range []struct {
		comm, dso string
		host      bool
		want      string
	}{
		{"swapper", "[kernel.kallsyms]", false, ""},
		{"sandbox-runner", "19f88694-17010688.code", false, layerGuest},
		{"sandbox", "19f88694-17010688.code", false, layerGuest}, // (a runner run from the sandbox binary)
		{"sandbox-runner", "sandbox-runner", false, layerRunner},
		{"sandbox", "sandbox", false, layerRunner},
		{"sandbox", "[kernel.kallsyms]", false, layerKernel},
		{"sandbox-runner", "[kernel.kallsyms]", false, layerKernel},
		{"sandbox", "sandbox", true, layerHost},
		{"sandbox", "[kernel.kallsyms]", true, layerHost},
		{"sandbox-runner", "[vdso]", false, layerRunner}, // (a clock read: no system call)
		{"sandbox-runner", "[unknown]", false, layerRunner},
		{"sandbox", "[JIT] tid 25558", false, layerRunner},
		{"sandbox-x", "sandbox-x", false, layerRunner},        // (a sandbox binary of another name)
		{"sandbox-runner", "[nf_tables]", false, layerKernel}, // (a module)
		{"python3", "python3.11", false, layerPython},
		{"python3", "libc.so.6", false, layerPython},
		{"python3", "[vdso]", false, layerPython},
		{"python3", "[kernel.kallsyms]", false, layerKernel},
		{"perf-exec", "[kernel.kallsyms]", false, layerOther},
		{"kworker/0:1", "[kernel.kallsyms]", false, layerOther},
	} {
		if got := layerOf(c.comm, c.dso, c.host); got != c.want {
			t.Errorf("layerOf(%q, %q, host %v) = %q, want %q", c.comm, c.dso, c.host, got, c.want)
		}
	}
}

// TestParseScript: perf script's lines (process names with spaces
// too), their periods summed by layer; the host is the pid given, before
// its exec too (perf-exec), and every other process whose name begins
// with sandbox is a runner, a lower pid too (pids wrap).
func TestParseScript(t *testing.T) {
	script := "       perf-exec 10660     250000  ffffffff81704dc6 ([kernel.kallsyms])\n" +
		"         swapper     0     250000  ffffffff8224215b ([kernel.kallsyms])\n" +
		"         sandbox 10660     250000  ffffffff8224389d ([kernel.kallsyms])\n" +
		"         sandbox 10660     500000            4a1b2c (/tmp/bin/sandbox)\n" +
		"  sandbox-runner 10671     750000      7f0012345678 (/tmp/c/modules/c087c1ea-14876672.code)\n" +
		"  sandbox-runner 10671     250000  ffffffff81000000 ([kernel.kallsyms])\n" +
		"         sandbox   310     500000            4a1b2c (/tmp/bin/sandbox)\n" +
		"         sandbox   310     250000      7f0012345678 (/tmp/c/modules/c087c1ea-14876672.code (deleted))\n" +
		"         python3 10700     250000            55aa00 (/usr/bin/python3.11)\n" +
		" kworker/0:1-eve    56     250000  ffffffff81000000 ([kernel.kallsyms])\n" +
		"     Web Content  4321     250000            55aa00 (/usr/lib/firefox/libxul.so)\n" +
		"a line perf script did not write\n"
	got, err := parseScript(strings.NewReader(script), 10660)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{layerHost: 1000000, layerGuest: 1000000, layerKernel: 250000, layerRunner: 500000, layerPython: 250000, layerOther: 500000}
	if len(got) != len(want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	for l, v := range want {
		if got[l] != v {
			t.Errorf("%s: %v ns, want %v (all: %v)", l, got[l], v, got)
		}
	}
	// No host (a CPython run): the sandbox processes are all runners.
	got, _ = parseScript(strings.NewReader(script), 0)
	if got[layerHost] != 0 || got[layerRunner] != 1000000 {
		t.Errorf("with no host: %v", got)
	}
}

// TestProfileRun profiles real runs with perf, where perf can sample
// every CPU: a ping-pong of the sandbox shows in every layer of the
// sandbox (its guest code, its runners' Go code and kernel time, its
// host); -profile's figures come out for the sandbox and CPython fork,
// with no error; a sandbox binary with no runner binary beside it (an
// earlier build's, say) has its runners counted as runners. It asserts
// no speed.
func TestProfileRun(t *testing.T) {
	dir := t.TempDir()
	if err := checkPerf(context.Background(), dir); err != nil {
		t.Skipf("no profile here: %v", err)
	}
	cfg := config{
		sandbox: "../bin/sandbox",
		guest:   "../internal/testguests/bench.wasm",
		workDir: dir, cacheDir: dir + "/cache",
		python: "python3", script: "bench.py",
	}
	// (The module compiled first: an interpreted run maps no machine code.)
	if out, err := exec.Command(cfg.sandbox, "run", "--cache-dir", cfg.cacheDir, "--interpret-new=false", cfg.guest, "--", "hello", "2").CombinedOutput(); err != nil {
		t.Fatalf("warming the cache: %v\n%s", err, out)
	}
	layers, err := profileRun(context.Background(), cfg, implSandbox, []string{"pingpong", "2000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{layerGuest, layerRunner, layerKernel, layerHost} {
		if !(layers[l] > 0) {
			t.Errorf("the sandbox's ping-pong: no sample in %s (%v)", l, layers)
		}
	}

	cfg = config{
		reps: 1, quick: true, profile: true, only: "pingpong,lock",
		sandbox: "../bin/sandbox", guest: "../internal/testguests/bench.wasm",
		python: "python3", script: "bench.py",
	}
	var log bytes.Buffer
	res, err := run(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if len(res.Shapes) != 2 {
		t.Fatalf("%d rows, want 2 (pingpong, lock)", len(res.Shapes))
	}
	for _, r := range res.Shapes {
		if len(r.Errors) > 0 {
			t.Errorf("%s: %s", r.Key, strings.Join(r.Errors, "; "))
		}
		if !strings.HasSuffix(r.Name, ", CPU") {
			t.Errorf("%s: row %q, want it named as CPU", r.Key, r.Name)
		}
		impls := []string{implSandbox}
		if _, ok := r.Samples[implPythonFork]; ok {
			impls = append(impls, implPythonFork)
		}
		for _, impl := range impls {
			if _, ok := r.Extra[impl][layerKernel]; !ok {
				t.Errorf("%s under %s: no kernel figure (%v)", r.Key, impl, r.Extra[impl])
			}
		}
		if _, ok := r.Samples[implPythonSpawn]; ok {
			t.Errorf("%s: CPython spawn profiled", r.Key)
		}
	}
	if t.Failed() {
		t.Logf("bench log:\n%s", log.String())
	}

	// A sandbox binary with no runner binary beside it runs its runners
	// itself ("sandbox __runner"): still runners, by process.
	alone := filepath.Join(t.TempDir(), "sandbox")
	if b, err := os.ReadFile("../bin/sandbox"); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg = config{
		sandbox: alone, guest: "../internal/testguests/bench.wasm",
		workDir: dir, cacheDir: dir + "/cache",
	}
	layers, err = profileRun(context.Background(), cfg, implSandbox, []string{"pingpong", "2000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{layerGuest, layerRunner, layerKernel, layerHost} {
		if !(layers[l] > 0) {
			t.Errorf("the ping-pong of a sandbox binary alone: no sample in %s (%v)", l, layers)
		}
	}
}

// TestPerOperation: the CPU of one operation is the difference of the
// long run's and the short run's, over the operations between them
// (lock N makes 4N), in the shape's unit, for each of the
// implementation's layers, seen or not; any other sample is cpu_other's,
// outside the total.
func TestPerOperation(t *testing.T) {
	sandbox := layersOf(config{sandbox: "bin/sandbox"}, implSandbox)
	lock := &shape{Key: "lock", Scale: 1e3, OpsPerN: 4} // µs
	short := map[string]float64{layerRunner: 1e9, layerKernel: 2e8, layerOther: 5e7}
	// 5000 and 25000 each of 4 processes: 80,000 pairs more; a stray
	// CPython sample in the long run.
	whole := map[string]float64{layerRunner: 1e9 + 8e7, layerKernel: 2e8 + 1.6e7, layerOther: 5e7 + 8e6, layerPython: 8e6}
	total, layers := perOperation(lock, 5000, short, whole, sandbox)
	if want := 1.2; math.Abs(total-want) > 1e-9 {
		t.Errorf("lock: total %v µs, want %v (layers %v)", total, want, layers)
	}
	for l, want := range map[string]float64{layerRunner: 1.0, layerKernel: 0.2, layerGuest: 0, layerHost: 0, layerOther: 0.2} {
		if got, ok := layers[l]; !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("lock: %s %v µs (given %v), want %v", l, got, ok, want)
		}
	}
	if len(layers) != len(sandbox)+1 {
		t.Errorf("lock: layers %v, want the sandbox's and cpu_other", layers)
	}

	spawn := &shape{Key: "spawn", Scale: 1e6} // ms
	total, _ = perOperation(spawn, 200, map[string]float64{layerGuest: 1e8}, map[string]float64{layerGuest: 1e8 + 1.6e9}, sandbox)
	if want := 2.0; math.Abs(total-want) > 1e-9 { // 1.6 s over 800 processes
		t.Errorf("spawn: total %v ms, want %v", total, want)
	}

	python := layersOf(config{python: "python3"}, implPythonFork)
	_, layers = perOperation(spawn, 200, map[string]float64{}, map[string]float64{layerPython: 8e8, layerHost: 8e8}, python)
	if layers[layerPython] != 1.0 || layers[layerKernel] != 0 || layers[layerOther] != 1.0 || len(layers) != 3 {
		t.Errorf("CPython: layers %v, want cpu_python 1, cpu_kernel 0, and a sandbox's sample in cpu_other", layers)
	}
}
