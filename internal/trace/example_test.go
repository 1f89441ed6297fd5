package trace_test

import (
	"os"

	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/internal/trace"
)

// A run that printed one line, as Perfetto and chrome://tracing read it:
// one track, named after the process and its pid, with its call as a
// slice, and instants for its start, its line and its exit.
func ExampleWrite() {
	code := 0
	log := []events.Event{
		{Seq: 1, T: 0, Type: events.TypeRun, Module: "hello.wasm", Version: events.Version},
		{Seq: 2, T: 600, Type: events.TypeStart, Process: "MainProcess", PID: 4100},
		{Seq: 3, T: 1000, Type: events.TypeCall, Process: "MainProcess", PID: 4100, Op: "proc_self",
			Result: "ok", Dur: 4},
		{Seq: 4, T: 1500, Type: events.TypeOutput, Process: "MainProcess", PID: 4100,
			Stream: "stdout", Text: "hello"},
		{Seq: 5, T: 2000, Type: events.TypeExit, Process: "MainProcess", PID: 4100, ExitCode: &code},
		{Seq: 6, T: 2100, Type: events.TypeEnd, Verdict: "ok"},
	}
	if err := trace.Write(os.Stdout, log); err != nil {
		panic(err)
	}
	// Output:
	// {"traceEvents":[
	// {"name":"process_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"sandbox run hello.wasm"}},
	// {"name":"process_sort_index","ph":"M","ts":0,"pid":1,"tid":1,"args":{"sort_index":0}},
	// {"name":"process_labels","ph":"M","ts":0,"pid":1,"tid":1,"args":{"labels":"verdict: ok"}},
	// {"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"MainProcess (pid 4100)"}},
	// {"name":"thread_sort_index","ph":"M","ts":0,"pid":1,"tid":1,"args":{"sort_index":1}},
	// {"name":"start","cat":"process","ph":"i","ts":600,"pid":1,"tid":1,"s":"t","args":{"pid":4100}},
	// {"name":"proc_self","cat":"call","ph":"X","ts":1000,"dur":4,"pid":1,"tid":1,"args":{"result":"ok","seq":3}},
	// {"name":"hello","cat":"stdout","ph":"i","ts":1500,"pid":1,"tid":1,"s":"t","args":{"stream":"stdout","text":"hello"}},
	// {"name":"exit 0","cat":"process","ph":"i","ts":2000,"pid":1,"tid":1,"s":"t","args":{"exit_code":0}},
	// {"name":"verdict: ok","cat":"run","ph":"i","ts":2100,"pid":1,"tid":1,"s":"g","args":{"verdict":"ok","dropped":0}}
	// ],
	// "displayTimeUnit":"ms",
	// "otherData":{"module":"hello.wasm","args":[],"schema_version":1,"verdict":"ok","dropped":0,"flows":0}}
}
