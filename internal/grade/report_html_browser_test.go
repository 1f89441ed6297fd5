package grade

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests of the HTML report drive a real headless Chromium with
// chromedp, as internal/timeline's do, and skip when there is none (`make
// chromium` installs Debian's).

// htmlChromium returns the path of Debian's chromium, or skips the test.
func htmlChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the browser tests need Debian's chromium package: run `make chromium` (apt-get install -y chromium)")
	return ""
}

// htmlBrowser is one headless Chromium tab, with the page's console errors
// and uncaught exceptions collected as they come.
type htmlBrowser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
	marks    map[string]bool
}

// newHTMLBrowser starts Chromium with a window of width×height CSS pixels;
// the test's cleanup stops it.
func newHTMLBrowser(t *testing.T, width, height int) *htmlBrowser {
	t.Helper()
	path := htmlChromium(t)
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
	b := &htmlBrowser{ctx: ctx, marks: map[string]bool{}}
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

// do runs actions with a deadline: a hung browser fails the test, not the
// whole run.
func (b *htmlBrowser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// htmlEval evaluates a JavaScript expression in the page and decodes its
// value.
func htmlEval[T any](t *testing.T, b *htmlBrowser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, or fails the test
// with what the page shows instead.
func (b *htmlBrowser) waitFor(t *testing.T, what, cond, show string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%s: never came (%v); the page shows %s", what, err, htmlEval[string](t, b, show))
	}
}

// load opens a page and waits until its script has run.
func (b *htmlBrowser) load(t *testing.T, path string) {
	t.Helper()
	b.do(t, "load "+path, chromedp.Navigate("file://"+path))
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.getElementById('report').dataset.ready`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		b.checkConsole(t)
		t.Fatalf("the page's script never ran: %v", err)
	}
}

// checkConsole fails the test on any console error (a page that breaks its
// policy says so there) or uncaught exception so far. It first logs a
// marker and waits for it, so that every message the page wrote before has
// been read.
func (b *htmlBrowser) checkConsole(t *testing.T) {
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
func (b *htmlBrowser) screenshot(t *testing.T, path string) {
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

// htmlArtifact returns the path of a test artifact, under
// out/test-artifacts/ at the root of the module.
func htmlArtifact(t *testing.T, name string) string {
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

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// htmlTable is the table as the page shows it.
type htmlTable struct {
	Columns []string `json:"columns"`
	Rows    []struct {
		Student string `json:"student"`
		Visible bool   `json:"visible"`
		Total   string `json:"total"`
		Cells   []struct {
			Exercise string `json:"exercise"`
			State    string `json:"state"`
			Score    string `json:"score"`
			Max      string `json:"max"`
			Text     string `json:"text"`
		} `json:"cells"`
	} `json:"rows"`
	Shown    string `json:"shown"`
	Sort     string `json:"sort"`
	SortDir  string `json:"sortDir"`
	AriaSort string `json:"ariaSort"`
	FootLast bool   `json:"footLast"`
}

const htmlTableJS = `(() => {
  const root = document.getElementById('report');
  const sorted = document.querySelector('#grades > thead th[aria-sort]');
  return {
    columns: Array.from(document.querySelectorAll('#grades > thead th.col-exercise')).map((th) => th.dataset.exercise),
    rows: Array.from(document.querySelectorAll('#grades > tbody.student')).map((tb) => ({
      student: tb.dataset.student,
      visible: !tb.hidden && tb.getClientRects().length > 0,
      total: tb.querySelector(':scope > tr.scores > td.total').dataset.score,
      cells: Array.from(tb.querySelectorAll(':scope > tr.scores > td.cell')).map((td) => ({
        exercise: td.dataset.exercise, state: td.dataset.state, score: td.dataset.score || '', max: td.dataset.max || '',
        text: td.querySelector('.score').textContent,
      })),
    })),
    shown: root.dataset.shown, sort: root.dataset.sort, sortDir: root.dataset.sortDir,
    ariaSort: sorted ? sorted.dataset.col + ' ' + sorted.getAttribute('aria-sort') : '',
    footLast: document.getElementById('grades').lastElementChild.tagName === 'TFOOT',
  };
})()`

// order returns the students of the table's rows, in order, and which show.
func (tb htmlTable) order() (all, visible []string) {
	for _, r := range tb.Rows {
		all = append(all, r.Student)
		if r.Visible {
			visible = append(visible, r.Student)
		}
	}
	return all, visible
}

// htmlOpened is what a cell opened, as the page shows it.
type htmlOpened struct {
	Expanded    string `json:"expanded"`
	Visible     bool   `json:"visible"`
	DetailsShow bool   `json:"detailsShown"`
	Row         string `json:"row"`
	Tests       []struct {
		Name     string `json:"name"`
		Status   string `json:"status"`
		Score    string `json:"score"`
		Visible  bool   `json:"visible"`
		Feedback string `json:"feedback"`
		Checks   []struct {
			Name     string `json:"name"`
			Expected string `json:"expected"`
			Got      string `json:"got"`
		} `json:"checks"`
		Runs []struct {
			Passed   string `json:"passed"`
			Verdict  string `json:"verdict"`
			Timeline string `json:"timeline"`
		} `json:"runs"`
	} `json:"tests"`
}

// htmlOpenedJS reads the section a cell opens.
func htmlOpenedJS(student, exercise string) string {
	return `((student, exercise) => {
  const cell = Array.from(document.querySelectorAll('td.cell')).find((td) => td.dataset.student === student && td.dataset.exercise === exercise);
  const toggle = cell.querySelector('button.toggle');
  const sec = document.getElementById(toggle.getAttribute('aria-controls'));
  const shows = (el) => !!el && el.getClientRects().length > 0;
  const text = (el, sel) => { const e = el.querySelector(sel); return e ? e.textContent : ''; };
  return {
    expanded: toggle.getAttribute('aria-expanded'), visible: shows(sec), detailsShown: shows(sec.closest('tr.details')),
    row: sec.closest('tbody.student').dataset.student,
    tests: Array.from(sec.querySelectorAll('li.test')).map((li) => ({
      name: li.dataset.test, status: li.dataset.status, score: li.dataset.score, visible: shows(li),
      feedback: text(li, 'p.feedback'),
      checks: Array.from(li.querySelectorAll('div.check')).map((c) => ({
        name: c.dataset.check, expected: text(c, 'pre.expected'), got: text(c, 'pre.got') })),
      runs: Array.from(li.querySelectorAll('tr.run')).map((tr) => ({
        passed: tr.dataset.passed, verdict: tr.dataset.verdict, timeline: text(tr, 'a.timeline') })),
    })),
  };
})(` + jsString(student) + `, ` + jsString(exercise) + `)`
}

// htmlCellSelector is the CSS selector of a student's cell of an exercise.
func htmlCellSelector(student, exercise string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`td.cell[data-student=%s][data-exercise=%s]`, jsString(student), jsString(exercise)))
}

// htmlLink is a link to a timeline, as the page shows it.
type htmlLink struct {
	Student, Exercise, Test string
	Run                     string
	Href                    string // as written
	URL                     string // as the browser resolves it
}

const htmlLinksJS = `Array.from(document.querySelectorAll('a.timeline')).map((a) => ({
  Student: a.closest('section.exercise').dataset.student, Exercise: a.closest('section.exercise').dataset.exercise,
  Test: a.closest('li.test').dataset.test, Run: a.closest('tr.run').dataset.run,
  Href: a.getAttribute('href'), URL: a.href }))`

// TestHTMLReportBrowser loads the report of the fixture class, graded with
// timelines, as `sandbox grade` writes it (KeepTimelines, then WriteAll),
// and checks through the DOM what a teacher sees and does: the table, the
// cells that open, the filter, the sorting, the links to the timelines.
func TestHTMLReportBrowser(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	zoeSmall := &repStudent(r, "zoë").Exercises[0].Tests[0]
	zoeSmall.Runs[0].Stderr = htmlEvil
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(out, r); err != nil {
		t.Fatal(err)
	}
	b := newHTMLBrowser(t, 1400, 900)
	b.load(t, filepath.Join(out, ReportHTMLFile))
	var students []string
	for _, s := range r.Submissions {
		students = append(students, s.Student)
	}

	t.Run("table", func(t *testing.T) {
		tb := htmlEval[htmlTable](t, b, htmlTableJS)
		if !slices.Equal(tb.Columns, []string{"fib", "workers"}) {
			t.Errorf("columns %q, want one per exercise: fib, workers", tb.Columns)
		}
		if all, visible := tb.order(); !slices.Equal(all, students) || !slices.Equal(visible, students) {
			t.Fatalf("rows %q (%q shown), want one per student: %q", all, visible, students)
		}
		states := map[string]string{
			"alice fib": cellFull, "alice workers": cellPartial, "bob fib": ExerciseCompileError,
			"bob workers": cellPartial, "zoë fib": cellZero, "zoë workers": ExerciseMissing,
		}
		for i, s := range r.Submissions {
			row := tb.Rows[i]
			if row.Total != numText(s.Score) {
				t.Errorf("%s's total is %s, want %s", s.Student, row.Total, numText(s.Score))
			}
			if len(row.Cells) != len(s.Exercises) {
				t.Fatalf("%s's row has %d cells, want %d", s.Student, len(row.Cells), len(s.Exercises))
			}
			for j, ex := range s.Exercises {
				c := row.Cells[j]
				key := s.Student + " " + ex.Name
				if c.Exercise != ex.Name || c.Score != numText(ex.Score) || c.Max != numText(ex.MaxScore) ||
					c.Text != scoreOutOf(ex.Score, ex.MaxScore) || c.State != states[key] {
					t.Errorf("%s: cell %+v, want score %s/%s (%q) in state %s", key, c, numText(ex.Score), numText(ex.MaxScore),
						scoreOutOf(ex.Score, ex.MaxScore), states[key])
				}
			}
		}
	})

	t.Run("cells", func(t *testing.T) {
		for _, s := range r.Submissions {
			for _, ex := range s.Exercises {
				sel := htmlCellSelector(s.Student, ex.Name)
				b.do(t, "click "+string(sel), chromedp.Click(sel))
				got := htmlEval[htmlOpened](t, b, htmlOpenedJS(s.Student, ex.Name))
				where := s.Student + "'s " + ex.Name
				if got.Expanded != "true" || !got.Visible || !got.DetailsShow || got.Row != s.Student {
					t.Errorf("%s: after a click, aria-expanded=%s, shown %v (details row %v), in %s's row", where, got.Expanded, got.Visible, got.DetailsShow, got.Row)
				}
				htmlCheckTests(t, where, ex.Tests, got)
				b.do(t, "click "+string(sel)+" again", chromedp.Click(sel))
				got = htmlEval[htmlOpened](t, b, htmlOpenedJS(s.Student, ex.Name))
				if got.Expanded != "false" || got.Visible || got.DetailsShow {
					t.Errorf("%s: after a second click, aria-expanded=%s, shown %v (details row %v), want closed", where, got.Expanded, got.Visible, got.DetailsShow)
				}
			}
		}
		if pwned := htmlEval[bool](t, b, `window.__pwned !== undefined`); pwned {
			t.Error("a run's output ran as a script")
		}
		stderr := htmlEval[string](t, b, `document.querySelector('section.exercise[data-student="zoë"][data-exercise="fib"] li.test[data-test="small"] pre.stderr').textContent`)
		if stderr != htmlEvil {
			t.Errorf("zoë's stderr reads %q, want %q", stderr, htmlEvil)
		}
	})

	t.Run("filter", func(t *testing.T) {
		const show = `JSON.stringify([document.getElementById('report').dataset.shown, document.getElementById('shown').textContent])`
		for _, c := range []struct {
			keys  string
			shown []string
			words string
		}{
			{"BO", []string{"bob"}, "1 of 3 students"},
			{"ZO", []string{"zoë"}, "1 of 3 students"},
			{"nobody", nil, "0 of 3 students"},
			{"i", []string{"alice"}, "1 of 3 students"},
		} {
			b.do(t, "type "+c.keys, chromedp.SendKeys(chromedp.ID("filter"), c.keys))
			b.waitFor(t, "the filter "+c.keys, `document.getElementById('report').dataset.shown === '`+strconv.Itoa(len(c.shown))+`'`, show)
			_, visible := htmlEval[htmlTable](t, b, htmlTableJS).order()
			if !slices.Equal(visible, c.shown) {
				t.Errorf("the filter %q shows %q, want %q", c.keys, visible, c.shown)
			}
			if words := htmlEval[string](t, b, `document.getElementById('shown').textContent`); words != c.words {
				t.Errorf("the filter %q says %q, want %q", c.keys, words, c.words)
			}
			b.do(t, "Escape", chromedp.KeyEvent(kb.Escape))
			b.waitFor(t, "Escape clears the filter", `document.getElementById('report').dataset.shown === '3' && document.getElementById('filter').value === ''`, show)
		}
		if _, visible := htmlEval[htmlTable](t, b, htmlTableJS).order(); !slices.Equal(visible, students) {
			t.Errorf("the filter cleared shows %q, want every student", visible)
		}
	})

	t.Run("sort", func(t *testing.T) {
		// bob's workers open: the open section follows its row.
		b.do(t, "open bob's workers", chromedp.Click(htmlCellSelector("bob", "workers")))
		for _, c := range []struct {
			column, button string
			order          []string
			aria           string
		}{
			{"student", "student", []string{"zoë", "bob", "alice"}, "student descending"},
			{"total", "total", []string{"alice", "bob", "zoë"}, "total descending"},
			{"total again", "total", []string{"zoë", "bob", "alice"}, "total ascending"},
			{"workers", "1", []string{"alice", "bob", "zoë"}, "exercise descending"},
			{"student", "student", []string{"alice", "bob", "zoë"}, "student ascending"},
		} {
			b.do(t, "sort by "+c.column, chromedp.Click(chromedp.CSS(`#grades > thead button.sort[data-sort="`+c.button+`"]`)))
			tb := htmlEval[htmlTable](t, b, htmlTableJS)
			if all, _ := tb.order(); !slices.Equal(all, c.order) {
				t.Errorf("sorted by %s: rows %q, want %q", c.column, all, c.order)
			}
			if tb.AriaSort != c.aria || !tb.FootLast {
				t.Errorf("sorted by %s: aria-sort on %q, the class mean last %v; want %q, true", c.column, tb.AriaSort, tb.FootLast, c.aria)
			}
			if got := htmlEval[htmlOpened](t, b, htmlOpenedJS("bob", "workers")); !got.Visible || got.Row != "bob" {
				t.Errorf("sorted by %s: bob's workers shown %v in %s's row, want shown in bob's", c.column, got.Visible, got.Row)
			}
			if first := htmlEval[string](t, b, `(() => { const tb = document.querySelector('#grades > tbody.student[data-student="bob"]'); return tb.rows[0].className + ' ' + tb.rows[1].className; })()`); first != "scores details" {
				t.Errorf("sorted by %s: bob's rows are %q, want his scores then his details", c.column, first)
			}
		}
	})

	var links []htmlLink
	t.Run("timelines", func(t *testing.T) {
		links = htmlEval[[]htmlLink](t, b, htmlLinksJS)
		var want []htmlLink
		for _, s := range r.Submissions {
			for _, ex := range s.Exercises {
				for _, tr := range ex.Tests {
					for n, run := range tr.Runs {
						if tr.Status == StatusFailed || tr.Status == StatusFlaky {
							if run.Timeline == "" {
								t.Errorf("%s %s/%s run %d did not pass and kept no timeline", s.Student, ex.Name, tr.Name, n+1)
							}
						}
						if run.Timeline != "" {
							want = append(want, htmlLink{Student: s.Student, Exercise: ex.Name, Test: tr.Name, Run: strconv.Itoa(n + 1), Href: run.Timeline})
						}
					}
				}
			}
		}
		if len(links) != len(want) || len(want) != 6 {
			t.Fatalf("%d timeline links for %d kept timelines, want 6: one per run of a test that did not pass", len(links), len(want))
		}
		for i, l := range links {
			w := want[i]
			if l.Student != w.Student || l.Exercise != w.Exercise || l.Test != w.Test || l.Run != w.Run {
				t.Errorf("link %d is in %s %s/%s run %s, want in %s %s/%s run %s", i, l.Student, l.Exercise, l.Test, l.Run, w.Student, w.Exercise, w.Test, w.Run)
			}
			u, err := url.Parse(l.Href)
			if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || u.Path != w.Href {
				t.Errorf("link %d: href %q, want the relative path %q", i, l.Href, w.Href)
			}
			abs, err := url.Parse(l.URL)
			if err != nil || abs.Scheme != "file" {
				t.Errorf("link %d resolves to %q, want a file", i, l.URL)
				continue
			}
			data, err := os.ReadFile(abs.Path)
			n, _ := strconv.Atoi(w.Run)
			if err != nil || string(data) != timelinePage(w.Student, w.Exercise, w.Test, n) {
				t.Errorf("link %d resolves to %s, which is not the run's timeline (%v)", i, abs.Path, err)
			}
			if abs.Path != filepath.Join(out, filepath.FromSlash(w.Href)) {
				t.Errorf("link %d resolves to %s, want %s", i, abs.Path, filepath.Join(out, filepath.FromSlash(w.Href)))
			}
		}
	})

	// What the screenshot shows: sorted by total, three cells open.
	b.do(t, "sort by total", chromedp.Click(chromedp.CSS(`#grades > thead button.sort[data-sort="total"]`)))
	for _, c := range [][2]string{{"alice", "workers"}, {"zoë", "fib"}} {
		b.do(t, "open "+c[0]+"'s "+c[1], chromedp.Click(htmlCellSelector(c[0], c[1])))
	}
	b.do(t, "scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot(t, htmlArtifact(t, "grading-report.png"))
	b.checkConsole(t)

	// A link opens its timeline: zoë's, whose name is percent-encoded.
	for _, l := range links {
		if l.Student != "zoë" {
			continue
		}
		b.do(t, "follow "+l.Href, chromedp.Navigate(l.URL))
		if title := htmlEval[string](t, b, `document.title`); title != "timeline of zoë fib/small run 1" {
			t.Errorf("the link %s opened %q, want zoë's timeline", l.Href, title)
		}
		break
	}
}

// htmlCheckTests compares the tests a cell opened with the report's.
func htmlCheckTests(t *testing.T, where string, tests []TestResult, got htmlOpened) {
	t.Helper()
	if len(got.Tests) != len(tests) {
		t.Errorf("%s: %d tests shown, want %d", where, len(got.Tests), len(tests))
		return
	}
	for k, tr := range tests {
		g := got.Tests[k]
		if g.Name != tr.Name || g.Status != tr.Status || g.Score != numText(tr.Score) || !g.Visible {
			t.Errorf("%s: test %d is %s %s (%s points, shown %v), want %s %s (%s points)", where, k+1, g.Name, g.Status, g.Score, g.Visible, tr.Name, tr.Status, numText(tr.Score))
		}
		if want := htmlBlock(tr.Feedback); g.Feedback != want {
			t.Errorf("%s/%s: feedback %q, want %q", where, tr.Name, g.Feedback, want)
		}
		var failed []CheckResult
		if tr.Status != StatusPassed {
			failed = failedChecks(&tr)
		}
		if len(g.Checks) != len(failed) {
			t.Errorf("%s/%s: %d failed checks shown, want %d", where, tr.Name, len(g.Checks), len(failed))
		} else {
			for i, c := range failed {
				if g.Checks[i].Name != c.Name || g.Checks[i].Expected != htmlBlock(c.Expected) || g.Checks[i].Got != htmlBlock(c.Got) {
					t.Errorf("%s/%s: check %q expected %q got %q, want %q expected %q got %q", where, tr.Name,
						g.Checks[i].Name, g.Checks[i].Expected, g.Checks[i].Got, c.Name, htmlBlock(c.Expected), htmlBlock(c.Got))
				}
			}
		}
		if len(g.Runs) != len(tr.Runs) {
			t.Errorf("%s/%s: %d runs shown, want %d", where, tr.Name, len(g.Runs), len(tr.Runs))
			continue
		}
		for n, run := range tr.Runs {
			link := ""
			if run.Timeline != "" {
				link = "timeline"
			}
			if g.Runs[n].Passed != strconv.FormatBool(run.Passed) || g.Runs[n].Verdict != run.Verdict || g.Runs[n].Timeline != link {
				t.Errorf("%s/%s run %d: %+v, want passed %v, verdict %s, link %q", where, tr.Name, n+1, g.Runs[n], run.Passed, run.Verdict, link)
			}
		}
	}
}

var (
	reportFile = flag.String("report", "", "TestScreenshotReport: the report.html of a real grading to draw")
	reportPNG  = flag.String("report-png", "", "TestScreenshotReport: where to save its screenshot")
	reportOpen = flag.String("open", "", "TestScreenshotReport: a cell to open first, STUDENT/EXERCISE")
)

// TestScreenshotReport saves a screenshot of the report.html of a real
// grading (make screenshots uses it for the README):
//
//	go test ./internal/grade -run TestScreenshotReport -args -report $PWD/out/report.html -report-png $PWD/docs/x.png -open student/exercise
func TestScreenshotReport(t *testing.T) {
	if *reportFile == "" || *reportPNG == "" {
		t.Skip("draws a real report only with -report FILE -report-png FILE")
	}
	b := newHTMLBrowser(t, 1200, 900)
	b.load(t, *reportFile)
	if *reportOpen != "" {
		student, exercise, _ := strings.Cut(*reportOpen, "/")
		b.do(t, "open "+*reportOpen, chromedp.Click(htmlCellSelector(student, exercise)))
	}
	b.checkConsole(t)
	b.screenshot(t, *reportPNG)
}
