package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// TestFirstRunInterpreted: the first run of a module never seen with a
// cache runs interpreted while its machine code compiles, and prints what
// a compiled run prints; the next run compiles first (when the first one
// ended before its compile) and later runs take it from the cache;
// --interpret-new=false never interprets, nor a runner given too little
// memory for the interpreter (--process-memory under 512 MiB).
func TestFirstRunInterpreted(t *testing.T) {
	module := testutil.Guest(t, "guests/hello_processes")
	pids := regexp.MustCompile(`\d+`)
	type process struct {
		Name        string `json:"name"`
		Interpreted bool   `json:"interpreted"`
	}
	run := func(t *testing.T, cache string, flags ...string) (string, []process) {
		t.Helper()
		result := filepath.Join(t.TempDir(), "result.json")
		args := append([]string{"run", "--cache-dir", cache, "--result", result}, flags...)
		res := runSandbox(t, append(args, module)...)
		if res.code != 0 {
			t.Fatalf("sandbox %v: status %d\n%s", args, res.code, res.stderr)
		}
		var r struct {
			Processes []process `json:"processes"`
		}
		b, err := os.ReadFile(result)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil || len(r.Processes) == 0 {
			t.Fatalf("result: %v (%d processes)", err, len(r.Processes))
		}
		return pids.ReplaceAllString(res.stdout, "N"), r.Processes
	}
	interpreted := func(ps []process) (n int) {
		for _, p := range ps {
			if p.Interpreted {
				n++
			}
		}
		return n
	}

	cache := t.TempDir()
	first, ps := run(t, cache)
	if !ps[0].Interpreted {
		t.Errorf("first run: MainProcess not interpreted: %+v", ps)
	}
	second, ps := run(t, cache)
	if n := interpreted(ps); n != 0 {
		t.Errorf("second run: %d processes interpreted, want none: %+v", n, ps)
	}
	if second != first {
		t.Errorf("the interpreted run printed\n%s\nthe compiled one\n%s", first, second)
	}
	for _, flag := range []string{"--interpret-new=false", "--process-memory=160"} {
		if _, ps = run(t, t.TempDir(), flag); interpreted(ps) != 0 {
			t.Errorf("%s: processes interpreted: %+v", flag, ps)
		}
	}
}
