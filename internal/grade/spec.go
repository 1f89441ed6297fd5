package grade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// SpecVersion is the version of the spec schema this package reads.
const SpecVersion = 1

// Spec is a grading spec (docs/GRADING.md): the exercises to look for in
// every submission, and the tests of each.
type Spec struct {
	Version   int        `yaml:"version"`
	Title     string     `yaml:"title"`
	Limits    Limits     `yaml:"limits"` // for every exercise, unless it says otherwise
	Exercises []Exercise `yaml:"exercises"`

	path string // the file it was read from
}

// Exercise is one program a submission should hold.
type Exercise struct {
	Name string `yaml:"name"`
	// Module is what to look for in a submission: MODULE.wasm, or a
	// folder MODULE of Go source (built with `sandbox build`); Name when
	// empty.
	Module string `yaml:"module"`
	Limits Limits `yaml:"limits"`
	Tests  []Test `yaml:"tests"`
}

// Test is one run of an exercise (or several: Repeat), and its checks.
type Test struct {
	Name       string   `yaml:"name"`
	Args       []string `yaml:"args"`
	Stdin      string   `yaml:"stdin"`
	Points     float64  `yaml:"points"`
	Visibility string   `yaml:"visibility"` // VisibilityVisible when empty
	// Repeat runs the test this many times (1 when 0); it passes only
	// if every run passes.
	Repeat int `yaml:"repeat"`
	// Chaos runs the test under race hunting (sandbox run --chaos): run
	// N with seed N, so that a grading is the same every time and a
	// failing run can be replayed.
	Chaos  bool    `yaml:"chaos"`
	Checks []Check `yaml:"checks"`
}

// Limits are flags of `sandbox run`, by name without the dashes:
// "timeout: 10s", "memory: 256", "max-procs: 8". Only the limits may be
// set (limitFlags).
type Limits map[string]any

// limitFlags are the flags of `sandbox run` a spec may set, and whether
// each takes a duration (else an integer).
var limitFlags = map[string]bool{
	"timeout": true, "cpu-limit": true, "run-cpu-limit": true,
	"memory": false, "process-memory": false, "run-memory": false,
	"max-procs": false, "max-created": false, "max-output": false, "max-process-output": false,
	"max-objects": false, "max-message": false, "max-ipc": false, "max-events": false,
}

// DefaultLimits are the limits of a test that neither its exercise nor
// the spec sets: tighter than `sandbox run`'s, since a grader runs many
// programs at once and a student's program that needs more is likely wrong.
var DefaultLimits = Limits{"timeout": "30s", "max-output": 1, "max-process-output": 1}

// Flags returns l as flags of `sandbox run`, in a fixed order, over the
// defaults: the spec's limits, then the exercise's.
func flagsOf(layers ...Limits) []string {
	merged := map[string]string{}
	for _, l := range layers {
		for k, v := range l {
			merged[k] = fmt.Sprint(v)
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var flags []string
	for _, k := range keys {
		flags = append(flags, "--"+k, merged[k])
	}
	return flags
}

// Check is one thing a run must do. Exactly one of its kinds is set.
type Check struct {
	// Name names the check in reports ("the squares in order"); made
	// from its kind when empty. Message is what a student reads when it
	// fails; made from what was expected and what happened when empty.
	Name    string `yaml:"name"`
	Message string `yaml:"message"`

	ExitCode   *int        `yaml:"exit_code"`   // MainProcess's exit code (CPython's exitcode)
	Verdict    string      `yaml:"verdict"`     // the run's verdict (README, "Verdicts")
	Stdout     *TextCheck  `yaml:"stdout"`      // the whole of stdout
	Stderr     *TextCheck  `yaml:"stderr"`      // the whole of stderr
	Process    *ProcCheck  `yaml:"process"`     // one process's own output, in order
	Processes  *CountCheck `yaml:"processes"`   // how many processes were started, MainProcess included
	Exit       *ExitCheck  `yaml:"exit"`        // how a named process ended
	Used       *UsedCheck  `yaml:"used"`        // an object of a kind used between processes
	Before     *OrderCheck `yaml:"before"`      // every party reached a barrier before a line was printed
	NoDeadlock bool        `yaml:"no_deadlock"` // the run did not deadlock, nor any of its processes
	Expr       string      `yaml:"expr"`        // a CEL expression over the run (docs/GRADING.md)

	expr *compiled // Expr, compiled when the spec is read
}

// TextCheck checks a text: each field set must hold.
type TextCheck struct {
	Equals   *string  `yaml:"equals"`    // the whole text
	Contains []string `yaml:"contains"`  // each of these substrings
	Regex    string   `yaml:"regex"`     // a match of this regular expression (RE2; (?m) for lines)
	Lines    []string `yaml:"lines"`     // exactly these lines, in this order
	LinesSet []string `yaml:"lines_set"` // exactly these lines, in any order (as a multiset)

	re *regexp.Regexp
}

// ProcCheck checks the lines one process printed (on stdout and stderr,
// in its own order; the interleaving with other processes is ignored).
type ProcCheck struct {
	Name      string `yaml:"name"` // the process's name
	TextCheck `yaml:",inline"`
}

// CountCheck checks a count.
type CountCheck struct {
	AtLeast *int `yaml:"at_least"`
	AtMost  *int `yaml:"at_most"`
	Exactly *int `yaml:"exactly"`
}

// ExitCheck checks how a named process ended.
type ExitCheck struct {
	Process  string `yaml:"process"`
	ExitCode *int   `yaml:"exit_code"`
	// By is the process that terminated or killed it.
	By string `yaml:"by"`
}

// UsedCheck checks that an object of a kind (objectKinds: the kinds of
// the event log) was used by the named processes (all of them; any
// processes when Between is empty).
type UsedCheck struct {
	Kind    string   `yaml:"kind"`
	Between []string `yaml:"between"`
}

// OrderCheck checks that every wait of a barrier round began before any
// process printed a line matching Line (a regular expression).
type OrderCheck struct {
	Barrier    string `yaml:"barrier"`    // "barrier" (the only barrier kind; kept for other kinds later)
	Generation int    `yaml:"generation"` // the round, 0 for the first
	Line       string `yaml:"line"`

	re *regexp.Regexp
}

// kinds lists the kinds of check set in c.
func (c *Check) kinds() []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(c.ExitCode != nil, "exit_code")
	add(c.Verdict != "", "verdict")
	add(c.Stdout != nil, "stdout")
	add(c.Stderr != nil, "stderr")
	add(c.Process != nil, "process")
	add(c.Processes != nil, "processes")
	add(c.Exit != nil, "exit")
	add(c.Used != nil, "used")
	add(c.Before != nil, "before")
	add(c.NoDeadlock, "no_deadlock")
	add(c.Expr != "", "expr")
	return k
}

// checkKinds are every kind of check, for messages.
const checkKinds = "exit_code, verdict, stdout, stderr, process, processes, exit, used, before, no_deadlock, expr"

var verdicts = []string{"ok", "exit", "runtime_error", "killed", "time_limit", "cpu_limit", "memory_limit", "output_limit",
	"process_limit", "ipc_limit", "deadlock", "interrupted", "output_closed", "invalid_module", "internal_error"}

// objectKinds are the kinds of object the event log names (ipc's Kind).
var objectKinds = []string{"pipe", "queue", "joinable_queue", "lock", "rlock", "semaphore", "bounded_semaphore",
	"event", "condition", "barrier", "namespace", "dict", "list", "process"}

// SpecError is a mistake in a spec, placed in its file.
type SpecError struct {
	File       string
	Line, Col  int
	Field, Msg string
}

func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadSpec reads and checks the spec in file path. Every mistake found is
// reported, each with its file, line and field (errors.Join of
// *SpecError).
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("grading spec: %w", err)
	}
	return ParseSpec(filepath.Base(path), data)
}

// ParseSpec reads and checks a spec; name is its file name in messages.
func ParseSpec(name string, data []byte) (*Spec, error) {
	s := &Spec{path: name}
	if err := yaml.UnmarshalWithOptions(data, s, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			pos := ye.GetToken().Position
			return nil, &SpecError{File: name, Line: pos.Line, Col: pos.Column, Msg: ye.GetMessage()}
		}
		return nil, &SpecError{File: name, Msg: err.Error()}
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &SpecError{File: name, Msg: err.Error()}
	}
	v := validator{name: name, file: file}
	v.spec(s)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return s, nil
}

// validator gathers the mistakes of a spec, placing each by the YAML path
// of its field.
type validator struct {
	name string
	file *ast.File
	errs []error
}

// fail records a mistake at the YAML path p ("$.exercises[0].name").
func (v *validator) fail(p, format string, args ...any) {
	e := &SpecError{File: v.name, Field: strings.TrimPrefix(strings.TrimPrefix(p, "$"), "."), Msg: fmt.Sprintf(format, args...)}
	// The field itself, or the nearest enclosing node that exists.
	for q := p; q != ""; q = parentPath(q) {
		if yp, err := yaml.PathString(q); err == nil {
			if n, err := yp.FilterFile(v.file); err == nil && n != nil && n.GetToken() != nil {
				e.Line, e.Col = n.GetToken().Position.Line, n.GetToken().Position.Column
				break
			}
		}
	}
	v.errs = append(v.errs, e)
}

// parentPath drops the last element of a YAML path ("" at the root).
func parentPath(p string) string {
	if p == "$" {
		return ""
	}
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return "$"
	}
	return p[:i]
}

func (v *validator) spec(s *Spec) {
	if s.Version != SpecVersion {
		v.fail("$.version", "version must be %d (this sandbox reads version %d), not %d", SpecVersion, SpecVersion, s.Version)
	}
	v.limits("$.limits", s.Limits)
	if len(s.Exercises) == 0 {
		v.fail("$.exercises", "the spec has no exercises")
	}
	names := map[string]bool{}
	for i := range s.Exercises {
		ex := &s.Exercises[i]
		p := fmt.Sprintf("$.exercises[%d]", i)
		switch {
		case ex.Name == "":
			v.fail(p+".name", "an exercise needs a name")
		case names[ex.Name]:
			v.fail(p+".name", "a second exercise named %q", ex.Name)
		}
		names[ex.Name] = true
		if ex.Module == "" {
			ex.Module = ex.Name
		}
		if strings.ContainsAny(ex.Module, `/\`) || ex.Module == "." || ex.Module == ".." {
			v.fail(p+".module", "module %q must be a plain name (the submission's MODULE.wasm or folder MODULE)", ex.Module)
		}
		v.limits(p+".limits", ex.Limits)
		if len(ex.Tests) == 0 {
			v.fail(p+".tests", "exercise %q has no tests", ex.Name)
		}
		tests := map[string]bool{}
		for j := range ex.Tests {
			v.test(fmt.Sprintf("%s.tests[%d]", p, j), &ex.Tests[j], tests)
		}
	}
}

func (v *validator) limits(p string, l Limits) {
	for k, val := range l {
		duration, ok := limitFlags[k]
		if !ok {
			v.fail(p+"."+k, "%q is not a limit (one of: %s)", k, strings.Join(sortedKeys(limitFlags), ", "))
			continue
		}
		s := fmt.Sprint(val)
		if duration {
			if d, err := time.ParseDuration(s); err != nil || d < 0 {
				v.fail(p+"."+k, "%q is not a duration such as 10s or 1m30s", s)
			}
		} else if n, err := strconv.ParseInt(s, 10, 64); err != nil || n < 0 {
			v.fail(p+"."+k, "%q is not a whole number >= 0", s)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (v *validator) test(p string, t *Test, seen map[string]bool) {
	switch {
	case t.Name == "":
		v.fail(p+".name", "a test needs a name")
	case seen[t.Name]:
		v.fail(p+".name", "a second test named %q in this exercise", t.Name)
	}
	seen[t.Name] = true
	if t.Points < 0 {
		v.fail(p+".points", "points must not be negative")
	}
	if t.Visibility == "" {
		t.Visibility = VisibilityVisible
	}
	if !slices.Contains([]string{VisibilityVisible, VisibilityHidden, VisibilityAfterDue, VisibilityPublished}, t.Visibility) {
		v.fail(p+".visibility", "visibility %q is not one of visible, hidden, after_due_date, after_published", t.Visibility)
	}
	if t.Repeat < 0 || t.Repeat > 100 {
		v.fail(p+".repeat", "repeat must be between 1 and 100")
	}
	if t.Repeat == 0 {
		t.Repeat = 1
	}
	if len(t.Checks) == 0 {
		v.fail(p+".checks", "test %q has no checks", t.Name)
	}
	for i := range t.Checks {
		v.check(fmt.Sprintf("%s.checks[%d]", p, i), &t.Checks[i])
	}
}

func (v *validator) check(p string, c *Check) {
	kinds := c.kinds()
	if len(kinds) != 1 {
		if len(kinds) == 0 {
			v.fail(p, "a check needs one of: %s", checkKinds)
		} else {
			v.fail(p, "a check has one kind, this one has %d (%s): write one check each", len(kinds), strings.Join(kinds, ", "))
		}
		return
	}
	switch {
	case c.Verdict != "" && !slices.Contains(verdicts, c.Verdict):
		v.fail(p+".verdict", "%q is not a verdict (one of: %s)", c.Verdict, strings.Join(verdicts, ", "))
	case c.Stdout != nil:
		v.text(p+".stdout", c.Stdout)
	case c.Stderr != nil:
		v.text(p+".stderr", c.Stderr)
	case c.Process != nil:
		if c.Process.Name == "" {
			v.fail(p+".process.name", "a process check needs the process's name")
		}
		v.text(p+".process", &c.Process.TextCheck)
	case c.Processes != nil:
		v.count(p+".processes", c.Processes)
	case c.Exit != nil:
		if c.Exit.Process == "" {
			v.fail(p+".exit.process", "an exit check needs the process's name")
		}
		if c.Exit.ExitCode == nil && c.Exit.By == "" {
			v.fail(p+".exit", "an exit check needs exit_code, by, or both")
		}
	case c.Used != nil:
		if !slices.Contains(objectKinds, c.Used.Kind) {
			v.fail(p+".used.kind", "%q is not a kind of object (one of: %s)", c.Used.Kind, strings.Join(objectKinds, ", "))
		}
	case c.Before != nil:
		if c.Before.Barrier == "" {
			c.Before.Barrier = "barrier"
		}
		if c.Before.Barrier != "barrier" {
			v.fail(p+".before.barrier", "only barriers can be checked for now (barrier: barrier)")
		}
		re, err := regexp.Compile(c.Before.Line)
		if err != nil || c.Before.Line == "" {
			v.fail(p+".before.line", "line must be a regular expression: %v", err)
		}
		c.Before.re = re
	case c.Expr != "":
		ce, err := compileExpr(c.Expr)
		if err != nil {
			v.fail(p+".expr", "%v", err)
		}
		c.expr = ce
	}
}

func (v *validator) text(p string, t *TextCheck) {
	if t.Equals == nil && t.Contains == nil && t.Regex == "" && t.Lines == nil && t.LinesSet == nil {
		v.fail(p, "a text check needs one of equals, contains, regex, lines, lines_set")
	}
	if t.Regex != "" {
		re, err := regexp.Compile(t.Regex)
		if err != nil {
			v.fail(p+".regex", "%v", err)
		}
		t.re = re
	}
}

func (v *validator) count(p string, c *CountCheck) {
	if c.AtLeast == nil && c.AtMost == nil && c.Exactly == nil {
		v.fail(p, "a count needs at_least, at_most or exactly")
	}
	for _, n := range []*int{c.AtLeast, c.AtMost, c.Exactly} {
		if n != nil && *n < 0 {
			v.fail(p, "a count must not be negative")
		}
	}
}
