package host_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestPostedCalls runs the IPC guest's queue-posted scenario: a child puts
// three values on an unbounded queue (posted: it does not wait for the
// answers) and two on a bounded one (not posted), then ends; MainProcess
// joins it and takes every value with GetNowait, so a post served after
// the child's end, or out of order, fails the test; then it posts a put to
// a handle that is no queue, twice. The records say which calls were
// posted, the failed posts are recorded, the first logged and the two
// counted, and the run is not disturbed.
func TestPostedCalls(t *testing.T) {
	var logs syncBuffer
	run := loggedRun(t, "internal/testguests/ipc", 0, hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}), "queue-posted")
	if run.err != nil || run.res.ExitCode != 0 {
		t.Fatalf("run: exit %d, %v\n%s\n%s", run.res.ExitCode, run.err, run.out, logs.String())
	}
	want := "got=v0\ngot=v1\ngot=v2\nbounded got=1\nbounded got=2\nposts to no queue=0,0\nexitcode=0\n"
	if run.out != want {
		t.Errorf("printed:\n%s\nwant:\n%s\nlog:\n%s", run.out, want, logs.String())
	}

	type key struct {
		process, object string
		posted          bool
		result          string
	}
	puts := map[key]int{}
	infos := 0
	for _, e := range run.events {
		switch {
		case e.Op == "queue_post":
			t.Errorf("a call recorded as queue_post, not as the queue_put it posts: %+v", e)
		case e.Op == "queue_put":
			puts[key{e.Process, e.ObjectName, e.Posted, e.Result}]++
		case e.Op == "queue_info" && e.Process == "Process-1":
			infos++
		}
	}
	wantPuts := map[key]int{
		{"Process-1", "queue 2", true, "ok"}:  3, // unbounded: posted
		{"Process-1", "queue 3", false, "ok"}: 2, // bounded: answered
		{"MainProcess", "", true, "EBADH"}:    2, // to no queue
	}
	if len(puts) != len(wantPuts) {
		t.Errorf("puts recorded %v, want %v", puts, wantPuts)
	}
	for k, n := range wantPuts {
		if puts[k] != n {
			t.Errorf("%d puts %+v recorded, want %d (all: %v)", puts[k], k, n, puts)
		}
	}
	// The child got both queues in its arguments: it asks each one's
	// maxsize once, not once per put.
	if infos != 2 {
		t.Errorf("Process-1 asked queue_info %d times, want 2 (once per queue)", infos)
	}
	// The first failed post of a process is logged, the others counted.
	l := logs.String()
	if n := strings.Count(l, "a posted call failed"); n != 1 || !strings.Contains(l, "op=queue_put") || !strings.Contains(l, "errno=EBADH") {
		t.Errorf("%d warnings of a failed post, want 1 naming queue_put and EBADH:\n%s", n, l)
	}
	if !regexp.MustCompile(`posted calls failed: .*count=2`).MatchString(l) {
		t.Errorf("the count of failed posts is not in the log:\n%s", l)
	}
}
