// Command bench is `make bench`: every shape of a multiprocessing program
// timed under the sandbox and under CPython's multiprocessing (fork and
// spawn start methods) in the same run, interleaved, so that a noisy,
// shared machine slows all of them alike. It prints a table of medians with
// the ratio of the sandbox to CPython fork, and writes every sample to a
// JSON file (bench/README.md documents it).
//
//	go run ./bench                    # 5 repetitions, bench/out/results.json
//	go run ./bench -reps 3 -only spawn,pingpong
//	go run ./bench -profile           # CPU of one operation by layer (Linux perf)
//
// The programs measured are the bench guest (internal/testguests/bench)
// under bin/sandbox and bench/bench.py under python3: both time the shape
// inside the program and print "ns_per_op=N ..."; the cold start, the
// grading pass and memory are timed from outside. Nothing here asserts a
// speed: the figures are for people to read.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	cfg := config{}
	flag.IntVar(&cfg.reps, "reps", 5, "repetitions of every shape and implementation (the median is reported)")
	flag.StringVar(&cfg.out, "out", "bench/out/results.json", "where to write every sample as JSON")
	flag.StringVar(&cfg.only, "only", "", "comma-separated shapes to run (default: all); see -list")
	flag.BoolVar(&cfg.list, "list", false, "list the shapes and exit")
	flag.StringVar(&cfg.sandbox, "sandbox", "bin/sandbox", "the sandbox binary")
	flag.StringVar(&cfg.guest, "guest", "internal/testguests/bench.wasm", "the bench guest")
	flag.StringVar(&cfg.before, "before", "", "a folder holding an earlier build's sandbox (with its sandbox-runner, if the build has one) and bench.wasm, measured too, interleaved (column \"before\")")
	flag.StringVar(&cfg.flags, "flags", "", "extra flags of 'sandbox run' for the sandbox column, space-separated")
	flag.StringVar(&cfg.beforeFlags, "before-flags", "", "extra flags of 'sandbox run' for the before column, space-separated (e.g. -before of this build with --reuse-runners=false)")
	flag.StringVar(&cfg.python, "python", "python3", "the CPython to compare with (empty: none)")
	flag.StringVar(&cfg.script, "script", "bench/bench.py", "the CPython side of the shapes")
	flag.StringVar(&cfg.alive, "alive", "10,100,200,300,400,500,750,1000", "steps of the most-processes-alive shape")
	flag.BoolVar(&cfg.quick, "quick", false, "small counts: check that every shape runs (the figures mean nothing)")
	flag.BoolVar(&cfg.profile, "profile", false, "measure the CPU of one operation, by layer (guest, runner, kernel, host, CPython), with Linux perf, instead of the time, for the shapes that are one program's run (default -out: bench/out/profile.json)")
	flag.Parse()
	if cfg.profile && !flagSet("out") {
		cfg.out = "bench/out/profile.json"
	}
	if cfg.quick && !flagSet("alive") {
		cfg.alive = "3,6"
	}
	if cfg.list {
		for _, s := range selectable(cfg) {
			fmt.Printf("%-12s %s\n", s.Key, s.Name)
		}
		return
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := run(ctx, cfg, os.Stderr)
	if res != nil {
		printTable(os.Stdout, res)
		if werr := writeJSON(cfg.out, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// flagSet reports whether the command line set the flag name.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// config is what the flags say.
type config struct {
	reps                   int
	out, only              string
	list, quick, profile   bool
	sandbox, guest, before string
	flags, beforeFlags     string
	python, script, alive  string
	cacheDir, workDir      string // made by run
	pythonVersion, machine string
}

// Implementations, in the order of the table's columns.
const (
	implSandbox     = "sandbox"
	implBefore      = "sandbox-before" // -before
	implPythonFork  = "python-fork"
	implPythonSpawn = "python-spawn"
)

// run measures every selected shape cfg.reps times, interleaved: each
// repetition runs every shape under every implementation (in an order that
// rotates) before the next repetition starts.
func run(ctx context.Context, cfg config, log io.Writer) (*Results, error) {
	if cfg.reps < 1 {
		return nil, errors.New("-reps must be at least 1")
	}
	for _, f := range []string{cfg.sandbox, cfg.guest} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%w (make bench builds it)", err)
		}
	}
	impls := []string{implSandbox}
	if cfg.before != "" {
		for _, f := range []string{"sandbox", "bench.wasm"} {
			if _, err := os.Stat(filepath.Join(cfg.before, f)); err != nil {
				return nil, fmt.Errorf("-before: %w", err)
			}
		}
		impls = append(impls, implBefore)
	}
	if cfg.python != "" {
		if _, err := exec.LookPath(cfg.python); err != nil {
			fmt.Fprintf(log, "bench: %s not found: no CPython comparison\n", cfg.python)
			cfg.python = ""
		} else {
			impls = append(impls, implPythonFork)
			if !cfg.profile { // (its starts are 50 times a fork's: not profiled)
				impls = append(impls, implPythonSpawn)
			}
			out, _ := exec.Command(cfg.python, "--version").CombinedOutput()
			cfg.pythonVersion = strings.TrimSpace(string(out))
		}
	}
	work, err := os.MkdirTemp("", "sandbox-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	cfg.workDir = work
	cfg.cacheDir = filepath.Join(work, "cache")

	if cfg.profile {
		if err := checkPerf(ctx, work); err != nil {
			return nil, err
		}
	}
	selected := selectable(cfg)
	if cfg.only != "" {
		want := strings.Split(cfg.only, ",")
		selected = slices.DeleteFunc(selected, func(s *shape) bool { return !slices.Contains(want, s.Key) })
		if len(selected) == 0 {
			return nil, fmt.Errorf("-only %s: no such shape (see -list)", cfg.only)
		}
	}
	res := &Results{
		Version: 1,
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: describeMachine(cfg),
		Reps:    cfg.reps,
	}
	for _, impl := range impls {
		if f := cfg.flagsOf(impl); len(f) > 0 {
			if res.Flags == nil {
				res.Flags = map[string][]string{}
			}
			res.Flags[impl] = f
		}
	}
	for _, s := range selected {
		res.Shapes = append(res.Shapes, &ShapeResult{
			Key: s.Key, Name: s.Name, Unit: s.Unit, Target: s.Target,
			Samples: map[string][]float64{}, Extra: map[string]map[string][]float64{},
		})
	}
	// Warm the compilation cache: every shape but the cold start measures
	// a module the sandbox has compiled before, as in a course's runs
	// (compiled first: a short interpreted first run would leave it
	// uncompiled).
	for _, impl := range impls {
		if bin, guest, cache, ok := cfg.sandboxOf(impl); ok {
			args := []string{"run", "--cache-dir", cache}
			if flag := "--interpret-new=false"; cfg.supports(impl, flag) {
				args = append(args, flag)
			}
			if out, err := exec.CommandContext(ctx, bin, append(args, guest, "--", "hello", "2")...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("warming the cache of %s: %w\n%s", bin, err, tail(string(out)))
			}
		}
	}
	for rep := range cfg.reps {
		for i, s := range selected {
			if s.Once && rep > 0 {
				continue
			}
			sr := res.Shapes[i]
			order := rotate(impls, rep+i)
			for _, impl := range order {
				if s.Impls != nil && !slices.Contains(s.Impls, strings.TrimSuffix(impl, "-before")) {
					continue
				}
				if err := ctx.Err(); err != nil {
					return res, err
				}
				v, extra, err := s.Measure(ctx, cfg, impl)
				var step *stepFailed
				if errors.As(err, &step) {
					sr.Notes = append(sr.Notes, fmt.Sprintf("%s: %v", impl, err))
					err = nil
				}
				if err != nil {
					sr.Errors = append(sr.Errors, fmt.Sprintf("%s: %v", impl, err))
					fmt.Fprintf(log, "bench: rep %d %s %s: %v\n", rep+1, s.Key, impl, err)
					continue
				}
				sr.Samples[impl] = append(sr.Samples[impl], v)
				for k, x := range extra {
					if sr.Extra[impl] == nil {
						sr.Extra[impl] = map[string][]float64{}
					}
					sr.Extra[impl][k] = append(sr.Extra[impl][k], x)
				}
				fmt.Fprintf(log, "bench: rep %d/%d %-10s %-12s %10.3f %s\n", rep+1, cfg.reps, s.Key, impl, v, s.Unit)
			}
		}
	}
	for _, sr := range res.Shapes {
		sr.summarize()
	}
	return res, nil
}

// selectable is the shapes of this bench: under -profile, those that are
// one program's run, measured by layer (profiled).
func selectable(cfg config) []*shape {
	all := shapes(cfg)
	if !cfg.profile {
		return all
	}
	var programs []*shape
	for _, s := range all {
		if s.Args != nil && !s.NoProfile {
			programs = append(programs, profiled(s))
		}
	}
	return programs
}

// sandboxOf is the sandbox binary, bench guest and cache folder of impl;
// false for CPython.
func (cfg config) sandboxOf(impl string) (bin, guest, cache string, ok bool) {
	switch impl {
	case implSandbox:
		return cfg.sandbox, cfg.guest, cfg.cacheDir, true
	case implBefore:
		return filepath.Join(cfg.before, "sandbox"), filepath.Join(cfg.before, "bench.wasm"), cfg.cacheDir + "-before", true
	}
	return "", "", "", false
}

// supports says whether impl is a sandbox whose 'sandbox run' has flag
// (an earlier build measured with -before may not), e.g.
// "--interpret-new=false".
func (cfg config) supports(impl, flag string) bool {
	bin, _, _, ok := cfg.sandboxOf(impl)
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(flag, "=")
	v, ok := helpCache.Load(bin)
	if !ok {
		out, _ := exec.Command(bin, "help", "run").CombinedOutput()
		v, _ = helpCache.LoadOrStore(bin, string(out))
	}
	// The flag's name, not the start of a longer one.
	return regexp.MustCompile(regexp.QuoteMeta(name) + `[^-a-z]`).MatchString(v.(string))
}

// helpCache holds 'sandbox help run' of each binary.
var helpCache sync.Map

// flagsOf is the extra 'sandbox run' flags of impl (-flags, -before-flags).
func (cfg config) flagsOf(impl string) []string {
	switch impl {
	case implSandbox:
		return strings.Fields(cfg.flags)
	case implBefore:
		return strings.Fields(cfg.beforeFlags)
	}
	return nil
}

// rotate returns xs rotated left by k.
func rotate(xs []string, k int) []string {
	k %= len(xs)
	return append(slices.Clone(xs[k:]), xs[:k]...)
}

// describeMachine says what the figures were measured on.
func describeMachine(cfg config) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Python: cfg.pythonVersion, OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if kib, ok := meminfo("MemTotal"); ok {
		m.MemoryGiB = float64(kib) / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// writeJSON writes res to file, making its folder.
func writeJSON(file string, res *Results) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
