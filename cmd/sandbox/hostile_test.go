package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// hostileMaxRSS bounds the resident memory of the sandbox's host process
// in any hostile run: the supervisor's own state, bounded output buffers,
// and what the shared objects may hold (--max-ipc, lowered here).
const hostileMaxRSS = 256 << 20

// TestHostile runs guests that try to harm or hang the sandbox, each with
// its expected verdict: every run ends within its limit plus a margin
// (bound), leaves no runner process behind, and keeps the host's memory
// under hostileMaxRSS. `make hostile` repeats the suite.
func TestHostile(t *testing.T) {
	probe := testutil.Guest(t, "internal/testguests/probe")
	block := testutil.Guest(t, "internal/testguests/block")
	fixtures := filepath.Join(testutil.RepoRoot(t), "cmd", "sandbox", "testdata")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.wasm")
	truncated := filepath.Join(dir, "truncated.wasm")
	os.WriteFile(empty, nil, 0o644)
	hello, _ := os.ReadFile(testutil.Guest(t, "guests/hello_processes"))
	os.WriteFile(truncated, hello[:len(hello)/2], 0o644)
	// 15 bytes that declare 2^32 imports: wazero's decoder would allocate
	// them (hundreds of GiB) before reading any.
	// A _start that calls itself for ever: wazero's call stack runs out.
	recursion := filepath.Join(dir, "recursion.wasm")
	os.WriteFile(recursion, []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01"+
		"\x07\x13\x02\x06_start\x00\x00\x06memory\x02\x00\x0a\x06\x01\x04\x00\x10\x00\x0b"), 0o644)
	huge := filepath.Join(dir, "huge-count.wasm")
	os.WriteFile(huge, []byte("\x00asm\x01\x00\x00\x00\x02\x05\xff\xff\xff\xff\x0f"), 0o644)

	const margin = 20 * time.Second // start-up, reaping, output drain, a loaded machine
	tests := []struct {
		name    string
		args    []string
		verdict string
		limit   time.Duration // the limit that must end it (0: none)
	}{
		{"loop in main", []string{"--timeout", "3s", probe, "--", "loop"}, "time_limit", 3 * time.Second},
		{"loop in a child", []string{"--timeout", "3s", probe, "--", "child", "loop"}, "time_limit", 3 * time.Second},
		{"sleep forever", []string{"--timeout", "3s", probe, "--", "sleep", "1h"}, "time_limit", 3 * time.Second},
		{"spin after closing stdout", []string{"--timeout", "3s", block, "--", "spin-closed"}, "time_limit", 3 * time.Second},
		{"CPU in a loop", []string{"--cpu-limit", "2s", probe, "--", "loop"}, "cpu_limit", 2 * time.Second},
		{"CPU in a child's loop", []string{"--cpu-limit", "2s", probe, "--", "child", "loop"}, "cpu_limit", 2 * time.Second},
		{"memory bomb (linear memory)", []string{"--memory", "64", probe, "--", "alloc"}, "memory_limit", 0},
		{"memory bomb (the runner's memory)", []string{"--memory", "4096", "--process-memory", "512", probe, "--", "alloc"}, "memory_limit", 0},
		{"memory bomb in a child", []string{"--memory", "64", probe, "--", "child", "alloc"}, "memory_limit", 0},
		{"memory bomb in several children", []string{"--memory", "64", probe, "--", "children", "3", "alloc"}, "memory_limit", 0},
		{"memory of the run (children under their own limit)", []string{"--run-memory", "400", "--memory", "256", probe, "--", "children", "4", "hold", "100"}, "memory_limit", 0},
		{"CPU of the run (children under their own limit)", []string{"--run-cpu-limit", "2s", probe, "--", "children", "3", "loop"}, "cpu_limit", 2 * time.Second},
		{"Go stack overflow", []string{probe, "--", "recurse"}, "runtime_error", 0},
		{"Go panic in a goroutine", []string{probe, "--", "go-panic"}, "runtime_error", 0},
		{"Go panic in main", []string{probe, "--", "panic"}, "runtime_error", 0},
		{"fork bomb", []string{"--max-created", "100", probe, "--", "forkbomb"}, "process_limit", 0},
		{"output flood", []string{"--max-output", "8", probe, "--", "flood"}, "output_limit", 0},
		{"output flood from several processes", []string{"--max-output", "8", probe, "--", "children", "4", "flood"}, "output_limit", 0},
		{"unread queue", []string{"--max-ipc", "64", block, "--", "hoard"}, "ipc_limit", 0},
		{"unread queue of empty messages", []string{"--max-ipc", "1", block, "--", "hoard-empty"}, "ipc_limit", 0},
		{"objects without end", []string{block, "--", "objects"}, "ipc_limit", 0},
		{"huge message", []string{block, "--", "huge"}, "ipc_limit", 0},
		{"pipe deadlock", []string{block, "--", "recv"}, "deadlock", 0},
		{"queue deadlock", []string{block, "--", "queue-get"}, "deadlock", 0},
		{"barrier deadlock", []string{block, "--", "barrier"}, "deadlock", 0},
		{"lock and join deadlock", []string{block, "--", "lock"}, "deadlock", 0},
		{"child waits forever", []string{block, "--", "exit"}, "deadlock", 0},
		{"lock holder killed", []string{testutil.Guest(t, "internal/testguests/ipc"), "--", "die-lock"}, "ok", 0},
		{"bad pointers", []string{filepath.Join(fixtures, "badptr.wasm")}, "exit", 0},
		{"trap", []string{filepath.Join(fixtures, "trap.wasm")}, "runtime_error", 0},
		{"stack overflow", []string{recursion}, "runtime_error", 0},
		{"unknown import", []string{filepath.Join(fixtures, "badimport.wasm")}, "invalid_module", 0},
		{"no _start", []string{filepath.Join(fixtures, "nostart.wasm")}, "invalid_module", 0},
		{"empty module", []string{empty}, "invalid_module", 0},
		{"truncated module", []string{truncated}, "invalid_module", 0},
		{"module declaring 2^32 imports", []string{huge}, "invalid_module", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			result := filepath.Join(t.TempDir(), "result.json")
			cmd := exec.Command("sandbox", append([]string{"run", "--result", result}, tt.args...)...)
			cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+sharedCache(t))
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = nil, &stderr // stdout: /dev/null
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			bound := tt.limit + margin
			select {
			case <-exited:
			case <-time.After(bound):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("still running after %v\nstderr:\n%s", bound, stderr.String())
			}
			took := time.Since(start)
			if left := runnersOf(cmd.Process.Pid); len(left) > 0 {
				t.Errorf("runners left behind: %v", left)
			}
			var r struct {
				Verdict     string `json:"verdict"`
				Explanation string `json:"explanation"`
				HostPeakRSS int64  `json:"host_peak_rss_bytes"`
			}
			b, err := os.ReadFile(result)
			if err == nil {
				err = json.Unmarshal(b, &r)
			}
			if err != nil {
				t.Fatalf("result: %v\nstderr:\n%s", err, stderr.String())
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %q (%s), want %q\nstderr:\n%s", r.Verdict, r.Explanation, tt.verdict, stderr.String())
			}
			if r.HostPeakRSS > hostileMaxRSS {
				t.Errorf("the host's peak memory was %d MiB, more than %d", r.HostPeakRSS>>20, hostileMaxRSS>>20)
			}
			t.Logf("%s in %v (status %d, host peak %d MiB)", r.Verdict, took.Round(time.Millisecond), cmd.ProcessState.ExitCode(), r.HostPeakRSS>>20)
		})
	}
}
