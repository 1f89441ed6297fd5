// Package events is the event log of a run: what every process did, one
// flat record per event, as the host saw it. The host builds events only
// when a log is asked for (--events, --trace, --timeline); the log holds a
// bounded number and counts what it dropped. The JSON form of an Event is
// the line format of `sandbox run --events FILE.jsonl`, documented in
// docs/EVENTS.md (schema version Version); the Chrome trace and the HTML
// timeline are drawn from the same events.
package events

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Version is the version of the event schema. It changes only when a
// field changes meaning or goes away; new fields and types may be added.
const Version = 1

// The event types.
const (
	// TypeRun is the first event: the module, its arguments and the
	// schema version.
	TypeRun = "run"
	// TypeStart: a process's runner started (PID, Parent, Daemon).
	TypeStart = "start"
	// TypeCall: a process called an import (Op) and got an answer
	// (Result, Error); Dur is how long the host took, Blocked/BlockedDur
	// when it waited for another process.
	TypeCall = "call"
	// TypeOutput: a process printed a line (Stream, Text).
	TypeOutput = "output"
	// TypeExit: a process ended (ExitCode, Signal, By, Error).
	TypeExit = "exit"
	// TypeEnd is the last event: the verdict of the run, and how many
	// events were dropped.
	TypeEnd = "end"
)

// Event is one thing that happened in a run. Fields that do not apply to
// an event's Type are left out of its JSON.
type Event struct {
	// Seq numbers events 1, 2, ... in the order the host recorded them
	// (a call is recorded when it ends); T is when the event began, in
	// microseconds since the run started.
	Seq  int64  `json:"seq"`
	T    int64  `json:"t_us"`
	Type string `json:"type"`
	// Process is the name of the process the event is about (the caller
	// of a call), PID its pid, Handle its handle in the ABI.
	Process string `json:"process,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Handle  int32  `json:"handle,omitempty"`

	// start: the parent process (absent for MainProcess) and its pid;
	// the OS pid of its runner when that is not its pid (runner reuse);
	// whether its runner interprets the module (its first run, while the
	// machine code compiles); whether the process is a daemon; its target
	// (as the SDK names it).
	Parent      string `json:"parent,omitempty"`
	ParentPID   int    `json:"parent_pid,omitempty"`
	RunnerPID   int    `json:"runner_pid,omitempty"`
	Interpreted bool   `json:"interpreted,omitempty"`
	Daemon      bool   `json:"daemon,omitempty"`
	Target      string `json:"target,omitempty"`

	// call: the import (as docs/ABI.md names it: "queue_put"), and the
	// object it acted on: its handle, kind ("pipe", "queue", "lock",
	// "rlock", "semaphore", "event", "condition", "barrier", "manager",
	// "process") and a name ("queue 3", or the process's name).
	Op         string `json:"op,omitempty"`
	Object     int32  `json:"object,omitempty"`
	ObjectKind string `json:"object_kind,omitempty"`
	ObjectName string `json:"object_name,omitempty"`
	// Result is "ok", the errno's name ("EEMPTY"), or "interrupted" when
	// the process ended during the call; Error says why when not ok.
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	// Dur is how long the call took, in µs; Blocked is when it began to
	// wait for another process and BlockedDur how long it waited (absent
	// when it did not wait).
	Dur        int64 `json:"dur_us,omitempty"`
	Blocked    int64 `json:"blocked_us,omitempty"`
	BlockedDur int64 `json:"blocked_dur_us,omitempty"`
	// Posted says the process did not wait for the call's answer (it
	// called queue_post, which posts queue_put; docs/ABI.md, "Posted
	// calls"): the time is the host's, and an error reached nobody.
	Posted bool `json:"posted,omitempty"`
	// Runner says the process's runner served the call itself (a direct
	// pipe or lock): the times are the runner's, and the record reached
	// the host in a batch, maybe after later events of other processes.
	Runner bool `json:"runner,omitempty"`
	// Size is the bytes of the message or value sent, put, received, got
	// or set; Preview its first bytes as text ("…" when cut).
	Size    int    `json:"size,omitempty"`
	Preview string `json:"preview,omitempty"`
	// Msg identifies a message: the same string in the send or put that
	// made it and in the receive or get that took it.
	Msg string `json:"msg,omitempty"`
	// Generation is a barrier's round that a wait took part in (0 first).
	Generation *int `json:"generation,omitempty"`
	// Peer is the other process of a process operation (the one started,
	// joined, terminated or killed), PeerPID its pid (0 before it started).
	Peer    string `json:"peer,omitempty"`
	PeerPID int    `json:"peer_pid,omitempty"`

	// output: "stdout" or "stderr", and the line without its newline.
	Stream string `json:"stream,omitempty"`
	Text   string `json:"text,omitempty"`

	// exit: the exit code as CPython's exitcode (-N for signal N), the
	// signal's name when killed, the process that terminated or killed
	// it (absent when none did), and the first line of its trap or crash.
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
	By       string `json:"by,omitempty"`
	ByPID    int    `json:"by_pid,omitempty"`

	// run: the module's file name, the guest's arguments and the schema
	// version.
	Module  string   `json:"module,omitempty"`
	Args    []string `json:"args,omitempty"`
	Version int      `json:"version,omitempty"`

	// end: the verdict and its explanation, and how many events the log
	// dropped (its limit reached).
	Verdict     string `json:"verdict,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	Dropped     int64  `json:"dropped,omitempty"`
}

// DefaultMax is the default bound on the events a log keeps: about 300
// bytes each in memory, so some 75 MiB at most.
const DefaultMax = 250_000

// Log is a bounded, concurrency-safe list of events. Past Max events it
// keeps the processes' start and exit events (their number is bounded by
// the run's process limit) and drops, and counts, the others.
type Log struct {
	max int

	mu      sync.Mutex
	events  []Event
	dropped int64
}

// NewLog returns a log that keeps at most max events (0: DefaultMax).
func NewLog(max int) *Log {
	if max <= 0 {
		max = DefaultMax
	}
	return &Log{max: max}
}

// Add appends e, numbering it. It never blocks on anything but the log's
// own lock.
func (l *Log) Add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) >= l.max && e.Type != TypeStart && e.Type != TypeExit && e.Type != TypeEnd && e.Type != TypeRun {
		l.dropped++
		return
	}
	e.Seq = int64(len(l.events)) + 1
	l.events = append(l.events, e)
}

// Events returns the events so far, and how many were dropped.
func (l *Log) Events() ([]Event, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events[:len(l.events):len(l.events)], l.dropped
}

// WriteJSONL writes events as JSON lines.
func WriteJSONL(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("event %d: %w", events[i].Seq, err)
		}
	}
	return bw.Flush()
}

// ReadJSONL reads events written by WriteJSONL.
func ReadJSONL(r io.Reader) ([]Event, error) {
	dec := json.NewDecoder(r)
	var out []Event
	for {
		var e Event
		err := dec.Decode(&e)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("event %d: %w", len(out)+1, err)
		}
		out = append(out, e)
	}
}
