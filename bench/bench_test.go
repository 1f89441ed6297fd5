// Package bench compares the sandbox with CPython's multiprocessing, side by
// side in the same run, on the shapes of docs/DESIGN (process start+join,
// pipe ping-pong, queue throughput, a small pool). Run with `make bench`;
// every number is reported as a metric of its sub-benchmark, e.g.
//
//	BenchmarkSpawnJoin/sandbox        1   ...   310.2 ms/op-inner
//	BenchmarkSpawnJoin/python-fork    1   ...     3.1 ms/op-inner
//
// "op-inner" is the time one operation takes as measured inside the
// program (start-up excluded). Nothing here asserts a speed: the machines
// are shared and noisy.
package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

var nsRe = regexp.MustCompile(`ns_per_op=(\d+)`)

// measure runs a command and returns the ns_per_op it prints.
func measure(b *testing.B, name string, args ...string) float64 {
	b.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v\n%s%s", name, args, err, out.String(), errb.String())
	}
	m := nsRe.FindStringSubmatch(out.String())
	if m == nil {
		b.Fatalf("%s %v printed no ns_per_op:\n%s%s", name, args, out.String(), errb.String())
	}
	ns, _ := strconv.ParseFloat(m[1], 64)
	return ns
}

// compare runs one shape in the sandbox and in CPython (fork and spawn).
func compare(b *testing.B, shape string, n int, unit string, scale float64) {
	root := testutil.RepoRoot(b)
	sandbox := filepath.Join(root, "bin", "sandbox")
	if _, err := os.Stat(sandbox); err != nil {
		b.Skip("bin/sandbox not built: run make bench")
	}
	guest := testutil.Guest(b, "internal/testguests/bench")
	script := filepath.Join(root, "bench", "bench.py")
	report := func(b *testing.B, ns float64) {
		b.ReportMetric(ns/scale, unit)
		b.ReportMetric(0, "ns/op") // the wall time of one command is not the point
	}
	b.Run("sandbox", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			report(b, measure(b, sandbox, "run", guest, "--", shape, strconv.Itoa(n)))
		}
	})
	if _, err := exec.LookPath("python3"); err != nil {
		b.Log("python3 not found: no CPython comparison")
		return
	}
	for _, method := range []string{"fork", "spawn"} {
		b.Run("python-"+method, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				report(b, measure(b, "python3", script, shape, strconv.Itoa(n), method))
			}
		})
	}
}

// BenchmarkSpawnJoin: start and join a process that does nothing, one
// after another.
func BenchmarkSpawnJoin(b *testing.B) { compare(b, "spawn", 20, "ms/op-inner", 1e6) }

// BenchmarkPipePingPong: round trips of 64 bytes over a duplex pipe
// between two processes (reported as time per round trip).
func BenchmarkPipePingPong(b *testing.B) { compare(b, "pingpong", 2000, "us/roundtrip", 1e3) }

// BenchmarkQueueThroughput: 4 MiB as 4 KiB messages from one process to
// another through a Queue (reported as time per MiB).
func BenchmarkQueueThroughput(b *testing.B) { compare(b, "queue", 4, "ms/MiB", 1e6) }

// BenchmarkPool: Pool(4) created, map(square, range(100)), closed, joined.
func BenchmarkPool(b *testing.B) { compare(b, "pool", 2, "ms/pool", 1e6) }
