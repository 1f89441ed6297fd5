package timeline

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sandbox-dev/sandbox/internal/events"
)

// The flags of TestScreenshot (see the package doc).
var (
	eventsFile = flag.String("events", "", "TestScreenshot: the events JSONL file of a run to draw (default $SANDBOX_EVENTS)")
	pngFile    = flag.String("png", "", "TestScreenshot: where to save the screenshot (default: the events file with .png)")
	pageWidth  = flag.Int("width", 1400, "TestScreenshot: the page's width in CSS pixels")
)

// chromium returns the path of Debian's chromium, or skips the test.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the browser tests need Debian's chromium package: run `make chromium` (apt-get install -y chromium)")
	return ""
}

// browser is one headless Chromium tab, with the page's console errors and
// uncaught exceptions collected as they come.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
	marks    map[string]bool
}

// newBrowser starts Chromium with a window of width×height CSS pixels; the
// test's cleanup stops it.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	b := &browser{ctx: ctx, marks: map[string]bool{}}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			switch {
			case m.IsException() || m.Type == chromedp.ConsoleError:
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
			case m.Type == chromedp.ConsoleInfo && strings.HasPrefix(m.Text, "test-sync-"):
				b.marks[m.Text] = true
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs actions with a deadline: a hung browser fails the test, not
// the whole run.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

// loaded says how long a page took to be ready, as the test saw it (from
// the navigation to data-ready) and as the page measured it (data-load-ms,
// since its navigation started), and how large it was.
type loaded struct {
	wall  time.Duration
	page  float64 // ms
	bytes int
}

func (l loaded) String() string {
	return fmt.Sprintf("%.1f MB of HTML ready in %v (page: %.0f ms since navigation)", float64(l.bytes)/1e6, l.wall.Round(time.Millisecond), l.page)
}

// load opens the page of evs and waits until it has drawn itself.
func (b *browser) load(t *testing.T, evs []events.Event) loaded {
	t.Helper()
	html := render(t, evs)
	path := filepath.Join(t.TempDir(), "timeline.html")
	if err := os.WriteFile(path, html, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b.do(t, "load "+path, chromedp.Navigate("file://"+path))
	// The page draws itself before its load event; the poll only guards
	// against a page whose script did not run (the console says why).
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`document.getElementById('timeline').dataset.ready || document.getElementById('timeline').dataset.error`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		b.checkConsole(t)
		t.Fatalf("the page never became ready: %v", err)
	}
	wall := time.Since(start)
	if msg := eval[string](t, b, `document.getElementById('timeline').dataset.error || ''`); msg != "" {
		t.Fatalf("the page failed to draw: %s", msg)
	}
	page, _ := strconv.ParseFloat(eval[string](t, b, `document.getElementById('timeline').dataset.loadMs`), 64)
	return loaded{wall: wall, page: page, bytes: len(html)}
}

// settle waits until the page has drawn its last change of view.
func (b *browser) settle(t *testing.T) {
	t.Helper()
	b.do(t, "wait for the page to redraw",
		chromedp.Poll[chromedp.Void](`!('pending' in document.getElementById('timeline').dataset)`, chromedp.WithPollingTimeout(30*time.Second)))
}

// viewJS is the range in view as the page's root element says it.
const viewJS = `(() => { const d = document.getElementById('timeline').dataset; return d.viewStart + '–' + d.viewEnd; })()`

// act runs an action that should change the view (a zoom or a pan), then
// waits until the page has a new view and has drawn it; a view that does
// not change fails the test.
func (b *browser) act(t *testing.T, what string, action chromedp.Action[chromedp.Void]) {
	t.Helper()
	before := eval[string](t, b, viewJS)
	b.do(t, what, action)
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`!('pending' in document.getElementById('timeline').dataset) && `+viewJS+` !== `+strconv.Quote(before),
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Errorf("%s: the view stayed %s (%v)", what, before, err)
	}
}

// checkConsole fails the test on any console error or uncaught exception
// so far. It first logs a marker and waits for it, so that every message the
// page wrote before has been read.
func (b *browser) checkConsole(t *testing.T) {
	t.Helper()
	mark := fmt.Sprintf("test-sync-%d", time.Now().UnixNano())
	b.do(t, "log a marker", chromedp.Evaluate[chromedp.Void](`console.info(`+strconv.Quote(mark)+`)`))
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		seen, problems := b.marks[mark], slices.Clone(b.problems)
		b.mu.Unlock()
		if seen {
			for _, p := range problems {
				t.Errorf("console: %s", p)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console marker %s never came back", mark)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot saves a PNG of the whole page.
func (b *browser) screenshot(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// artifact returns the path of a test artifact, under out/test-artifacts/
// at the root of the module.
func artifact(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "out", "test-artifacts", name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// steps runs actions one after another as one action.
func steps(actions ...chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, a := range actions {
			if _, err := a(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// snapshot is what the page drew, read from its DOM.
type snapshot struct {
	Lanes []struct {
		Process  string `json:"process"`
		PID      string `json:"pid"`
		ExitCode string `json:"exitCode"`
		Text     string `json:"text"`
	} `json:"lanes"`
	Runs    []map[string]string `json:"runs"`
	Arrows  []map[string]string `json:"arrows"`
	Blocked []map[string]string `json:"blocked"`
	Markers []map[string]string `json:"markers"`
	Links   []map[string]string `json:"links"`
	Syncs   []map[string]string `json:"syncs"`
	Panels  []struct {
		Process string              `json:"process"`
		Lines   []map[string]string `json:"lines"`
	} `json:"panels"`
	Header    map[string]string `json:"header"`
	ViewStart float64           `json:"viewStart"`
	ViewEnd   float64           `json:"viewEnd"`
	Elements  int               `json:"elements"`
	Pwned     bool              `json:"pwned"`
	Resources int               `json:"resources"`
}

// snapshotJS reads a snapshot: every element's data attributes, plus the
// text of its <title>.
const snapshotJS = `(() => {
  const root = document.getElementById('timeline');
  const data = (el) => {
    const o = Object.assign({}, el.dataset);
    const title = el.querySelector(':scope > title');
    if (title) o.title = title.textContent;
    if (el.classList.length) o.class = el.getAttribute('class');
    return o;
  };
  const all = (sel) => Array.from(document.querySelectorAll(sel), data);
  return {
    lanes: Array.from(document.querySelectorAll('#labels .lane-label'), (el) => ({
      process: el.dataset.process, pid: el.dataset.pid, exitCode: el.dataset.exitCode, text: el.textContent })),
    runs: all('#lanes rect.run'),
    arrows: all('#lanes .arrow'),
    blocked: all('#lanes .blocked'),
    markers: all('#lanes .marker'),
    links: all('#lanes .kill-link'),
    syncs: all('#lanes .sync'),
    panels: Array.from(document.querySelectorAll('#outputs .output-panel'), (p) => ({
      process: p.dataset.process,
      lines: Array.from(p.querySelectorAll('.output-line'), (li) => Object.assign({ text: li.textContent }, li.dataset)) })),
    header: {
      module: document.querySelector('#header .module').textContent,
      verdict: document.querySelector('#header .verdict').dataset.verdict,
      explanation: (document.querySelector('#header .explanation') || {}).textContent || '',
    },
    viewStart: Number(root.dataset.viewStart),
    viewEnd: Number(root.dataset.viewEnd),
    elements: Number(root.dataset.elements),
    pwned: window.__pwned !== undefined,
    resources: performance.getEntriesByType('resource').length,
  };
})()`

func (b *browser) snapshot(t *testing.T) snapshot {
	t.Helper()
	return eval[snapshot](t, b, snapshotJS)
}

// TestPage draws the known run and checks, through the DOM, that every
// process, message, wait, marker and line of output is there and matches
// its events; then that zoom and pan (buttons, wheel, drag, keys) change
// the range in view and draw only what is in it, without a script error.
func TestPage(t *testing.T) {
	b := newBrowser(t, 1400, 900)
	evs := knownRun()
	t.Logf("known run, %d events: %v", len(evs), b.load(t, evs))
	s := b.snapshot(t)

	t.Run("header", func(t *testing.T) {
		want := map[string]string{"module": "pipes_and_queues.wasm", "verdict": "ok", "explanation": "MainProcess exited with 0"}
		for k, v := range want {
			if s.Header[k] != v {
				t.Errorf("header %s = %q, want %q", k, s.Header[k], v)
			}
		}
		if s.Pwned {
			t.Error("a line of output ran as a script")
		}
		if s.Resources != 0 {
			t.Errorf("the page loaded %d resources, want none (self-contained)", s.Resources)
		}
	})

	t.Run("lanes", func(t *testing.T) {
		want := []struct{ process, pid, exit string }{
			{mainName, "4100", "0"}, {p1Name, "4101", "0"}, {p2Name, "4102", "-15"},
		}
		if len(s.Lanes) != len(want) {
			t.Fatalf("%d lanes, want %d: %+v", len(s.Lanes), len(want), s.Lanes)
		}
		for i, w := range want {
			l := s.Lanes[i]
			if l.Process != w.process || l.PID != w.pid || l.ExitCode != w.exit {
				t.Errorf("lane %d = %s pid %s exit %s, want %s pid %s exit %s", i, l.Process, l.PID, l.ExitCode, w.process, w.pid, w.exit)
			}
			for _, part := range []string{w.process, "pid " + w.pid, "exit " + w.exit} {
				if !strings.Contains(l.Text, part) {
					t.Errorf("lane %d's label %q lacks %q", i, l.Text, part)
				}
			}
		}
		if len(s.Runs) != 3 {
			t.Errorf("%d running bars, want 3", len(s.Runs))
		}
	})

	t.Run("arrows", func(t *testing.T) {
		type arrow struct{ from, to, op, object string }
		want := map[string]arrow{
			"pipe1:1":  {p1Name, mainName, "conn_send", "pipe 1"},
			"pipe1:2":  {p1Name, mainName, "conn_send", "pipe 1"},
			"pipe1:3":  {p1Name, mainName, "conn_send", "pipe 1"},
			"queue3:1": {p1Name, p2Name, "queue_put", "queue 3"},
		}
		if len(s.Arrows) != len(want) {
			t.Errorf("%d arrows, want %d (one per message received): %v", len(s.Arrows), len(want), s.Arrows)
		}
		for _, a := range s.Arrows {
			w, ok := want[a["msg"]]
			if !ok {
				t.Errorf("an arrow for message %q, which no event received", a["msg"])
				continue
			}
			got := arrow{a["from"], a["to"], a["op"], a["object"]}
			if got != w {
				t.Errorf("arrow %s = %+v, want %+v", a["msg"], got, w)
			}
			if !strings.Contains(a["title"], w.object) {
				t.Errorf("arrow %s's tooltip %q does not name %s", a["msg"], a["title"], w.object)
			}
			delete(want, a["msg"])
		}
		for m := range want {
			t.Errorf("no arrow for message %s", m)
		}
	})

	t.Run("blocked", func(t *testing.T) {
		var want []string
		for _, e := range evs {
			if e.BlockedDur > 0 {
				want = append(want, fmt.Sprintf("%s %s %s %d %d", e.Process, e.Op, e.ObjectName, e.Blocked, e.BlockedDur))
			}
		}
		var got []string
		for _, sp := range s.Blocked {
			got = append(got, fmt.Sprintf("%s %s %s %s %s", sp["process"], sp["op"], sp["object"], sp["t"], sp["dur"]))
			if !strings.Contains(sp["title"], sp["op"]) || !strings.Contains(sp["title"], sp["object"]) {
				t.Errorf("blocked span's tooltip %q lacks its op and object", sp["title"])
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("blocked spans:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("markers", func(t *testing.T) {
		count := map[string]int{}
		for _, m := range s.Markers {
			count[m["kind"]+" "+m["process"]]++
			switch {
			case m["kind"] == "terminate":
				if m["process"] != mainName || m["peer"] != p2Name {
					t.Errorf("terminate marker on %s for %s, want on %s for %s", m["process"], m["peer"], mainName, p2Name)
				}
			case m["kind"] == "exit" && m["process"] == p2Name:
				if m["signal"] != "SIGTERM" || m["by"] != mainName || m["exitCode"] != "-15" {
					t.Errorf("%s's exit marker = %v, want exit -15 by SIGTERM from %s", p2Name, m, mainName)
				}
				if !strings.Contains(m["title"], "SIGTERM") {
					t.Errorf("%s's exit tooltip %q does not name SIGTERM", p2Name, m["title"])
				}
			case m["kind"] == "unreceived":
				if m["msg"] != "queue3:2" {
					t.Errorf("message %s marked as never received, want queue3:2", m["msg"])
				}
			}
		}
		want := map[string]int{
			"start " + mainName: 1, "start " + p1Name: 1, "start " + p2Name: 1,
			"exit " + mainName: 1, "exit " + p1Name: 1, "exit " + p2Name: 1,
			"terminate " + mainName: 1, "unreceived " + p1Name: 1,
			"output " + mainName: 3, "output " + p1Name: 1, "output " + p2Name: 2,
		}
		for k, n := range want {
			if count[k] != n {
				t.Errorf("%d %s markers, want %d", count[k], k, n)
			}
		}
		for k, n := range count {
			if want[k] == 0 {
				t.Errorf("%d unexpected %s markers", n, k)
			}
		}
		if len(s.Links) != 1 || s.Links[0]["from"] != mainName || s.Links[0]["to"] != p2Name {
			t.Errorf("terminate links = %v, want one from %s to %s", s.Links, mainName, p2Name)
		}
		if len(s.Syncs) != 1 || s.Syncs[0]["object"] != "barrier 4" {
			t.Errorf("barrier rounds = %v, want one of barrier 4", s.Syncs)
		}
	})

	t.Run("output", func(t *testing.T) {
		want := map[string][]string{}
		for _, e := range evs {
			if e.Type == events.TypeOutput {
				want[e.Process] = append(want[e.Process], fmt.Sprintf("%d %s %s", e.T, e.Stream, e.Text))
			}
		}
		if len(s.Panels) != 3 {
			t.Fatalf("%d output panels, want 3", len(s.Panels))
		}
		for i, p := range s.Panels {
			if p.Process != s.Lanes[i].Process {
				t.Errorf("output panel %d is %s's, beside %s's lane", i, p.Process, s.Lanes[i].Process)
			}
			var got []string
			for _, l := range p.Lines {
				got = append(got, fmt.Sprintf("%s %s %s", l["t"], l["stream"], l["text"]))
			}
			if !slices.Equal(got, want[p.Process]) {
				t.Errorf("%s's output panel:\n got %q\nwant %q", p.Process, got, want[p.Process])
			}
		}
		found := false
		for _, m := range s.Markers {
			if m["kind"] == "output" && strings.Contains(m["title"], evilLine) {
				found = true
			}
		}
		if !found {
			t.Errorf("no output marker's tooltip holds the line %q", evilLine)
		}
	})

	b.screenshot(t, artifact(t, "timeline-known.png"))
	zoomAndPan(t, b, s)
	b.checkConsole(t)
}

// zoomAndPan drives the view with every control and checks the range in
// view after each, and that what is drawn lies in it.
func zoomAndPan(t *testing.T, b *browser, full snapshot) {
	t.Helper()
	rect := eval[struct{ X, Y, W, H float64 }](t, b,
		`(() => { const r = document.getElementById('chart').getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`)
	x, y := rect.X+rect.W/2, rect.Y+20
	view := full
	span := func(s snapshot) float64 { return s.ViewEnd - s.ViewStart }
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1+1e-6*math.Abs(b) }
	step := func(name string, act chromedp.Action[chromedp.Void], check func(before, after snapshot) string) {
		t.Helper()
		b.act(t, name, act)
		after := b.snapshot(t)
		if msg := check(view, after); msg != "" {
			t.Errorf("%s: %s (view %.1f–%.1f → %.1f–%.1f)", name, msg, view.ViewStart, view.ViewEnd, after.ViewStart, after.ViewEnd)
		}
		for _, a := range after.Arrows {
			t1, _ := strconv.ParseFloat(a["t"], 64)
			t2, _ := strconv.ParseFloat(a["tRecv"], 64)
			if math.Max(t1, t2) < after.ViewStart-1 || math.Min(t1, t2) > after.ViewEnd+1 {
				t.Errorf("%s: arrow %s (%.0f–%.0f) drawn outside the view %.1f–%.1f", name, a["msg"], t1, t2, after.ViewStart, after.ViewEnd)
			}
		}
		view = after
	}
	zoomed := func(factor float64) func(before, after snapshot) string {
		return func(before, after snapshot) string {
			if !near(span(after), span(before)*factor) {
				return fmt.Sprintf("span %.1f, want %.1f", span(after), span(before)*factor)
			}
			return ""
		}
	}
	panned := func(dir float64) func(before, after snapshot) string {
		return func(before, after snapshot) string {
			if !near(span(after), span(before)) {
				return fmt.Sprintf("span changed from %.1f to %.1f", span(before), span(after))
			}
			if (after.ViewStart-before.ViewStart)*dir <= 0 {
				return fmt.Sprintf("the view did not move %s", map[bool]string{true: "right", false: "left"}[dir > 0])
			}
			return ""
		}
	}
	click := func(id string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.ID(id)) }
	mouse := func(typ input.DispatchMouseEventType, x float64, opts ...chromedp.MouseOption) chromedp.Action[chromedp.Void] {
		return chromedp.MouseEvent(typ, x, y, opts...)
	}
	// wheel sets a wheel event's deltas; Chrome wants both, and the
	// protocol's encoding leaves out a zero, so zero is sent as a hair.
	wheel := func(dx, dy float64) chromedp.MouseOption {
		return func(p *input.DispatchMouseEventParams) {
			p.DeltaX, p.DeltaY = dx, dy
			if p.DeltaX == 0 {
				p.DeltaX = 1e-6
			}
		}
	}
	pressed := func(p *input.DispatchMouseEventParams) {
		p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
	}

	step("zoom-in button", click("zoom-in"), zoomed(0.5))
	step("zoom-in button again", click("zoom-in"), zoomed(0.5))
	step("wheel up", mouse(chromedp.MouseWheel, rect.X+rect.W/4, wheel(0, -200)),
		func(before, after snapshot) string {
			if span(after) >= span(before) {
				return "the wheel did not zoom in"
			}
			// The time under the cursor stays put.
			under := before.ViewStart + span(before)/4
			if got := after.ViewStart + span(after)/4; !near(got, under) {
				return fmt.Sprintf("the time under the cursor moved from %.1f to %.1f", under, got)
			}
			return ""
		})
	step("drag right", steps(
		mouse(chromedp.MousePressed, x, pressed),
		mouse(chromedp.MouseMoved, x+60, pressed),
		mouse(chromedp.MouseMoved, x+150, pressed),
		mouse(chromedp.MouseReleased, x+150, pressed),
	), panned(-1))
	step("key ArrowRight", chromedp.KeyEvent(kb.ArrowRight), panned(1))
	step("key -", chromedp.KeyEvent("-"), zoomed(2))
	step("pan-left button", click("pan-left"), panned(-1))
	step("shift+wheel", mouse(chromedp.MouseWheel, x, wheel(0, 120), chromedp.ButtonModifiers(kb.ModifierShift)), panned(1))
	step("wheel down", mouse(chromedp.MouseWheel, x, wheel(0, 300)),
		func(before, after snapshot) string {
			if span(after) <= span(before) {
				return "the wheel did not zoom out"
			}
			return ""
		})
	step("fit button", click("zoom-fit"), func(_, after snapshot) string {
		if !near(after.ViewStart, full.ViewStart) || !near(after.ViewEnd, full.ViewEnd) {
			return fmt.Sprintf("fit shows %.1f–%.1f, want the whole run %.1f–%.1f", after.ViewStart, after.ViewEnd, full.ViewStart, full.ViewEnd)
		}
		if len(after.Arrows) != len(full.Arrows) || len(after.Markers) != len(full.Markers) {
			return fmt.Sprintf("fit draws %d arrows and %d markers, want %d and %d", len(after.Arrows), len(after.Markers), len(full.Arrows), len(full.Markers))
		}
		return ""
	})
}

// TestPageEdgeCases draws logs that lack things: no events at all, a log
// cut short (no exits, no end), and two processes of one name.
func TestPageEdgeCases(t *testing.T) {
	b := newBrowser(t, 1000, 700)
	twins := record([]events.Event{
		{T: 0, Type: events.TypeRun, Module: "twins.wasm"},
		{T: 10, Type: events.TypeStart, Process: mainName, PID: 10},
		{T: 20, Type: events.TypeStart, Process: "worker", PID: 11, Parent: mainName, ParentPID: 10},
		{T: 30, Type: events.TypeStart, Process: "worker", PID: 12, Parent: mainName, ParentPID: 10},
		{T: 40, Type: events.TypeOutput, Process: "worker", PID: 12, Stream: "stdout", Text: "second"},
		{T: 50, Type: events.TypeCall, Process: mainName, PID: 10, Op: "proc_kill", Result: "ok", Dur: 5, Peer: "worker"},
		{T: 60, Type: events.TypeExit, Process: "worker", PID: 12, ExitCode: intp(-9), Signal: "SIGKILL", By: mainName},
		{T: 70, Type: events.TypeExit, Process: "worker", PID: 11, ExitCode: intp(1), Error: "wasm error: unreachable"},
		{T: 80, Type: events.TypeExit, Process: mainName, PID: 10, ExitCode: intp(1)},
		{T: 90, Type: events.TypeEnd, Verdict: "exit", Explanation: "MainProcess exited with code 1"},
	})
	for _, c := range []struct {
		name  string
		evs   []events.Event
		lanes []string
	}{
		{"no events", nil, nil},
		{"cut short", knownRun()[:12], []string{mainName + " 4100 ", p1Name + " 4101 ", p2Name + " 4102 "}},
		{"twins", twins, []string{mainName + " 10 1", "worker 11 1", "worker 12 -9"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.load(t, c.evs)
			b.do(t, "zoom", chromedp.Click(chromedp.ID("zoom-in")), chromedp.KeyEvent("-"), chromedp.KeyEvent(kb.ArrowLeft))
			b.settle(t)
			s := b.snapshot(t)
			var lanes []string
			for _, l := range s.Lanes {
				lanes = append(lanes, l.Process+" "+l.PID+" "+l.ExitCode)
			}
			if !slices.Equal(lanes, c.lanes) {
				t.Errorf("lanes %q, want %q", lanes, c.lanes)
			}
			b.checkConsole(t)
		})
	}
}

// TestLargeRun loads a synthetic run of 50 processes and 100,000 events,
// logs how long the page took to be ready, and checks that it draws a
// bounded number of elements and stays responsive to zoom and pan.
func TestLargeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the large run takes a few seconds")
	}
	b := newBrowser(t, 1400, 900)
	evs := largeRun(50, 100_000)
	l := b.load(t, evs)
	t.Logf("50 processes, 100000 events: %v", l)
	if l.wall > time.Minute {
		t.Errorf("the page took %v to be ready, want well under a minute", l.wall)
	}
	s := b.snapshot(t)
	if len(s.Lanes) != 50 {
		t.Errorf("%d lanes, want 50", len(s.Lanes))
	}
	const maxElements = 30_000
	if s.Elements > maxElements || s.Elements == 0 {
		t.Errorf("the whole run draws %d elements, want between 1 and %d", s.Elements, maxElements)
	}
	t.Logf("whole run: %d SVG elements drawn (%d arrows, %d blocked spans, %d markers)", s.Elements, len(s.Arrows), len(s.Blocked), len(s.Markers))
	// Merged elements count what they stand for: every message and every
	// line of output is drawn once.
	var messages, lines int
	for _, e := range evs {
		switch {
		case e.Msg != "" && (e.Op == "queue_get" || e.Op == "conn_recv"):
			messages++
		case e.Type == events.TypeOutput:
			lines++
		}
	}
	counted := func(elems []map[string]string, kind string) (n, merged int) {
		for _, e := range elems {
			if kind != "" && e["kind"] != kind {
				continue
			}
			c := 1
			if e["count"] != "" {
				c, _ = strconv.Atoi(e["count"])
				merged++
			}
			n += c
		}
		return n, merged
	}
	if n, merged := counted(s.Arrows, ""); n != messages || merged == 0 {
		t.Errorf("the arrows stand for %d messages (%d merged elements), want all %d, merged", n, merged, messages)
	}
	if n, merged := counted(s.Markers, "output"); n != lines || merged == 0 {
		t.Errorf("the output ticks stand for %d lines (%d merged elements), want all %d, merged", n, merged, lines)
	}
	b.screenshot(t, artifact(t, "timeline-large.png"))

	// Zoom in on the middle until single messages show.
	for range 8 {
		start := time.Now()
		b.act(t, "zoom in", chromedp.Click(chromedp.ID("zoom-in")))
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a zoom took %v to draw", d)
		}
	}
	z := b.snapshot(t)
	single := 0
	for _, a := range z.Arrows {
		if a["msg"] != "" {
			single++
		}
	}
	t.Logf("zoomed ×256: view %.0f–%.0f µs, %d elements, %d arrows of one message each", z.ViewStart, z.ViewEnd, z.Elements, single)
	if single == 0 {
		t.Error("zoomed in ×256, no arrow stands for one message")
	}
	b.act(t, "pan right", chromedp.KeyEvent(kb.ArrowRight))
	b.act(t, "whole run", chromedp.KeyEvent("0"))
	b.checkConsole(t)
}

// TestScreenshot draws a real run's events and saves a screenshot of the
// page: go test ./internal/timeline -run TestScreenshot -args -events
// FILE.jsonl [-png OUT.png] [-width 1400], or with SANDBOX_EVENTS=FILE.jsonl.
// It skips when given no events file.
func TestScreenshot(t *testing.T) {
	file := *eventsFile
	if file == "" {
		file = os.Getenv("SANDBOX_EVENTS")
	}
	if file == "" {
		t.Skip("no events file: pass -args -events FILE.jsonl, or set SANDBOX_EVENTS")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := events.ReadJSONL(f)
	f.Close()
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	out := *pngFile
	if out == "" {
		out = strings.TrimSuffix(file, filepath.Ext(file)) + ".png"
	}
	b := newBrowser(t, *pageWidth, 900)
	t.Logf("%s, %d events: %v", file, len(evs), b.load(t, evs))
	b.screenshot(t, out)
	b.checkConsole(t)
}
