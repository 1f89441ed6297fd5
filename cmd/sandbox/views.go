package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/sandbox-dev/sandbox/internal/events"
	"github.com/sandbox-dev/sandbox/internal/timeline"
	"github.com/sandbox-dev/sandbox/internal/trace"
)

// viewFlags are the flags that ask for the event log of a run and the
// views drawn from it.
type viewFlags struct {
	events    string // --events FILE.jsonl
	trace     string // --trace FILE.json
	timeline  string // --timeline FILE.html
	maxEvents int    // --max-events
	log       *events.Log
}

func (v *viewFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&v.events, "events", "", "write the run's event log, as JSON lines (docs/EVENTS.md), to this file")
	fs.StringVar(&v.trace, "trace", "", "write the run as a Chrome trace (Perfetto, chrome://tracing) to this file")
	fs.StringVar(&v.timeline, "timeline", "", "write the run drawn as a timeline, one self-contained HTML page, to this file")
	fs.IntVar(&v.maxEvents, "max-events", events.DefaultMax, "most events the log keeps (past it, calls and output lines are dropped and counted)")
}

// makeLog makes the event log for the host when a view was asked for;
// otherwise v.log stays nil: no log, no cost.
func (v *viewFlags) makeLog() {
	if v.events != "" || v.trace != "" || v.timeline != "" {
		v.log = events.NewLog(v.maxEvents)
	}
}

// write writes every view asked for.
func (v *viewFlags) write() error {
	if v.log == nil {
		return nil
	}
	evs, _ := v.log.Events()
	if v.events != "" {
		if err := writeFile(v.events, func(w io.Writer) error { return events.WriteJSONL(w, evs) }); err != nil {
			return fmt.Errorf("--events: %w", err)
		}
	}
	if v.trace != "" {
		if err := writeFile(v.trace, func(w io.Writer) error { return trace.Write(w, evs) }); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
	}
	if v.timeline != "" {
		if err := writeFile(v.timeline, func(w io.Writer) error { return timeline.Write(w, evs) }); err != nil {
			return fmt.Errorf("--timeline: %w", err)
		}
	}
	return nil
}

// writeFile writes a file whole or not at all: into a temporary file
// beside it, renamed at the end.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
