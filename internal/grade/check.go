package grade

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// Outcome is what one run of a test did: everything a check looks at.
type Outcome struct {
	Verdict      string
	Explanation  string
	ExitStatus   int
	MainExitCode int
	MainRan      bool // MainProcess started (else MainExitCode means nothing)
	Stdout       string
	Stderr       string
	Events       []events.Event
	// Processes are the result file's processes (name, pid, parent,
	// exit_code, signal, ...), as JSON objects.
	Processes []map[string]any
	// Deadlock and Stuck explain a deadlock of all or of some processes.
	Deadlock, Stuck []string

	vars map[string]any // the expressions' variables, made once
}

// lines returns the lines each process printed, in its own order.
func (o *Outcome) lines() map[string][]string {
	out := map[string][]string{}
	for _, e := range o.Events {
		if e.Type == events.TypeOutput {
			out[e.Process] = append(out[e.Process], e.Text)
		}
	}
	return out
}

// Eval runs check c on the outcome of a run.
func (c *Check) Eval(o *Outcome) CheckResult {
	r := CheckResult{Name: c.Name}
	name := func(n string) {
		if r.Name == "" {
			r.Name = n
		}
	}
	switch {
	case c.ExitCode != nil:
		name("exit code")
		r.Expected, r.Got = fmt.Sprint(*c.ExitCode), fmt.Sprint(o.MainExitCode)
		if !o.MainRan {
			r.Got = "MainProcess did not run"
			r.Message = fmt.Sprintf("The program should exit with code %d; it did not run: %s.", *c.ExitCode, o.Explanation)
			break
		}
		r.Passed = o.MainExitCode == *c.ExitCode
		if !r.Passed {
			r.Message = fmt.Sprintf("The program should exit with code %d; it exited with %d (%s).", *c.ExitCode, o.MainExitCode, o.Explanation)
		}
	case c.Verdict != "":
		name("verdict")
		r.Expected, r.Got = c.Verdict, o.Verdict
		r.Passed = o.Verdict == c.Verdict
		if !r.Passed {
			r.Message = fmt.Sprintf("The run should end as %q; it ended as %q: %s.", c.Verdict, o.Verdict, o.Explanation)
		}
	case c.Stdout != nil:
		name("stdout")
		c.Stdout.eval(&r, "The output", lines(o.Stdout), o.Stdout)
	case c.Stderr != nil:
		name("stderr")
		c.Stderr.eval(&r, "The error output", lines(o.Stderr), o.Stderr)
	case c.Process != nil:
		name("output of " + c.Process.Name)
		ls, ok := o.lines()[c.Process.Name]
		if !ok && !o.started(c.Process.Name) {
			r.Expected = "a process named " + c.Process.Name
			r.Got = "no such process: " + strings.Join(o.names(), ", ")
			r.Message = fmt.Sprintf("No process was named %q (the processes were: %s).", c.Process.Name, strings.Join(o.names(), ", "))
			break
		}
		c.Process.eval(&r, "What "+c.Process.Name+" printed", ls, strings.Join(ls, "\n")+newlineIf(len(ls) > 0))
	case c.Processes != nil:
		name("processes started")
		n := 0
		for _, e := range o.Events {
			if e.Type == events.TypeStart {
				n++
			}
		}
		c.Processes.eval(&r, n, "processes started (MainProcess included)")
	case c.Exit != nil:
		name("exit of " + c.Exit.Process)
		c.Exit.eval(&r, o)
	case c.Used != nil:
		name(c.Used.Kind + " used")
		c.Used.eval(&r, o)
	case c.Before != nil:
		name("barrier before " + c.Before.Line)
		c.Before.eval(&r, o)
	case c.NoDeadlock:
		name("no deadlock")
		r.Expected = "no deadlock"
		switch {
		case o.Verdict == "deadlock":
			r.Got = strings.Join(o.Deadlock, "; ")
		case len(o.Stuck) > 0:
			r.Got = strings.Join(o.Stuck, "; ")
		default:
			r.Passed, r.Got = true, "none"
		}
		if !r.Passed {
			r.Message = "The processes waited for each other forever (a deadlock): " + r.Got
		}
	case c.expr != nil:
		name(c.Expr)
		r.Expected = c.Expr + " is true"
		ok, err := c.expr.eval(o.exprVars())
		r.Passed = ok
		switch {
		case err != nil:
			r.Got = "error: " + err.Error()
		case ok:
			r.Got = "true"
		default:
			r.Got = "false"
		}
		if !r.Passed {
			r.Message = fmt.Sprintf("The run does not meet: %s (%s).", c.Expr, r.Got)
		}
	}
	if !r.Passed && c.Message != "" {
		r.Message = c.Message
	}
	return r
}

func newlineIf(b bool) string {
	if b {
		return "\n"
	}
	return ""
}

// lines splits text into lines, without a last empty one.
func lines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

func (o *Outcome) started(name string) bool {
	for _, e := range o.Events {
		if e.Type == events.TypeStart && e.Process == name {
			return true
		}
	}
	return false
}

// names lists the processes that started, in order.
func (o *Outcome) names() []string {
	var n []string
	for _, e := range o.Events {
		if e.Type == events.TypeStart {
			n = append(n, e.Process)
		}
	}
	return n
}

// eval checks text (what its lines are) and says what differs; what is
// "The output" or similar, for messages.
func (t *TextCheck) eval(r *CheckResult, what string, ls []string, text string) {
	var exp, bad []string
	r.Got = excerpt(text)
	if t.Equals != nil {
		exp = append(exp, quoteBlock(*t.Equals))
		if text != *t.Equals {
			bad = append(bad, what+" is not exactly as expected.")
		}
	}
	for _, s := range t.Contains {
		exp = append(exp, "contains "+fmt.Sprintf("%q", s))
		if !strings.Contains(text, s) {
			bad = append(bad, fmt.Sprintf("%s does not contain %q.", what, s))
		}
	}
	if t.re != nil {
		exp = append(exp, "matches /"+t.Regex+"/")
		if !t.re.MatchString(text) {
			bad = append(bad, fmt.Sprintf("%s does not match the pattern /%s/.", what, t.Regex))
		}
	}
	if t.Lines != nil {
		exp = append(exp, "these lines in order:\n"+strings.Join(t.Lines, "\n"))
		if !slices.Equal(ls, t.Lines) {
			bad = append(bad, what+" "+lineDiff(t.Lines, ls))
		}
	}
	if t.LinesSet != nil {
		exp = append(exp, "these lines in any order:\n"+strings.Join(t.LinesSet, "\n"))
		missing, extra := multisetDiff(t.LinesSet, ls)
		if len(missing) > 0 || len(extra) > 0 {
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, fmt.Sprintf("lacks %s", quoteList(missing)))
			}
			if len(extra) > 0 {
				parts = append(parts, fmt.Sprintf("has in excess %s", quoteList(extra)))
			}
			bad = append(bad, what+" "+strings.Join(parts, " and ")+" (order does not matter here).")
		}
	}
	r.Expected = strings.Join(exp, "; ")
	r.Passed = len(bad) == 0
	r.Message = strings.Join(bad, " ")
}

// lineDiff says where got first differs from want.
func lineDiff(want, got []string) string {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Sprintf("differs at line %d: expected %q, got %q.", i+1, want[i], got[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("stops after %d lines; line %d should be %q.", len(got), len(got)+1, want[len(got)])
	}
	return fmt.Sprintf("has %d lines more than the %d expected, from %q.", len(got)-len(want), len(want), got[len(want)])
}

// multisetDiff returns what want has that got lacks, and what got has in
// excess, each in the order first seen.
func multisetDiff(want, got []string) (missing, extra []string) {
	n := map[string]int{}
	for _, l := range want {
		n[l]++
	}
	for _, l := range got {
		n[l]--
	}
	for _, l := range want {
		if n[l] > 0 {
			missing = append(missing, l)
			n[l]--
		}
	}
	for _, l := range got {
		if n[l] < 0 {
			extra = append(extra, l)
			n[l]++
		}
	}
	return missing, extra
}

func quoteList(ls []string) string {
	const most = 3
	q := make([]string, 0, most)
	for i, l := range ls {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(ls)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", l))
	}
	return strings.Join(q, ", ")
}

func quoteBlock(s string) string { return "exactly:\n" + s }

// excerptMax bounds the text a report keeps of an output.
const excerptMax = 4 << 10

// excerpt is text, or its start and end when long.
func excerpt(text string) string {
	if len(text) <= excerptMax {
		return text
	}
	head, tail := text[:excerptMax/2], text[len(text)-excerptMax/2:]
	return strings.ToValidUTF8(head, "") + fmt.Sprintf("\n[... %d bytes ...]\n", len(text)-excerptMax) + strings.ToValidUTF8(tail, "")
}

func (c *CountCheck) eval(r *CheckResult, n int, what string) {
	var exp []string
	r.Passed = true
	if c.Exactly != nil {
		exp = append(exp, fmt.Sprintf("exactly %d", *c.Exactly))
		r.Passed = r.Passed && n == *c.Exactly
	}
	if c.AtLeast != nil {
		exp = append(exp, fmt.Sprintf("at least %d", *c.AtLeast))
		r.Passed = r.Passed && n >= *c.AtLeast
	}
	if c.AtMost != nil {
		exp = append(exp, fmt.Sprintf("at most %d", *c.AtMost))
		r.Passed = r.Passed && n <= *c.AtMost
	}
	r.Expected, r.Got = strings.Join(exp, " and ")+" "+what, fmt.Sprintf("%d", n)
	if !r.Passed {
		r.Message = fmt.Sprintf("Expected %s; there were %d.", r.Expected, n)
	}
}

func (c *ExitCheck) eval(r *CheckResult, o *Outcome) {
	var exp []string
	if c.ExitCode != nil {
		exp = append(exp, fmt.Sprintf("exit code %d", *c.ExitCode))
	}
	if c.By != "" {
		exp = append(exp, "terminated by "+c.By)
	}
	r.Expected = c.Process + ": " + strings.Join(exp, ", ")
	var exit *events.Event
	for i := range o.Events {
		if e := &o.Events[i]; e.Type == events.TypeExit && e.Process == c.Process {
			exit = e
			break
		}
	}
	if exit == nil {
		r.Got = "no process named " + c.Process + " ended"
		r.Message = fmt.Sprintf("No process named %q ended (the processes were: %s).", c.Process, strings.Join(o.names(), ", "))
		return
	}
	code := 0
	if exit.ExitCode != nil {
		code = *exit.ExitCode
	}
	r.Got = fmt.Sprintf("exit code %d", code)
	if exit.By != "" {
		r.Got += ", terminated by " + exit.By
	}
	r.Passed = (c.ExitCode == nil || code == *c.ExitCode) && (c.By == "" || exit.By == c.By)
	if !r.Passed {
		r.Message = fmt.Sprintf("%s should end with %s; it ended with %s.", c.Process, strings.Join(exp, ", "), r.Got)
	}
}

func (c *UsedCheck) eval(r *CheckResult, o *Outcome) {
	users := map[string]map[string]bool{} // object name -> processes that called it
	for _, e := range o.Events {
		if e.Type == events.TypeCall && e.ObjectKind == c.Kind && e.Result == "ok" {
			if users[e.ObjectName] == nil {
				users[e.ObjectName] = map[string]bool{}
			}
			users[e.ObjectName][e.Process] = true
		}
	}
	r.Expected = "a " + c.Kind + " used"
	if len(c.Between) > 0 {
		r.Expected += " by " + strings.Join(c.Between, " and ")
	}
	var seen []string
	for _, obj := range sortedKeys(users) {
		ps := sortedKeys(users[obj])
		seen = append(seen, obj+" by "+strings.Join(ps, ", "))
		all := true
		for _, p := range c.Between {
			all = all && users[obj][p]
		}
		if all {
			r.Passed = true
		}
	}
	r.Got = strings.Join(seen, "; ")
	if r.Got == "" {
		r.Got = "no " + c.Kind + " used"
	}
	if !r.Passed {
		r.Message = fmt.Sprintf("Expected %s; the run had: %s.", r.Expected, r.Got)
	}
}

func (c *OrderCheck) eval(r *CheckResult, o *Outcome) {
	r.Expected = fmt.Sprintf("every wait of barrier round %d before the first line matching /%s/", c.Generation, c.Line)
	var lastWait, firstLine int64 = -1, -1
	var waits int
	var liner string
	for _, e := range o.Events {
		switch {
		case e.Type == events.TypeCall && e.Op == "barrier_wait" && e.Generation != nil && *e.Generation == c.Generation:
			waits++
			lastWait = max(lastWait, e.T)
		case e.Type == events.TypeOutput && c.re.MatchString(e.Text) && (firstLine < 0 || e.T < firstLine):
			firstLine, liner = e.T, e.Process
		}
	}
	switch {
	case waits == 0:
		r.Got = "no barrier wait in that round"
		r.Message = "No process waited at a barrier."
	case firstLine < 0:
		r.Got = "no line matching"
		r.Message = fmt.Sprintf("No process printed a line matching /%s/.", c.Line)
	case lastWait < firstLine:
		r.Passed = true
		r.Got = fmt.Sprintf("%d waits, the last at %.3f ms; the line at %.3f ms", waits, float64(lastWait)/1000, float64(firstLine)/1000)
	default:
		r.Got = fmt.Sprintf("%s printed the line at %.3f ms, before the last wait at %.3f ms", liner, float64(firstLine)/1000, float64(lastWait)/1000)
		r.Message = fmt.Sprintf("A process printed %q before every process had reached the barrier.", c.Line)
	}
}

// exprVars are the variables of an expression (expr.go).
func (o *Outcome) exprVars() map[string]any {
	if o.vars != nil {
		return o.vars
	}
	evs := make([]map[string]any, len(o.Events))
	for i := range o.Events {
		evs[i] = jsonMap(&o.Events[i])
	}
	out := map[string][]string{}
	for k, v := range o.lines() {
		out[k] = v
	}
	procs := make([]map[string]any, len(o.Processes))
	for i, p := range o.Processes {
		procs[i] = normalize(p).(map[string]any)
	}
	o.vars = map[string]any{
		"events": evs, "processes": procs, "output": out,
		"stdout": o.Stdout, "stderr": o.Stderr, "verdict": o.Verdict, "exit_code": int64(o.MainExitCode),
	}
	return o.vars
}

// jsonMap is v as its JSON object, whole numbers as int64 (CEL's int).
func jsonMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	return normalize(m).(map[string]any)
}

// normalize turns whole float64 numbers into int64, deeply.
func normalize(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}
