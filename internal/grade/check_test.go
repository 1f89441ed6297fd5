package grade

import (
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// outcome is a run of three processes: MainProcess starts P1 and P2, P1
// sends two items down a pipe to P2, both wait at a barrier, P2 prints
// after it; MainProcess terminates a third process.
func outcome() *Outcome {
	gen0 := 0
	m15, zero := -15, 0
	evs := []events.Event{
		{Type: events.TypeRun},
		{Type: events.TypeStart, Process: "MainProcess", T: 0},
		{Type: events.TypeStart, Process: "P1", Parent: "MainProcess", T: 10},
		{Type: events.TypeStart, Process: "P2", Parent: "MainProcess", T: 11},
		{Type: events.TypeStart, Process: "sleeper", Parent: "MainProcess", T: 12},
		{Type: events.TypeCall, Process: "P1", Op: "conn_send", ObjectKind: "pipe", ObjectName: "pipe 2", Result: "ok", Msg: "2.1.1", T: 20},
		{Type: events.TypeCall, Process: "P2", Op: "conn_recv", ObjectKind: "pipe", ObjectName: "pipe 2", Result: "ok", Msg: "2.1.1", T: 15},
		{Type: events.TypeCall, Process: "P1", Op: "barrier_wait", ObjectKind: "barrier", ObjectName: "barrier 5", Result: "ok", Generation: &gen0, T: 30},
		{Type: events.TypeCall, Process: "P2", Op: "barrier_wait", ObjectKind: "barrier", ObjectName: "barrier 5", Result: "ok", Generation: &gen0, T: 40},
		{Type: events.TypeOutput, Process: "P2", Stream: "stdout", Text: "got 1", T: 50},
		{Type: events.TypeOutput, Process: "P1", Stream: "stdout", Text: "sent 1", T: 25},
		{Type: events.TypeOutput, Process: "P2", Stream: "stdout", Text: "done", T: 60},
		{Type: events.TypeExit, Process: "sleeper", ExitCode: &m15, Signal: "SIGTERM", By: "MainProcess", T: 70},
		{Type: events.TypeExit, Process: "P1", ExitCode: &zero, T: 71},
		{Type: events.TypeEnd, Verdict: "ok"},
	}
	return &Outcome{
		Verdict: "ok", Explanation: "MainProcess exited with code 0", MainRan: true, Stdout: "sent 1\ngot 1\ndone\n", Events: evs,
		Processes: []map[string]any{{"name": "MainProcess", "exit_code": 0.0}, {"name": "P1", "exit_code": 0.0}},
	}
}

func ip(n int) *int       { return &n }
func sp(s string) *string { return &s }

func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		check Check
		pass  bool
		msg   string // in the message of a failure
	}{
		{"exit code", Check{ExitCode: ip(0)}, true, ""},
		{"exit code wrong", Check{ExitCode: ip(1)}, false, "should exit with code 1; it exited with 0"},
		{"verdict", Check{Verdict: "deadlock"}, false, `should end as "deadlock"`},
		{"stdout equals", Check{Stdout: &TextCheck{Equals: sp("sent 1\ngot 1\ndone\n")}}, true, ""},
		{"stdout contains", Check{Stdout: &TextCheck{Contains: []string{"got 1", "got 2"}}}, false, `does not contain "got 2"`},
		{"stdout regex", Check{Stdout: &TextCheck{Regex: `(?m)^got \d$`}}, true, ""},
		{"stdout lines in order", Check{Stdout: &TextCheck{Lines: []string{"got 1", "sent 1", "done"}}}, false, `differs at line 1: expected "got 1", got "sent 1"`},
		{"stdout lines short", Check{Stdout: &TextCheck{Lines: []string{"sent 1", "got 1", "done", "end"}}}, false, `stops after 3 lines; line 4 should be "end"`},
		{"lines as a set", Check{Stdout: &TextCheck{LinesSet: []string{"done", "got 1", "sent 1"}}}, true, ""},
		{"lines as a set, one missing and one extra", Check{Stdout: &TextCheck{LinesSet: []string{"done", "got 2", "sent 1"}}}, false, `lacks "got 2" and has in excess "got 1"`},
		{"per process in order", Check{Process: &ProcCheck{Name: "P2", TextCheck: TextCheck{Lines: []string{"got 1", "done"}}}}, true, ""},
		{"per process, wrong order", Check{Process: &ProcCheck{Name: "P2", TextCheck: TextCheck{Lines: []string{"done", "got 1"}}}}, false, "What P2 printed differs at line 1"},
		{"no such process", Check{Process: &ProcCheck{Name: "P9", TextCheck: TextCheck{Contains: []string{"x"}}}}, false, `No process was named "P9" (the processes were: MainProcess, P1, P2, sleeper)`},
		{"a process that printed nothing", Check{Process: &ProcCheck{Name: "sleeper", TextCheck: TextCheck{Lines: []string{}}}}, true, ""},
		{"processes at least", Check{Processes: &CountCheck{AtLeast: ip(4)}}, true, ""},
		{"processes exactly", Check{Processes: &CountCheck{Exactly: ip(3)}}, false, "Expected exactly 3 processes started (MainProcess included); there were 4"},
		{"exit by", Check{Exit: &ExitCheck{Process: "sleeper", ExitCode: ip(-15), By: "MainProcess"}}, true, ""},
		{"exit code of a process", Check{Exit: &ExitCheck{Process: "P1", ExitCode: ip(-15)}}, false, "P1 should end with exit code -15; it ended with exit code 0"},
		{"pipe between", Check{Used: &UsedCheck{Kind: "pipe", Between: []string{"P1", "P2"}}}, true, ""},
		{"queue not used", Check{Used: &UsedCheck{Kind: "queue"}}, false, "the run had: no queue used"},
		{"barrier before line", Check{Before: &OrderCheck{Generation: 0, Line: "^got"}}, true, ""},
		{"barrier not before line", Check{Before: &OrderCheck{Generation: 0, Line: "^sent"}}, false, `printed "^sent" before every process had reached the barrier`},
		{"no deadlock", Check{NoDeadlock: true}, true, ""},
		{"expression", Check{Expr: `events.exists(e, e.type == "exit" && e.process == "sleeper" && e.exit_code == -15 && e.by == "MainProcess")`}, true, ""},
		{"expression on output", Check{Expr: `output["P2"] == ["got 1", "done"] && exit_code == 0 && verdict == "ok"`}, true, ""},
		{"expression counting", Check{Expr: `size(events.filter(e, e.type == "start")) == 3`}, false, "does not meet"},
		{"expression on a missing field", Check{Expr: `events.all(e, e.pid > 0)`}, false, "error: no such key"},
		{"own message", Check{ExitCode: ip(3), Message: "Exit with 3 when done."}, false, "Exit with 3 when done."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.check
			if c.Stdout != nil && c.Stdout.Regex != "" {
				v := validator{}
				v.text("x", c.Stdout)
			}
			if c.Before != nil {
				v := validator{}
				v.check("x", &c)
			}
			if c.Expr != "" {
				ce, err := compileExpr(c.Expr)
				if err != nil {
					t.Fatal(err)
				}
				c.expr = ce
			}
			r := c.Eval(outcome())
			if r.Passed != tt.pass {
				t.Errorf("passed = %v, want %v (%+v)", r.Passed, tt.pass, r)
			}
			if tt.msg != "" && !strings.Contains(r.Message, tt.msg) {
				t.Errorf("message %q, want it to contain %q", r.Message, tt.msg)
			}
			if r.Name == "" || r.Expected == "" {
				t.Errorf("check result without a name or what was expected: %+v", r)
			}
		})
	}
}
