package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Profiles by layer (-profile): where one operation's CPU goes, for the
// shapes that are one program's run (spawn, pipes, queues, the lock, ...).
// Each sample runs the shape twice under `perf record -a -e cpu-clock`
// (Linux perf, every CPU, the kernel's CPU clock sampled about
// profileHz times a second): with its count n and with profileFactor
// times n, and divides the difference of the CPU time perf saw by the
// difference of the operations, so that what a run spends on its start
// and its end cancels out. The time is the sum of the samples' periods
// (nanoseconds of the CPU clock), not their number: perf may lower the
// rate (kernel.perf_event_max_sample_rate). Every CPU is sampled, not
// only the program's processes: following a program's processes makes
// perf switch its events at every context switch, which an IPC shape
// does tens of thousands of times (a ping-pong ran 4 times slower so);
// samples are counted by process (the host by its pid, the others by
// name: parseScript), so the machine should be otherwise quiet, as for
// any of the bench's figures. perf, not Go's pprof, because pprof sees
// neither the guest's machine code (wazero's, mapped from the cache) nor
// the kernel, where most of an IPC operation's CPU goes. The sample of a
// shape is its CPU of one operation, in its unit; the layers are extra
// figures (cpu_guest, cpu_runner, ...) in the same unit.

const (
	profileHz     = 4000 // (asked for; the periods, not the count, are summed)
	profileFactor = 5
)

// The layers a sample of a profile is counted in (Extra's keys).
const (
	// layerGuest: the module's machine code (a runner's mapping of a
	// *.code file of the cache's modules folder).
	layerGuest = "cpu_guest"
	// layerRunner: a runner's own code: wazero, the Go runtime, the
	// sandbox's.
	layerRunner = "cpu_runner"
	// layerKernel: the kernel, in the measured processes (runners,
	// CPython's): system calls, page faults, wake-ups, starts and exits.
	layerKernel = "cpu_kernel"
	// layerHost: the sandbox host process, its code and its kernel time.
	layerHost = "cpu_host"
	// layerPython: CPython's interpreter, user time.
	layerPython = "cpu_python"
	// layerOther: any other process but the idle task (perf itself,
	// kernel threads).
	layerOther = "cpu_other"
)

// layerOf says which layer a sample of process comm in dso is counted in;
// "" for the idle task. host: the process is the sandbox host (the
// program perf started); a runner is any other process whose name begins
// with "sandbox" ("sandbox-runner"; "sandbox" itself, as a sandbox binary
// with no runner binary of its build beside it runs its runners).
func layerOf(comm, dso string, host bool) string {
	dso = strings.TrimSuffix(dso, " (deleted)")
	kernel := kernelDSO(dso)
	switch {
	case comm == "swapper" || strings.HasPrefix(comm, "swapper/"):
		return ""
	case host:
		return layerHost
	case strings.HasSuffix(dso, ".code"):
		return layerGuest
	case strings.HasPrefix(comm, "sandbox"):
		if kernel {
			return layerKernel
		}
		return layerRunner
	case strings.HasPrefix(comm, "python"):
		if kernel {
			return layerKernel
		}
		return layerPython
	}
	return layerOther
}

// kernelDSO says whether perf's dso is the kernel or one of its
// modules ("[kernel.kallsyms]", "[nf_tables]"): a name in brackets but
// for perf's names of user memory ("[vdso]", the clock reads the Go
// runtime makes without a system call; "[unknown]", "[heap]", "[JIT] tid
// N", ...).
func kernelDSO(dso string) bool {
	if !strings.HasPrefix(dso, "[") {
		return false
	}
	for _, user := range []string{"[vdso", "[vsyscall", "[unknown", "[heap", "[stack", "[anon", "[JIT", "[uprobes"} {
		if strings.HasPrefix(dso, user) {
			return false
		}
	}
	return true
}

// scriptLine is a line of `perf script -F pid,comm,period,ip,dso`:
// "COMM PID PERIOD IP (DSO)".
var scriptLine = regexp.MustCompile(`^\s*(.*?)\s+(-?\d+)\s+(\d+)\s+[0-9a-f]+\s+\((.*)\)\s*$`)

// parseScript sums the periods (nanoseconds of CPU) of the samples perf
// script prints by layer; hostPID is the sandbox host's pid (0: none, a
// CPython run).
func parseScript(r io.Reader, hostPID int) (map[string]float64, error) {
	layers := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := scriptLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, err1 := strconv.Atoi(m[2])
		period, err2 := strconv.ParseFloat(m[3], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if l := layerOf(m[1], m[4], hostPID > 0 && pid == hostPID); l != "" {
			layers[l] += period
		}
	}
	return layers, sc.Err()
}

// recordArgs is perf record's command line up to the program's, the
// data written to data.
func recordArgs(data string) []string {
	return []string{"record", "-a", "-e", "cpu-clock", "-F", strconv.Itoa(profileHz), "-q", "-o", data}
}

// checkPerf says why perf cannot profile every CPU here, if it cannot.
func checkPerf(ctx context.Context, dir string) error {
	if _, err := exec.LookPath("perf"); err != nil {
		return errors.New("-profile needs Linux perf (Debian: apt-get install linux-perf)")
	}
	out, err := exec.CommandContext(ctx, "perf", append(recordArgs(filepath.Join(dir, "check.data")), "--", "true")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("-profile: perf cannot sample every CPU here (%w): %s", err, firstLineOf(strings.TrimSpace(string(out))))
	}
	return nil
}

// profiled makes s, a shape that is one program's run (args: SHAPE N
// [SIZE]), measure its CPU of one operation by layer instead of its time.
func profiled(s *shape) *shape {
	p := *s
	p.Name = s.Name + ", CPU"
	p.Target = ""
	args := s.Args
	p.Measure = func(ctx context.Context, cfg config, impl string) (float64, map[string]float64, error) {
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, nil, fmt.Errorf("%s: count: %w", s.Key, err)
		}
		short, err := profileRun(ctx, cfg, impl, args)
		if err != nil {
			return 0, nil, err
		}
		long := append([]string{args[0], strconv.Itoa(n * profileFactor)}, args[2:]...)
		whole, err := profileRun(ctx, cfg, impl, long)
		if err != nil {
			return 0, nil, err
		}
		total, extra := perOperation(s, n, short, whole, layersOf(cfg, impl))
		return total, extra, nil
	}
	return &p
}

// layersOf is the layers an implementation's operation is made of: the
// sandbox's, or CPython's.
func layersOf(cfg config, impl string) []string {
	if _, _, _, ok := cfg.sandboxOf(impl); ok {
		return []string{layerGuest, layerRunner, layerKernel, layerHost}
	}
	return []string{layerPython, layerKernel}
}

// perOperation is what one operation of s spent in each of its layers
// (own), in s's unit, from the CPU time by layer (ns) of a run with count
// n (short) and of one with profileFactor times n (whole); total is their
// sum. Every other sample (a stray CPython process in a sandbox's run,
// say) is layerOther's, outside the total. Each layer is there whatever
// the runs saw, so that every repetition of an implementation has the
// same figures (results.json's lists stay aligned with the samples).
func perOperation(s *shape, n int, short, whole map[string]float64, own []string) (total float64, layers map[string]float64) {
	ops := float64(n * (profileFactor - 1) * max(s.OpsPerN, 1))
	per := func(ns float64) float64 { return ns / ops / s.Scale }
	layers = map[string]float64{}
	other := 0.0
	for l, ns := range whole {
		if !slices.Contains(own, l) {
			other += ns
		}
	}
	for l, ns := range short {
		if !slices.Contains(own, l) {
			other -= ns
		}
	}
	for _, l := range own {
		layers[l] = per(whole[l] - short[l])
		total += layers[l]
	}
	layers[layerOther] = per(other)
	return total, layers
}

// profileRun runs the bench program under impl with args under perf and
// returns its CPU time (ns) by layer.
func profileRun(ctx context.Context, cfg config, impl string, args []string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	data := filepath.Join(cfg.workDir, "perf.data")
	defer os.Remove(data)
	var flags []string
	if cfg.supports(impl, "--max-created") && !slices.ContainsFunc(cfg.flagsOf(impl), func(f string) bool { return strings.HasPrefix(f, "--max-created") }) {
		// (The long run of spawn starts 1,000 processes, the default
		// limit of a run.)
		flags = []string{"--max-created", "0"}
	}
	cmd := command(ctx, cfg, impl, "", flags, args...)
	// The program runs in the process perf starts, by way of a shell that
	// writes that process's pid and execs it: the host is that pid (by
	// name, a wrapped pid or another sandbox on the machine could pass
	// for it).
	pidFile := filepath.Join(cfg.workDir, "perf.pid")
	defer os.Remove(pidFile)
	prog := append([]string{"sh", "-c", `echo $$ >"$0"; exec "$@"`, pidFile, cmd.Path}, cmd.Args[1:]...)
	rec := exec.CommandContext(ctx, "perf", append(append(recordArgs(data), "--"), prog...)...)
	// Cancelled or timed out: SIGINT, on which perf ends its program (a
	// SIGKILL would leave the program running), then SIGKILL.
	rec.Cancel = func() error { return rec.Process.Signal(os.Interrupt) }
	rec.WaitDelay = 10 * time.Second
	if out, err := rec.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(rec.Args, " "), err, tail(string(out)))
	}
	rep := exec.CommandContext(ctx, "perf", "script", "-i", data, "-F", "pid,comm,period,ip,dso")
	var stderr strings.Builder
	rep.Stderr = &stderr
	out, err := rep.Output()
	if err != nil {
		return nil, fmt.Errorf("perf script: %w: %s", err, tail(stderr.String()))
	}
	hostPID := 0
	if _, _, _, ok := cfg.sandboxOf(impl); ok {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return nil, fmt.Errorf("the pid of %s: %w", strings.Join(cmd.Args, " "), err)
		}
		if hostPID, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return nil, fmt.Errorf("the pid of %s: %w", strings.Join(cmd.Args, " "), err)
		}
	}
	layers, err := parseScript(strings.NewReader(string(out)), hostPID)
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("perf script of %s counted no sample", strings.Join(cmd.Args, " "))
	}
	if hostPID > 0 && layers[layerHost] == 0 {
		return nil, fmt.Errorf("perf saw no sample of %s (pid %d)", strings.Join(cmd.Args, " "), hostPID)
	}
	return layers, nil
}
