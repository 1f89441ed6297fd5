package main

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/testutil"
)

// TestChaosFindsRace: three processes add to a shared counter without a
// lock. Unperturbed, most runs happen to be right (measured: 15 of 20);
// under --chaos, most are wrong (5 of 20 right), so eight seeds all
// missing the race would take a chance of about 1 in 60,000.
func TestChaosFindsRace(t *testing.T) {
	ipc := testutil.Guest(t, "internal/testguests/ipc")
	counter := regexp.MustCompile(`counter=(\d+) want=(\d+)`)
	wrong := 0
	for seed := 1; seed <= 8; seed++ {
		r := runSandbox(t, "run", "--chaos", fmt.Sprint(seed), ipc, "--", "race-counter", "3", "10")
		m := counter.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil {
			t.Fatalf("seed %d: status %d, stdout %q, stderr %q", seed, r.code, r.stdout, r.stderr)
		}
		if m[1] != m[2] {
			wrong++
		}
	}
	t.Logf("%d of 8 seeds lost an update", wrong)
	if wrong == 0 {
		t.Error("no seed of --chaos made the race lose an update")
	}
}
