// Package timeline writes the events of a run (package events) as one
// self-contained HTML page that draws it: a lane per process, in
// parent/child order, labelled with its name, pid and exit code; a bar while
// it ran and, over it, a span for every call that waited for another process
// (titled with the op and the object); an arrow from every send or put to
// the receive or get that took its message; markers where a process started,
// asked for another's terminate or kill, and exited (with the signal and who
// sent it); and each process's output, as ticks on its lane (the line on
// hover) and as a panel of timed lines beside it. The wheel zooms the time
// axis, a drag or shift+wheel pans it, and buttons and keys (+ − ← → 0) do
// both.
//
// The page needs nothing but itself: its script and style are embedded
// (page.html, timeline.js, timeline.css, with go:embed) and the events go in
// as JSON inside a <script type="application/json">, with <, > and & escaped
// so that no text of the run can close the element. A Content-Security-Policy
// lets the page load nothing and run no script but its own (by hash): the
// file can be opened offline, mailed, or attached to a CI run.
//
// Large runs stay usable: the page draws only the time range in view, and
// where a lane has more spans, ticks or arrows in view than it can show, it
// merges those that fall within a few pixels into one element that counts
// them (data-count). A run of 50 processes and 100,000 events (23 MB of
// HTML) is ready in one to two seconds in headless Chromium on a 2-core
// machine, and draws some 4,000 elements (TestLargeRun logs both).
//
// The page is tested in a real headless Chromium driven by chromedp; the
// tests skip when no chromium binary is found (`make chromium` installs
// Debian's). To draw a real run and keep a screenshot of it, e.g. for the
// README:
//
//	sandbox run --events run.jsonl guests/communicating_with_pipe.wasm
//	go test ./internal/timeline -run TestScreenshot -args -events $PWD/run.jsonl -png $PWD/run.png
//
// or SANDBOX_EVENTS=$PWD/run.jsonl go test ./internal/timeline -run TestScreenshot,
// which writes run.png next to the events file. Give absolute paths: go
// test runs in internal/timeline. -width sets the page's width in CSS pixels
// (1400 by default); the screenshot holds the whole page, every lane.
package timeline

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/sandbox-dev/sandbox/internal/events"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed timeline.js
	pageScript string
	//go:embed timeline.css
	pageStyle string
)

// page is parsed once, on first use (not at every start of the binary,
// which every runner is); html/template escapes the header's text, and the
// style, script and events go in verbatim as typed values (see Write).
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page.html").Parse(pageHTML))
})

// scriptHash is the CSP source that lets the embedded script, and only it,
// run (made on first use, as the template: every runner is this binary).
var scriptHash = sync.OnceValue(func() string {
	sum := sha256.Sum256([]byte(pageScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
})

// header is what the page shows above the lanes, taken from the run and end
// events.
type header struct {
	Module      string
	Args        string
	Verdict     string
	Explanation string
	Processes   int
	Events      int
	Dropped     int64
	// Ended is false when the log has no end event (a run still going, or
	// a log cut short).
	Ended bool
}

// pageData fills page.html.
type pageData struct {
	Title      string
	ScriptHash string
	Header     header
	Style      template.CSS
	Script     template.JS
	Events     template.JS
}

// Write writes the HTML page that draws evs, a run's events in the order of
// its log. The page shows whatever it is given: a log without run or end
// events (cut short, or of a run still going) draws what it has.
func Write(w io.Writer, evs []events.Event) error {
	data, err := eventsJSON(evs)
	if err != nil {
		return err
	}
	h := headerOf(evs)
	title := "sandbox timeline"
	if h.Module != "" {
		title = h.Module + " – " + title
	}
	bw := bufio.NewWriter(w)
	err = page().Execute(bw, pageData{
		Title:      title,
		ScriptHash: scriptHash(),
		Header:     h,
		Style:      template.CSS(pageStyle),
		Script:     template.JS(pageScript),
		Events:     template.JS(data),
	})
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return bw.Flush()
}

// eventsJSON encodes evs as one JSON array that is safe inside a <script>
// element: encoding/json escapes <, > and & (so no "</script>" or "<!--"
// can appear) and U+2028 and U+2029.
func eventsJSON(evs []events.Event) ([]byte, error) {
	if evs == nil {
		evs = []events.Event{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(evs); err != nil {
		return nil, fmt.Errorf("timeline: encode events: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// headerOf reads the module, verdict and counts of a run from its events.
func headerOf(evs []events.Event) header {
	h := header{Events: len(evs)}
	for i := range evs {
		e := &evs[i]
		switch e.Type {
		case events.TypeRun:
			h.Module = e.Module
			h.Args = strings.Join(e.Args, " ")
		case events.TypeStart:
			h.Processes++
		case events.TypeEnd:
			h.Ended = true
			h.Verdict = e.Verdict
			h.Explanation = e.Explanation
			h.Dropped = e.Dropped
		}
	}
	return h
}
