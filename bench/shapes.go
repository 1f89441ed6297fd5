package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// shape is one row of the table: what is measured, and how under each
// implementation.
type shape struct {
	Key, Name, Unit string
	// Target is the goal in words, as a ratio to CPython fork or an
	// absolute figure.
	Target string
	// Once: measured in the first repetition only (it is long, or it
	// steps up until something gives).
	Once bool
	// Impls are the implementations it runs under (nil: all).
	Impls []string
	// Measure runs it once under impl: its value in Unit, and other
	// figures by name.
	Measure func(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error)
	// Args, for a shape that is one run of the bench program: its
	// arguments (SHAPE N [SIZE]), and Scale, the nanoseconds of its Unit
	// (-profile runs it again with other counts), and OpsPerN how many
	// of its operations each unit of N makes (0: one). NoProfile: -profile
	// leaves it out (its operation is not what its name says).
	Args      []string
	Scale     float64
	OpsPerN   int
	NoProfile bool
}

// runTimeout bounds one measured command: a shape that hangs is an error of
// its row, not a hang of the bench.
const runTimeout = 10 * time.Minute

// shapes are every row of the table, in order.
func shapes(cfg config) []*shape {
	ms, us := 1e6, 1e3
	// n is a shape's count: full, or small under -quick (a check that
	// every shape runs, not a measurement).
	n := func(full, quick int) string {
		if cfg.quick {
			return strconv.Itoa(quick)
		}
		return strconv.Itoa(full)
	}
	return []*shape{
		program("spawn", "spawn+join, one after another (200)", "ms", ms, "no slower than fork", "spawn", n(200, 3)),
		noProfile(program("first", "spawn to the child's first instruction (20)", "ms", ms, "", "first", n(20, 2))),
		program("spawn8", "8 concurrent spawns, then 8 joins (10 batches)", "ms", ms, "", "spawn8", n(10, 1)),
		program("pingpong", "pipe ping-pong, 64 B round trip (2000)", "us", us, "no slower than fork", "pingpong", n(2000, 10)),
		program("pipe4k", "pipe, one way, 4 KiB messages (2000)", "us/msg", us, "throughput no lower than fork", "pipe", n(2000, 10), "4096"),
		program("pipe64", "pipe, one way, 64 B messages (20000)", "us/msg", us, "throughput no lower than fork", "pipe", n(20000, 10), "64"),
		program("queue4k", "queue, 4 KiB messages (2000)", "us/msg", us, "throughput no lower than fork", "queue", n(2000, 10), "4096"),
		program("queue64", "queue, 64 B messages (20000)", "us/msg", us, "throughput no lower than fork", "queue", n(20000, 10), "64"),
		program("barrier", "Barrier(4), one generation (1000)", "us", us, "no slower than fork", "barrier", n(1000, 5)),
		withOpsPerN(4, program("lock", "Lock contended by 4, acquire+release (4x5000)", "us", us, "no slower than fork", "lock", n(5000, 5))),
		program("pool", "Pool(4) create+map(100)+close (5)", "ms", ms, "no slower than fork", "pool", n(5, 1)),
		{
			Key: "cold", Name: "first run of a new module to its first line", Unit: "ms",
			Target: "under 500 ms", Impls: []string{implSandbox, implPythonFork}, Measure: measureCold,
		},
		{
			Key: "grading", Name: "20 distinct modules of one exercise, one run each", Unit: "s",
			Impls: []string{implSandbox, implPythonFork}, Measure: measureGrading,
		},
		{
			Key: "memory", Name: "memory per child, 10 alive (PSS of all / 10)", Unit: "MiB",
			Impls: []string{implSandbox, implPythonFork, implPythonSpawn}, Measure: measureMemory,
		},
		{
			Key: "alive", Name: "most processes alive at once (steps " + cfg.alive + ")", Unit: "procs",
			Target: "1000", Once: true, Impls: []string{implSandbox, implPythonFork}, Measure: measureAlive,
		},
	}
}

// program is a shape timed inside the bench programs: "SHAPE ARGS..." run
// by both, each printing ns_per_op, divided by scale for unit.
func program(key, name, unit string, scale float64, target string, args ...string) *shape {
	return &shape{
		Key: key, Name: name, Unit: unit, Target: target, Args: args, Scale: scale,
		Measure: func(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
			kv, err := runProgram(ctx, cfg, impl, nil, args...)
			if err != nil {
				return 0, nil, err
			}
			ns := kv["ns_per_op"]
			delete(kv, "ns_per_op")
			return ns / scale, kv, nil
		},
	}
}

// withOpsPerN sets s.OpsPerN: lock N makes 4N acquire+release pairs (4
// children, N each).
func withOpsPerN(k int, s *shape) *shape {
	s.OpsPerN = k
	return s
}

// noProfile marks s NoProfile: first's time is from a start to the
// child's first instruction, but its CPU would be a whole start, the
// child's message of its clock and a join.
func noProfile(s *shape) *shape {
	s.NoProfile = true
	return s
}

// command is the command line of the bench program under impl running
// args ("SHAPE N [SIZE]"), with extra flags for the sandbox; guest, when
// set, replaces the sandbox's bench guest.
func command(ctx context.Context, cfg config, impl, guest string, flags []string, args ...string) *exec.Cmd {
	if bin, g, cache, ok := cfg.sandboxOf(impl); ok {
		if guest == "" {
			guest = g
		}
		argv := append([]string{"run", "--cache-dir", cache, "--max-procs", "64"}, cfg.flagsOf(impl)...)
		argv = append(argv, flags...)
		argv = append(append(argv, guest, "--"), args...)
		return exec.CommandContext(ctx, bin, argv...)
	}
	method := strings.TrimPrefix(impl, "python-")
	argv := []string{cfg.script, args[0], args[1], method}
	return exec.CommandContext(ctx, cfg.python, append(argv, args[2:]...)...)
}

var kvRe = regexp.MustCompile(`(\w+)=([0-9.eE+-]+)`)

// runProgram runs a bench program to its end and returns the key=value
// pairs of its last line, which must hold ns_per_op.
func runProgram(ctx context.Context, cfg config, impl string, flags []string, args ...string) (map[string]float64, error) {
	kv, _, err := run1(ctx, cfg, impl, flags, false, args...)
	return kv, err
}

// runSampled is runProgram sampling the memory of the program's process
// tree while it runs.
func runSampled(ctx context.Context, cfg config, impl string, flags []string, args ...string) (map[string]float64, treeMemory, error) {
	return run1(ctx, cfg, impl, flags, true, args...)
}

func run1(ctx context.Context, cfg config, impl string, flags []string, sample bool, args ...string) (map[string]float64, treeMemory, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := command(ctx, cfg, impl, "", flags, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var mem treeMemory
	err := cmd.Start()
	if err == nil {
		if sample {
			s := startSampler(cmd.Process.Pid)
			err = cmd.Wait()
			mem = s.Stop()
		} else {
			err = cmd.Wait()
		}
	}
	if err != nil {
		return nil, mem, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(errb.String()))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	kv := map[string]float64{}
	for _, m := range kvRe.FindAllStringSubmatch(lines[len(lines)-1], -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			kv[m[1]] = v
		}
	}
	if _, ok := kv["ns_per_op"]; !ok {
		return nil, mem, fmt.Errorf("%s printed no ns_per_op:\n%s", strings.Join(cmd.Args, " "), tail(out.String()+errb.String()))
	}
	return kv, mem, nil
}

// tail is the end of a program's output, for an error message.
func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// uniqueModule writes a copy of module that no cache has seen: the same
// code with a custom section of random bytes appended (custom sections
// change no behaviour, and the compilation cache is keyed by the module's
// bytes).
func uniqueModule(cfg config, module string) (string, error) {
	b, err := os.ReadFile(module)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	name := []byte("sandbox-bench")
	payload := append(append([]byte{byte(len(name))}, name...), nonce...)
	b = append(b, 0, byte(len(payload))) // section id 0 (custom), size < 128
	b = append(b, payload...)
	f, err := os.CreateTemp(cfg.workDir, "module-*.wasm")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// firstLine starts cmd and returns the time from its start to its first
// line of output, then waits for its end.
func firstLine(cmd *exec.Cmd) (time.Duration, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(stdout)
	var d time.Duration
	if sc.Scan() {
		d = time.Since(start)
		if sc.Text() != "ready" {
			err = fmt.Errorf("first line %q, want ready", sc.Text())
		}
	}
	for sc.Scan() {
	}
	if werr := cmd.Wait(); werr != nil {
		return 0, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), werr, tail(errb.String()))
	}
	if d == 0 && err == nil {
		err = errors.New("no output")
	}
	return d, err
}

// freshGuest is a copy of impl's bench guest that no cache has seen, or
// "" for CPython (os.Remove("") does nothing).
func freshGuest(cfg config, impl string) (string, error) {
	if _, g, _, ok := cfg.sandboxOf(impl); ok {
		return uniqueModule(cfg, g)
	}
	return "", nil
}

// measureCold: from the exec of `sandbox run` on a module never seen
// before to its first line; CPython's: from the exec of python3 to the
// first line of a script that imported multiprocessing.
func measureCold(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	guest, err := freshGuest(cfg, impl)
	if err != nil {
		return 0, nil, err
	}
	defer os.Remove(guest)
	d, err := firstLine(command(ctx, cfg, impl, guest, nil, "hello", "2"))
	if err != nil {
		return 0, nil, err
	}
	extra := map[string]float64{}
	if guest == "" {
		return float64(d) / 1e6, extra, nil
	}
	// The same module again: its second run (which compiles first when
	// the first, interpreted, ended before its background compile), then
	// from the cache.
	for _, k := range []string{"second_ms", "cached_ms"} {
		if h, err := firstLine(command(ctx, cfg, impl, guest, nil, "hello", "2")); err == nil {
			extra[k] = float64(h) / 1e6
		}
	}
	// Another new module, compiled first (as sandbox grade runs).
	if flag := "--interpret-new=false"; cfg.supports(impl, flag) {
		if fresh, err := freshGuest(cfg, impl); err == nil {
			defer os.Remove(fresh)
			if h, err := firstLine(command(ctx, cfg, impl, fresh, []string{flag}, "hello", "2")); err == nil {
				extra["compile_first_ms"] = float64(h) / 1e6
			}
		}
	}
	return float64(d) / 1e6, extra, nil
}

// gradingModules is how many distinct modules the grading shape runs
// (2 under -quick).
const gradingModules = 20

// measureGrading: the shape of grading one exercise: 20 distinct modules
// (never seen, as 20 students' builds), each run once to its end, one
// after another; each run starts and joins 6 processes. The sandbox
// compiles each first, as sandbox grade does (--interpret-new=false,
// when the build has it); the extra figure interpreted_s is the same
// pass run with the defaults of sandbox run (every run the first of its
// module: interpreted while it compiles). CPython runs its script 20
// times.
func measureGrading(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
	modules := gradingModules
	if cfg.quick {
		modules = 2
	}
	pass := func(flags []string) (float64, error) {
		start := time.Now()
		for range modules {
			guest, err := freshGuest(cfg, impl)
			if err != nil {
				return 0, err
			}
			defer os.Remove(guest)
			cmd := command(ctx, cfg, impl, guest, flags, "spawn", "6")
			if out, err := cmd.CombinedOutput(); err != nil {
				return 0, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(string(out)))
			}
		}
		return time.Since(start).Seconds(), nil
	}
	flag := "--interpret-new=false"
	if !cfg.supports(impl, flag) {
		s, err := pass(nil)
		return s, nil, err
	}
	s, err := pass([]string{flag})
	if err != nil {
		return 0, nil, err
	}
	extra := map[string]float64{}
	if i, err := pass(nil); err == nil {
		extra["interpreted_s"] = i
	}
	return s, extra, nil
}

// aliveResult runs the alive shape with n children under impl, sampling
// the memory of its process tree: the time per start (ms) and the tree's
// peak.
func aliveResult(ctx context.Context, cfg config, impl string, n int) (perStart float64, mem treeMemory, err error) {
	var flags []string
	if _, _, _, sandbox := cfg.sandboxOf(impl); sandbox {
		limit := strconv.Itoa(n + 10)
		// The run's memory limit is 80% of what the machine has free:
		// past it the run ends with its verdict instead of pushing the
		// machine into swap or the OOM killer.
		runMemory := "4096"
		if avail, ok := meminfo("MemAvailable"); ok {
			runMemory = strconv.FormatInt(avail*8/10/1024, 10)
		}
		flags = []string{"--max-procs", limit, "--max-created", limit,
			"--run-memory", runMemory, "--run-cpu-limit", "0", "--timeout", "10m"}
	}
	kv, mem, err := runSampled(ctx, cfg, impl, flags, "alive", strconv.Itoa(n))
	if err != nil {
		return 0, mem, err
	}
	if kv["alive"] != float64(n) {
		return 0, mem, fmt.Errorf("alive=%v, want %d", kv["alive"], n)
	}
	return kv["ns_per_op"] / 1e6, mem, nil
}

// mib is bytes in MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }

// memoryChildren is how many children the memory shape keeps alive.
const memoryChildren = 10

// measureMemory: with 10 children alive, the memory of the whole tree
// (host or CPython parent, and every process under it) per child, in PSS
// at its peak; and its parts.
func measureMemory(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
	_, m, err := aliveResult(ctx, cfg, impl, memoryChildren)
	if err != nil {
		return 0, nil, err
	}
	return mib(m.rootPSS+m.childrenPSS) / memoryChildren, memoryExtra(m), nil
}

// memoryExtra are the parts of a tree's peak, in MiB.
func memoryExtra(m treeMemory) map[string]float64 {
	x := map[string]float64{
		"host_pss_mib": mib(m.rootPSS), "host_rss_mib": mib(m.rootRSS),
		"children_pss_mib": mib(m.childrenPSS), "processes": float64(m.children),
	}
	if m.children > 0 {
		x["rss_per_process_mib"] = mib(m.childrenRSS) / float64(m.children)
	}
	return x
}

// measureAlive steps the number of children alive at once up the -alive
// steps and returns the last that ran, with the time per start there. A
// step runs only if the memory it needs (the previous step's per-child
// figure times the step) fits in 80% of the machine's available memory:
// the bench must never push the machine into swapping or the OOM killer.
func measureAlive(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
	var steps []int
	for _, s := range strings.Split(cfg.alive, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return 0, nil, fmt.Errorf("-alive %q: want counts such as 10,100,1000", cfg.alive)
		}
		steps = append(steps, n)
	}
	slices.Sort(steps)
	best, extra := 0.0, map[string]float64{}
	perChild := 0.0
	for _, n := range steps {
		if avail, ok := meminfo("MemAvailable"); ok && perChild > 0 {
			need := perChild * float64(n)
			if need > 0.8*float64(avail)/1024 {
				extra["stopped_at"] = float64(n)
				extra["needed_mib"] = need
				extra["available_mib"] = float64(avail) / 1024
				break
			}
		}
		perStart, m, err := aliveResult(ctx, cfg, impl, n)
		if err != nil {
			extra["failed_at"] = float64(n)
			if best == 0 {
				return 0, extra, err
			}
			return best, extra, &stepFailed{n: n, err: err}
		}
		best, perChild = float64(n), max(mib(m.rootPSS+m.childrenPSS)/float64(n), 1)
		extra["ms_per_start"], extra["mib_per_child"] = perStart, perChild
		maps.Copy(extra, memoryExtra(m))
	}
	return best, extra, nil
}

// stepFailed: a step of a stepped shape failed after earlier ones ran;
// the figure of the last that ran stands, and why the next failed is kept
// as a note.
type stepFailed struct {
	n   int
	err error
}

func (e *stepFailed) Error() string { return fmt.Sprintf("step %d: %v", e.n, e.err) }

// meminfo reads a field of /proc/meminfo in KiB.
func meminfo(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
