package grade

import (
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
)

// Expressions: a check "expr" is a CEL expression (cel.dev, the language
// of Kubernetes' validation rules) that must be true of the run. It sees:
//
//	events     list of maps   the event log (docs/EVENTS.md), field names as there
//	processes  list of maps   the result file's processes (name, pid, parent, exit_code, signal, ...)
//	output     map            process name -> list of the lines it printed, in order
//	stdout     string         all of stdout
//	stderr     string         all of stderr
//	verdict    string         the run's verdict
//	exit_code  int            MainProcess's exit code
//
// e.g. events.exists(e, e.type == "exit" && e.process == "worker" && e.exit_code == -15)
// or size(events.filter(e, e.type == "start")) == 6.

// compiled is a checked expression, ready to run.
type compiled struct {
	src string
	prg cel.Program
}

// celEnv is made on first use: every runner is this same binary, and a
// CEL environment made at start took part of every process's start.
var celEnv = sync.OnceValue(func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("events", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		cel.Variable("processes", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
		cel.Variable("output", cel.MapType(cel.StringType, cel.ListType(cel.StringType))),
		cel.Variable("stdout", cel.StringType),
		cel.Variable("stderr", cel.StringType),
		cel.Variable("verdict", cel.StringType),
		cel.Variable("exit_code", cel.IntType),
	)
	if err != nil {
		panic(fmt.Sprintf("grade: CEL environment: %v", err))
	}
	return env
})

// compileExpr checks src: it must parse, type-check and be a bool.
func compileExpr(src string) (*compiled, error) {
	ast, iss := celEnv().Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, fmt.Errorf("expression: %v", iss.Err())
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("expression is a %s, not a bool", ast.OutputType())
	}
	// A bound on the work: a student's run cannot make a check run away
	// (the events are bounded, and so is the cost).
	prg, err := celEnv().Program(ast, cel.CostLimit(100_000_000))
	if err != nil {
		return nil, fmt.Errorf("expression: %w", err)
	}
	return &compiled{src: src, prg: prg}, nil
}

// eval runs the expression on vars; an error (a missing field, a wrong
// type, the cost limit) counts as false, with why.
func (c *compiled) eval(vars map[string]any) (bool, error) {
	out, _, err := c.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the expression gave %v, not true or false", out.Value())
	}
	return b, nil
}
