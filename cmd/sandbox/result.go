package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sandbox-dev/sandbox/host"
)

// defaultTimeout is the wall-clock limit of a run unless --timeout says
// otherwise: long enough for every example of the course, short enough
// that a forgotten loop does not hold a machine.
const defaultTimeout = 5 * time.Minute

// resultVersion is the version of the --result schema (README, "Result
// file"); it changes only when a field changes meaning or goes away.
const resultVersion = 1

// resultFile is what --result writes.
type resultFile struct {
	Version       int                  `json:"version"`
	Verdict       host.Verdict         `json:"verdict"`
	Explanation   string               `json:"explanation"`
	ExitStatus    int                  `json:"exit_status"`
	MainExitCode  *int                 `json:"main_exit_code,omitempty"`
	Processes     []host.ProcessResult `json:"processes"`
	Deadlock      []string             `json:"deadlock,omitempty"`
	Stuck         []string             `json:"stuck,omitempty"`
	CPUMs         int64                `json:"cpu_ms"`
	PeakMemory    int64                `json:"peak_memory_bytes"`
	OutputDropped int64                `json:"output_dropped_bytes"`
	HostPeakRSS   int64                `json:"host_peak_rss_bytes"`
	Limits        resultLimits         `json:"limits"`
}

// resultLimits are the limits in force (0: none).
type resultLimits struct {
	TimeLimitMs        int64  `json:"time_limit_ms"`
	CPULimitMs         int64  `json:"cpu_limit_ms"`
	ProcessMemoryMiB   int64  `json:"process_memory_mib"`
	RunCPULimitMs      int64  `json:"run_cpu_limit_ms"`
	RunMemoryMiB       int64  `json:"run_memory_mib"`
	MaxProcs           int    `json:"max_procs"`
	MaxCreated         int    `json:"max_created"`
	MemoryMiB          int    `json:"memory_mib"`
	MaxOutputBytes     int64  `json:"max_output_bytes"`
	MaxProcOutputBytes int64  `json:"max_process_output_bytes"`
	MaxObjects         int    `json:"max_objects"`
	MaxMessageBytes    int64  `json:"max_message_bytes"`
	MaxIPCBytes        int64  `json:"max_ipc_bytes"`
	DeadlockAfterMs    int64  `json:"deadlock_after_ms"`
	DrainTimeoutMs     int64  `json:"drain_timeout_ms"`
	Chaos              uint64 `json:"chaos,omitempty"`
}

// writeResult writes the outcome of a run to path, whole or not at all.
func writeResult(path string, f runFlags, out outcome) error {
	r := resultFile{
		Version: resultVersion, Verdict: out.verdict, Explanation: out.explanation, ExitStatus: out.status,
		Processes: []host.ProcessResult{},
		Limits: resultLimits{
			TimeLimitMs: f.timeout.Milliseconds(), CPULimitMs: f.cpu.Milliseconds(), ProcessMemoryMiB: f.processMemory(),
			RunCPULimitMs: f.runCPU.Milliseconds(), RunMemoryMiB: f.runMemMiB, MaxProcs: f.maxProcs, MaxCreated: f.created,
			MemoryMiB: int(f.memoryMiB), MaxOutputBytes: f.outputMiB << 20, MaxProcOutputBytes: f.procMiB << 20,
			MaxObjects: f.objects, MaxMessageBytes: f.msgMiB << 20, MaxIPCBytes: f.ipcMiB << 20,
			DeadlockAfterMs: host.DefaultDeadlockAfter.Milliseconds(), DrainTimeoutMs: host.DrainTimeout.Milliseconds(),
			Chaos: f.chaos,
		},
	}
	if res := out.res; res != nil {
		code := res.ExitCode
		r.MainExitCode = &code
		r.Processes = append(r.Processes, res.Processes...)
		r.Stuck = res.StuckLines
		r.OutputDropped = res.OutputDropped
		r.CPUMs = res.CPU.Milliseconds()
		r.PeakMemory = res.PeakMemory
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.HostPeakRSS = ru.Maxrss * 1024 // the host alone, not its runners
	}
	if de, ok := out.err.(*host.DeadlockError); ok {
		r.Deadlock = de.Lines
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".result-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
