package trace

import (
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// track is one guest process: a thread of the trace process.
type track struct {
	name    string // the process's name
	pid     int    // its runner's OS pid (0: unknown)
	started bool   // a start event was seen
	parent  *track
	tid     int // its place in the trace, from 1 (see order)

	calls    []*call    // by time
	instants []*instant // by time of the event
	// starts holds the start of every slice of the track (ns), which an
	// instant must not share (see placeInstants).
	starts map[int64]bool
}

// label is the track's name in the trace: "Process-1 (pid 4242)".
func (t *track) label() string {
	name := t.name
	if name == "" {
		name = "(unnamed process)"
	}
	if t.pid == 0 {
		return name
	}
	return fmt.Sprintf("%s (pid %d)", name, t.pid)
}

// instant is an instant event on a track.
type instant struct {
	ts   int64 // ns
	name string
	cat  string
	args []arg
}

func (t *track) addInstant(tUS int64, name, cat string, args ...arg) {
	t.instants = append(t.instants, &instant{ts: us(tUS), name: name, cat: cat, args: args})
}

// order gives every track its tid: depth first from the processes that
// have no parent in the log, each followed by its children, all in the
// order they started; then the tracks of processes never seen starting.
func (b *builder) order() {
	children := map[*track][]*track{}
	var roots, unstarted []*track
	for _, t := range b.tracks {
		switch {
		case !t.started:
			unstarted = append(unstarted, t)
		case t.parent != nil && t.parent.started:
			children[t.parent] = append(children[t.parent], t)
		default:
			roots = append(roots, t)
		}
	}
	next := 1
	var visit func(t *track)
	visit = func(t *track) {
		if t.tid != 0 {
			return // a cycle of parents, which a log cannot hold
		}
		t.tid = next
		next++
		for _, c := range children[t] {
			visit(c)
		}
	}
	for _, t := range append(roots, unstarted...) {
		visit(t)
	}
	// A track still without a tid sits on a cycle of parents: give it one.
	for _, t := range b.tracks {
		visit(t)
	}
	slices.SortFunc(b.tracks, func(x, y *track) int { return x.tid - y.tid })
}

// outputName is the name of an output line's instant: the line, cut to
// maxName characters.
func outputName(text string) string {
	if text == "" {
		return "(empty line)"
	}
	return cut(text, maxName)
}

// maxName is the most characters of a line an instant's name shows; the
// whole line is in its args.
const maxName = 80

// cut returns s cut to at most n characters, ending with "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}

// exitName names an exit instant: "exit 0", "exit -15 SIGTERM by
// MainProcess".
func exitName(e *events.Event) string {
	name := "exit"
	if e.ExitCode != nil {
		name += " " + strconv.Itoa(*e.ExitCode)
	}
	if e.Signal != "" {
		name += " " + e.Signal
	}
	if e.By != "" {
		name += " by " + e.By
	}
	return name
}

func exitArgs(e *events.Event) []arg {
	var args []arg
	if e.ExitCode != nil {
		args = append(args, integer("exit_code", *e.ExitCode))
	}
	return append(args, str("signal", e.Signal), str("by", e.By), str("error", e.Error))
}
