package host

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestRunnable: a process with a thread on a CPU is runnable (this test,
// whose thread reads its own state), one asleep is not (a child sleeping
// in nanosleep), nor one that is gone.
func TestRunnable(t *testing.T) {
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Skip("no sleep(1):", err)
	}
	defer sleeper.Process.Kill()
	// Until it sleeps (exec and the loader run first; a loaded machine
	// may not run it at once): a runnable that never says false fails.
	for deadline := time.Now().Add(10 * time.Second); runnable(sleeper.Process.Pid) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	for _, tt := range []struct {
		name string
		pid  int
		want bool
	}{
		{"this process", os.Getpid(), true},
		{"a sleeping child", sleeper.Process.Pid, false},
		{"a process gone", gone.Process.Pid, false},
	} {
		if got := runnable(tt.pid); got != tt.want {
			t.Errorf("runnable(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
