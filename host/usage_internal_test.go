package host

import (
	"fmt"
	"os"
	"testing"
)

// TestProcStat: the memory procStat counts is the process's own (it
// grows by what the process allocates and touches) and leaves out the
// pages backed by files (below the resident size).
func TestProcStat(t *testing.T) {
	_, before, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<20)
	for i := range block {
		block[i] = 1
	}
	_, after, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if grew := after - before; grew < 60<<20 {
		t.Errorf("own memory grew %d MiB after touching 64 MiB, want at least 60", grew>>20)
	}
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	var size, resident, shared int64
	if _, err := fmt.Sscan(string(statm), &size, &resident, &shared); err != nil {
		t.Fatal(err)
	}
	if shared == 0 || after >= resident*pageSize {
		t.Errorf("own memory %d MiB, resident %d MiB with %d MiB file-backed: file-backed pages were counted", after>>20, resident*pageSize>>20, shared*pageSize>>20)
	}
	_ = block[len(block)-1]
	if _, _, err := procStat(1 << 30); err == nil {
		t.Error("procStat of a pid that does not exist did not fail")
	}
}
