package host_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/runner"
)

// TestRepeatedRunsLeakNothing runs hostile programs one after another in
// this one process, as a grader does, and checks that the host gets back
// to where it started after each round: the same open file descriptors,
// the same goroutines, and a heap that does not grow with the rounds.
// HOSTILE_ROUNDS sets the rounds (1 by default; `make hostile` runs 30,
// 240 runs).
func TestRepeatedRunsLeakNothing(t *testing.T) {
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("HOSTILE_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	probeMod, cache := probe(t)
	blockMod, _ := guest(t, "internal/testguests/block")
	exe, _ := os.Executable()
	cases := []struct {
		name    string
		module  string
		args    []string
		cfg     host.Config
		verdict host.Verdict
	}{
		{"loop", probeMod, []string{"loop"}, host.Config{TimeLimit: 500 * time.Millisecond}, host.VerdictTimeLimit},
		{"flood", probeMod, []string{"children", "2", "flood"}, host.Config{MaxOutput: 1 << 20}, host.VerdictOutputLimit},
		{"fork bomb", probeMod, []string{"forkbomb"}, host.Config{MaxCreated: 20, MaxProcs: 6}, host.VerdictProcessLimit},
		{"memory of the run", probeMod, []string{"children", "2", "hold", "64"}, host.Config{RunMemory: 150 << 20}, host.VerdictMemoryLimit},
		{"deadlock", blockMod, []string{"lock"}, host.Config{}, host.VerdictDeadlock},
		{"unread queue", blockMod, []string{"hoard"}, host.Config{MaxIPCBytes: 8 << 20}, host.VerdictIPCLimit},
		{"panic", probeMod, []string{"go-panic"}, host.Config{}, host.VerdictRuntimeError},
	}
	runOnce := func(round int) {
		for _, c := range cases {
			cfg := c.cfg
			cfg.Module, cfg.Args = c.module, append([]string{"guest.wasm"}, c.args...)
			cfg.Runner, cfg.RunnerArgs = []string{exe, runner.Mode}, []string{"--cache-dir", cache}
			cfg.Logger = hclog.NewNullLogger()
			s, err := host.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			res, _ := s.Run(ctx)
			cancel()
			if res.Verdict != c.verdict {
				t.Errorf("round %d, %s: verdict %s (%s), want %s", round, c.name, res.Verdict, res.Explanation, c.verdict)
			}
		}
	}
	runOnce(0) // warm: caches, the spawner's first goroutines, pools
	fds, goroutines, heap := openFDs(t), settledGoroutines(-1), heapInUse()
	t.Logf("after the first round: %d fds, %d goroutines, heap %d MiB", fds, goroutines, heap>>20)
	start := time.Now()
	for round := 1; round <= rounds; round++ {
		runOnce(round)
		if n := openFDs(t); n != fds {
			t.Errorf("round %d: %d open fds, %d after the first round", round, n, fds)
		}
		if n := settledGoroutines(goroutines); n > goroutines {
			t.Errorf("round %d: %d goroutines, %d after the first round", round, n, goroutines)
		}
	}
	grown := heapInUse() - heap
	t.Logf("%d runs in %v; heap grew by %d KiB", rounds*len(cases), time.Since(start).Round(time.Millisecond), grown>>10)
	if grown > 16<<20 {
		t.Errorf("the heap grew by %d MiB over %d rounds", grown>>20, rounds)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(ents)
}

// settledGoroutines waits (at most 5 s) for the goroutines of the runs
// just ended to return, down to want (-1: a short settle), and returns how
// many are left.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	if want < 0 {
		deadline = time.Now().Add(500 * time.Millisecond)
	}
	for {
		n := runtime.NumGoroutine()
		if (want >= 0 && n <= want) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
