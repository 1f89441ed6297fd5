package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// viewFlagsFor returns the flags that write every view of a run into dir.
func viewFlagsFor(dir string) []string {
	return []string{
		"--events", filepath.Join(dir, "run.jsonl"),
		"--trace", filepath.Join(dir, "run.trace.json"),
		"--timeline", filepath.Join(dir, "run.html"),
	}
}

// checkViews checks the views a run wrote into dir (viewFlagsFor) against
// what it printed: the event log begins with the run and ends with its
// verdict, has a start and an exit for every process and a line for every
// line printed; the timeline is one self-contained page holding the log.
func checkViews(t *testing.T, dir, stdout, stderr string) {
	t.Helper()
	evs := readEvents(t, filepath.Join(dir, "run.jsonl"))
	if len(evs) < 2 || evs[0].Type != events.TypeRun || evs[len(evs)-1].Type != events.TypeEnd {
		t.Fatalf("the event log does not begin with the run and end with its end (%d events)", len(evs))
	}
	starts, exits, lines := 0, 0, 0
	for _, e := range evs {
		switch e.Type {
		case events.TypeStart:
			starts++
		case events.TypeExit:
			exits++
		case events.TypeOutput:
			lines++
		}
	}
	if starts == 0 || starts != exits {
		t.Errorf("%d starts and %d exits in the event log", starts, exits)
	}
	if printed := strings.Count(stdout, "\n") + strings.Count(stderr, "\n"); lines != printed {
		t.Errorf("%d lines of output in the event log, %d printed", lines, printed)
	}
	checkTrace(t, filepath.Join(dir, "run.trace.json"), starts)
	page, err := os.ReadFile(filepath.Join(dir, "run.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<script type="application/json" id="events">`, evs[0].Module} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the timeline does not hold %q", want)
		}
	}
	for _, remote := range []string{`src="http`, `href="http`, `@import`} {
		if bytes.Contains(page, []byte(remote)) {
			t.Errorf("the timeline loads something from outside: %q", remote)
		}
	}
}

// checkTrace checks the frame of a Chrome trace: valid JSON, a named track
// per process, every flow's start matched by its finish.
func checkTrace(t *testing.T, path string, processes int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		TraceEvents []struct {
			Ph   string         `json:"ph"`
			Name string         `json:"name"`
			ID   any            `json:"id"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("trace: %v", err)
	}
	tracks := 0
	flows := map[string]int{}
	for _, e := range tr.TraceEvents {
		switch {
		case e.Ph == "M" && e.Name == "thread_name":
			tracks++
		case e.Ph == "s":
			flows[fmt.Sprint(e.ID)]++
		case e.Ph == "f":
			flows[fmt.Sprint(e.ID)]--
		}
	}
	if tracks != processes {
		t.Errorf("the trace has %d named tracks, the run %d processes", tracks, processes)
	}
	for id, n := range flows {
		if n != 0 {
			t.Errorf("flow %s: starts and finishes differ by %d", id, n)
		}
	}
}
