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

// TestLayerOf: each sample of a perf report counts in the layer of the
// process and the mapping it was taken in.
func TestLayerOf(t *testing.T) {
	for _, c := range []struct{ comm, dso, want string }{
		{"swapper", "[kernel.kallsyms]", ""},
		{"sandbox-runner", "19f88694-17010688.code", layerGuest},
		{"sandbox", "19f88694-17010688.code", layerGuest}, // (a runner run from the sandbox binary)
		{"sandbox-runner", "sandbox-runner", layerRunner},
		{"sandbox-runner", "[kernel.kallsyms]", layerKernel},
		{"sandbox", "sandbox", layerHost},
		{"sandbox", "[kernel.kallsyms]", layerHost},
		{"python3", "python3.11", layerPython},
		{"python3", "libc.so.6", layerPython},
		{"python3", "[kernel.kallsyms]", layerKernel},
		{"sandbox-runner", "[vdso]", layerRunner}, // (a clock read: no system call)
		{"sandbox-runner", "[unknown]", layerRunner},
		{"sandbox-runner", "[JIT] tid 25558", layerRunner},
		{"sandbox-runner", "[nf_tables]", layerKernel}, // (a module)
		{"python3", "[vdso]", layerPython},
		{"perf-exec", "[kernel.kallsyms]", layerOther},
		{"kworker/0:1", "[kernel.kallsyms]", layerOther},
	} {
		if got := layerOf(c.comm, c.dso); got != c.want {
			t.Errorf("layerOf(%q, %q) = %q, want %q", c.comm, c.dso, got, c.want)
		}
	}
}

// TestParseReport: perf report's tab-separated lines (its padding, its
// comments), their periods summed by layer.
func TestParseReport(t *testing.T) {
	report := "# To display the perf.data header info, please use --header/--header-only options.\n" +
		"#\n" +
		"# Samples: 3K of event 'cpu-clock:ppp'\n" +
		"#\n" +
		" 1200       \tswapper        \t[kernel.kallsyms]       \n" +
		" 700        \tsandbox-runner \tc087c1ea-14876672.code  \n" +
		" 300        \tsandbox-runner \t[kernel.kallsyms]       \n" +
		" 20         \tsandbox-runner \t[kernel.kallsyms]       \n" +
		" 90         \tsandbox-runner \tsandbox-runner          \n" +
		" 40         \tsandbox        \tsandbox                 \n" +
		" 3          \tperf-exec      \t[kernel.kallsyms]       \n" +
		"\n"
	got, err := parseReport(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{layerGuest: 700, layerKernel: 320, layerRunner: 90, layerHost: 40, layerOther: 3}
	if len(got) != len(want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	for l, v := range want {
		if got[l] != v {
			t.Errorf("%s: %v samples, want %v (all: %v)", l, got[l], v, got)
		}
	}
}

// TestProfileRun profiles real runs with perf, where perf can sample
// every CPU: a ping-pong of the sandbox shows in every layer of the
// sandbox (its guest code, its runners' Go code and kernel time, its
// host); -profile's figures come out for the sandbox and CPython fork,
// with no error; a sandbox binary with no runner binary beside it is
// refused. It asserts no speed.
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

	alone := filepath.Join(t.TempDir(), "sandbox")
	if b, err := os.ReadFile(cfg.sandbox); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.sandbox = alone
	if _, err := run(context.Background(), cfg, &log); err == nil || !strings.Contains(err.Error(), "no runner binary") {
		t.Errorf("-profile of a sandbox binary with no runner binary beside it: %v, want it refused", err)
	}
}

// TestPerOperation: the CPU of one operation is the difference of the
// long run's and the short run's, over the operations between them
// (lock N makes 4N), in the shape's unit; cpu_other is not in the total.
func TestPerOperation(t *testing.T) {
	lock := &shape{Key: "lock", Scale: 1e3, OpsPerN: 4} // µs
	short := map[string]float64{layerRunner: 1e9, layerKernel: 2e8, layerOther: 5e7}
	// 5000 and 25000 each of 4 processes: 80,000 pairs more.
	whole := map[string]float64{layerRunner: 1e9 + 8e7, layerKernel: 2e8 + 1.6e7, layerOther: 5e7 + 8e6, layerGuest: 0}
	total, layers := perOperation(lock, 5000, short, whole)
	if want := 1.2; math.Abs(total-want) > 1e-9 {
		t.Errorf("lock: total %v µs, want %v (layers %v)", total, want, layers)
	}
	for l, want := range map[string]float64{layerRunner: 1.0, layerKernel: 0.2, layerOther: 0.1} {
		if math.Abs(layers[l]-want) > 1e-9 {
			t.Errorf("lock: %s %v µs, want %v", l, layers[l], want)
		}
	}
	if _, ok := layers[layerGuest]; ok {
		t.Errorf("lock: a layer no run saw is given: %v", layers)
	}

	spawn := &shape{Key: "spawn", Scale: 1e6} // ms
	total, _ = perOperation(spawn, 200, map[string]float64{layerGuest: 1e8}, map[string]float64{layerGuest: 1e8 + 1.6e9})
	if want := 2.0; math.Abs(total-want) > 1e-9 { // 1.6 s over 800 processes
		t.Errorf("spawn: total %v ms, want %v", total, want)
	}
}
