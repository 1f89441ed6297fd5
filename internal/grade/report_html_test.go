package grade

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// htmlEvil is text of a run that would run a script, or load something,
// were it not escaped.
const htmlEvil = `</pre></script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><!-- & "'`

// htmlRender writes the HTML report of r.
func htmlRender(t testing.TB, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return buf.Bytes()
}

// htmlVoid are the elements without an end tag.
var htmlVoid = map[string]bool{"meta": true, "input": true, "br": true, "hr": true, "img": true, "link": true, "col": true, "wbr": true}

// htmlTokens tokenizes a page, failing the test on a tokenizer error or
// on an end tag that does not close the element last opened (the page
// writes every end tag, even those HTML lets one leave out).
func htmlTokens(t *testing.T, page []byte) []html.Token {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	var tokens []html.Token
	var open []string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatalf("the page does not tokenize: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		tokens = append(tokens, tok)
		switch tt {
		case html.StartTagToken:
			if !htmlVoid[tok.Data] {
				open = append(open, tok.Data)
			}
		case html.SelfClosingTagToken:
			t.Errorf("a self-closing tag <%s/>: HTML has none", tok.Data)
		case html.EndTagToken:
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				t.Fatalf("</%s> closes %v", tok.Data, open)
			}
			open = open[:len(open)-1]
		}
	}
	if len(open) != 0 {
		t.Errorf("elements left open at the end: %v", open)
	}
	if len(tokens) == 0 || tokens[0].Type != html.DoctypeToken || tokens[0].Data != "html" {
		t.Error("the page does not start with <!DOCTYPE html>")
	}
	return tokens
}

// htmlParse parses a page as a browser would.
func htmlParse(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// htmlAll returns the elements under n, in document order, that have the
// tag (any when empty) and every class of classes.
func htmlAll(n *html.Node, tag string, classes ...string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type != html.ElementNode || (tag != "" && d.Data != tag) {
			continue
		}
		have := strings.Fields(htmlAttr(d, "class"))
		if !slices.ContainsFunc(classes, func(c string) bool { return !slices.Contains(have, c) }) {
			out = append(out, d)
		}
	}
	return out
}

// htmlOne returns the one element under n with the tag and classes.
func htmlOne(t *testing.T, n *html.Node, tag string, classes ...string) *html.Node {
	t.Helper()
	all := htmlAll(n, tag, classes...)
	if len(all) != 1 {
		t.Fatalf("%d <%s class=%q> elements, want 1", len(all), tag, strings.Join(classes, " "))
	}
	return all[0]
}

// htmlAttr returns an attribute of an element, or "".
func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// htmlText returns the text of an element, as textContent would.
func htmlText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// htmlEvilClass is repClass with htmlEvil in every text a student's run
// or the spec can put in the report.
func htmlEvilClass() *Report {
	r := repClass()
	r.Title = htmlEvil
	r.Spec = htmlEvil
	zoe := repStudent(r, "zoë")
	ex := &zoe.Exercises[0]
	ex.Name, ex.Source = htmlEvil, htmlEvil
	tr := &ex.Tests[0]
	tr.Name, tr.Feedback, tr.Visibility = htmlEvil, htmlEvil, htmlEvil
	tr.Checks[0] = CheckResult{Name: htmlEvil, Expected: htmlEvil, Got: htmlEvil, Message: htmlEvil}
	tr.Runs[0] = Run{Verdict: htmlEvil, Explanation: htmlEvil, Stdout: htmlEvil, Stderr: htmlEvil, Timeline: htmlEvil}
	bob := repStudent(r, "bob")
	bob.Exercises[0].Message = htmlEvil
	bob.Student = `<b>"bob" & 'co'`
	return r
}

func TestWriteHTMLWellFormed(t *testing.T) {
	for _, c := range []struct {
		name string
		r    *Report
	}{
		{"class", repClass()},
		{"evil", htmlEvilClass()},
		{"no submissions", &Report{Version: ReportVersion, Spec: "s.yaml", Submissions: []Submission{}}},
		{"empty", &Report{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := htmlRender(t, c.r)
			htmlTokens(t, page)
			doc := htmlParse(t, page)
			ids := map[string]bool{}
			for _, el := range htmlAll(doc, "") {
				if id := htmlAttr(el, "id"); id != "" {
					if ids[id] {
						t.Errorf("two elements have the id %q", id)
					}
					ids[id] = true
				}
			}
			for _, el := range htmlAll(doc, "button", "toggle") {
				if c := htmlAttr(el, "aria-controls"); !ids[c] {
					t.Errorf("a cell opens %q, which no element is", c)
				}
			}
			for _, id := range []string{"report", "header", "toolbar", "filter", "shown"} {
				if !ids[id] {
					t.Errorf("the page has no #%s", id)
				}
			}
		})
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	r := htmlEvilClass()
	page := htmlRender(t, r)
	for _, bad := range []string{"<script>window", "<img", `<b>"bob"`, "</pre></script>", "<!-- &"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page holds the raw text %q of a run", bad)
		}
	}
	tokens := htmlTokens(t, page)
	scripts := 0
	for _, tok := range tokens {
		if tok.Type != html.StartTagToken {
			continue
		}
		switch tok.Data {
		case "script":
			scripts++
			if len(tok.Attr) != 0 {
				t.Errorf("a <script> with attributes %v", tok.Attr)
			}
		case "img", "iframe", "object", "embed", "link", "base", "form":
			t.Errorf("the page has a <%s> element", tok.Data)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has the handler %s=%q", tok.Data, a.Key, a.Val)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d <script> elements, want 1 (the page's own)", scripts)
	}

	// The text reads as written.
	doc := htmlParse(t, page)
	if got := htmlText(htmlOne(t, doc, "title")); got != htmlEvil+" – grading report" {
		t.Errorf("<title> reads %q", got)
	}
	sec := htmlAll(doc, "section", "exercise")
	var evil *html.Node
	for _, s := range sec {
		if htmlAttr(s, "data-exercise") == htmlEvil {
			evil = s
		}
	}
	if evil == nil {
		t.Fatalf("no section has data-exercise=%q", htmlEvil)
	}
	for _, c := range []struct{ tag, class string }{
		{"p", "feedback"}, {"span", "check-name"}, {"span", "check-message"}, {"pre", "expected"}, {"pre", "got"},
		{"pre", "stdout"}, {"pre", "stderr"}, {"td", "explanation"}, {"td", "verdict"}, {"span", "test-name"},
	} {
		el := htmlAll(evil, c.tag, c.class)
		if len(el) == 0 {
			t.Errorf("no <%s class=%q> in the exercise", c.tag, c.class)
			continue
		}
		if got := htmlText(el[0]); got != htmlEvil {
			t.Errorf("<%s class=%q> reads %q, want %q", c.tag, c.class, got, htmlEvil)
		}
	}
	// A timeline's path is a relative link, whatever its text.
	for _, a := range htmlAll(doc, "a", "timeline") {
		u, err := url.Parse(htmlAttr(a, "href"))
		if err != nil || u.Scheme != "" || u.Host != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasPrefix(u.Path, "/") {
			t.Errorf("the timeline %q links to %q, want a relative path", htmlEvil, htmlAttr(a, "href"))
		} else if u.Path != htmlEvil {
			t.Errorf("the timeline %q links to %q, which reads back as %q", htmlEvil, htmlAttr(a, "href"), u.Path)
		}
	}
	if got := htmlAttr(htmlAll(doc, "tbody", "student")[1], "data-student"); got != `<b>"bob" & 'co'` {
		t.Errorf("bob's row has data-student=%q", got)
	}
}

// htmlCSP reads the page's Content-Security-Policy: directive → sources.
func htmlCSP(t *testing.T, tokens []html.Token) map[string][]string {
	t.Helper()
	for _, tok := range tokens {
		if tok.Type != html.StartTagToken || tok.Data != "meta" {
			continue
		}
		var equiv, content string
		for _, a := range tok.Attr {
			switch a.Key {
			case "http-equiv":
				equiv = a.Val
			case "content":
				content = a.Val
			}
		}
		if equiv != "Content-Security-Policy" {
			continue
		}
		csp := map[string][]string{}
		for d := range strings.SplitSeq(content, ";") {
			f := strings.Fields(d)
			if len(f) > 0 {
				csp[f[0]] = f[1:]
			}
		}
		return csp
	}
	t.Fatal("the page has no Content-Security-Policy")
	return nil
}

// htmlInline returns the text of every <script> and <style> element of a
// page, those inside <noscript> too (which a tokenizer reads as text, as a
// browser that runs scripts does).
func htmlInline(t *testing.T, tokens []html.Token) (scripts, styles []string) {
	t.Helper()
	for i, tok := range tokens {
		if tok.Type != html.StartTagToken || i+1 == len(tokens) || tokens[i+1].Type != html.TextToken {
			continue
		}
		text := tokens[i+1].Data
		switch tok.Data {
		case "script":
			scripts = append(scripts, text)
		case "style":
			styles = append(styles, text)
		case "noscript":
			z := html.NewTokenizer(strings.NewReader(text))
			var inner []html.Token
			for z.Next() != html.ErrorToken {
				inner = append(inner, z.Token())
			}
			sc, st := htmlInline(t, inner)
			scripts, styles = append(scripts, sc...), append(styles, st...)
		}
	}
	return scripts, styles
}

func TestWriteHTMLSelfContained(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatal(err)
	}
	page := htmlRender(t, r)
	tokens := htmlTokens(t, page)
	scripts, styles := htmlInline(t, tokens)
	links := 0
	for _, tok := range tokens {
		if tok.Type != html.StartTagToken {
			continue
		}
		for _, a := range tok.Attr {
			switch a.Key {
			case "src", "srcset", "action", "formaction", "poster", "data", "background", "style":
				t.Errorf("<%s %s=%q>: the page should load nothing", tok.Data, a.Key, a.Val)
			case "href":
				links++
				if tok.Data != "a" || strings.Contains(a.Val, ":") || strings.HasPrefix(a.Val, "/") || strings.Contains(a.Val, "..") {
					t.Errorf("<%s href=%q>: want only relative links to kept timelines", tok.Data, a.Val)
				}
			}
		}
	}
	if links != 6 {
		t.Errorf("%d links, want 6 (one per kept timeline)", links)
	}
	for _, s := range styles {
		for _, bad := range []string{"url(", "@import", "@font-face"} {
			if strings.Contains(s, bad) {
				t.Errorf("a <style> holds %q: the page should load nothing", bad)
			}
		}
	}
	for _, s := range scripts {
		for _, bad := range []string{"fetch(", "XMLHttpRequest", "import(", "http:", "https:", "eval(", "innerHTML"} {
			if strings.Contains(s, bad) {
				t.Errorf("the script holds %q", bad)
			}
		}
	}
	for name, text := range map[string]string{"report_html.js": htmlReportScript, "report_html.css": htmlReportStyle, "noscript style": htmlNoScriptStyle} {
		for _, bad := range []string{"</script", "</style", "<!--"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s holds %q, which would end its element early", name, bad)
			}
		}
	}

	csp := htmlCSP(t, tokens)
	if !slices.Equal(csp["default-src"], []string{"'none'"}) {
		t.Errorf("default-src %q, want 'none'", csp["default-src"])
	}
	for _, d := range []string{"base-uri", "form-action"} {
		if !slices.Equal(csp[d], []string{"'none'"}) {
			t.Errorf("%s %q, want 'none'", d, csp[d])
		}
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	check := func(directive string, texts []string, want int) {
		t.Helper()
		if len(texts) != want {
			t.Errorf("%d elements for %s, want %d", len(texts), directive, want)
		}
		var hashes []string
		for _, s := range texts {
			hashes = append(hashes, hash(s))
		}
		slices.Sort(hashes)
		allowed := slices.Sorted(slices.Values(csp[directive]))
		if !slices.Equal(hashes, allowed) {
			t.Errorf("%s allows %q, want exactly the page's own %q", directive, allowed, hashes)
		}
	}
	check("script-src", scripts, 1)
	check("style-src", styles, 2) // the page's, and the one for when scripts are off
}

func TestWriteHTMLDeterministic(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Report{"class": repClass(), "timelines": r, "evil": htmlEvilClass()} {
		a, b := htmlRender(t, r), htmlRender(t, r)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two writings of the same report differ", name)
		}
	}
}

// htmlCellsClass is repClass with a fourth student, dan, whose fib cannot
// run in the sandbox, and who has no workers at all in the report (as a
// report merged from shards may have).
func htmlCellsClass() *Report {
	r := repClass()
	r.Submissions = append(r.Submissions, Submission{Student: "dan", Score: 0, MaxScore: 10, Exercises: []ExerciseResult{
		{Name: "fib", State: ExerciseInvalid, Score: 0, MaxScore: 5, Message: "The module cannot run: it imports env.foo",
			Tests: []TestResult{repNotRun("small", 2, VisibilityVisible), repNotRun(repHiddenName, 3, VisibilityHidden)}},
	}})
	return r
}

func TestWriteHTMLTable(t *testing.T) {
	r := htmlCellsClass()
	doc := htmlParse(t, htmlRender(t, r))
	var cols []string
	for _, th := range htmlAll(doc, "th", "col-exercise") {
		cols = append(cols, htmlAttr(th, "data-exercise"))
	}
	if !slices.Equal(cols, []string{"fib", "workers"}) {
		t.Errorf("exercise columns %q, want fib, workers", cols)
	}
	type cell struct{ state, score, max, text string }
	want := map[string][]cell{
		"alice": {{"full", "5", "5", "5/5"}, {"partial", "1", "5", "1/51 flaky"}, {"partial", "6", "10", "6/10"}},
		"bob":   {{"compile_error", "0", "5", "0/5build error"}, {"partial", "1", "5", "1/5"}, {"partial", "1", "10", "1/10"}},
		"zoë":   {{"zero", "0", "5", "0/5"}, {"missing", "0", "5", "0/5missing"}, {"zero", "0", "10", "0/10"}},
		"dan":   {{"invalid_module", "0", "5", "0/5invalid module"}, {"none", "", "", "–"}, {"zero", "0", "10", "0/10"}},
	}
	rows := htmlAll(doc, "tbody", "student")
	var students []string
	for _, row := range rows {
		s := htmlAttr(row, "data-student")
		students = append(students, s)
		var got []cell
		for _, td := range htmlAll(row, "td", "cell") {
			got = append(got, cell{htmlAttr(td, "data-state"), htmlAttr(td, "data-score"), htmlAttr(td, "data-max"), htmlText(td)})
			if htmlAttr(td, "data-student") != s {
				t.Errorf("a cell of %s's row has data-student=%q", s, htmlAttr(td, "data-student"))
			}
		}
		total := htmlOne(t, row, "td", "total")
		got = append(got, cell{htmlAttr(total, "data-state"), htmlAttr(total, "data-score"), htmlAttr(total, "data-max"), htmlText(total)})
		if !slices.Equal(got, want[s]) {
			t.Errorf("%s's row:\n got %+v\nwant %+v", s, got, want[s])
		}
	}
	if !slices.Equal(students, []string{"alice", "bob", "zoë", "dan"}) {
		t.Errorf("rows %q, want the report's order", students)
	}
	counts := map[string]string{}
	for _, li := range htmlAll(htmlOne(t, doc, "ul", "counts"), "li") {
		counts[htmlAttr(li, "data-count")] = htmlAttr(li, "data-n")
	}
	wantCounts := map[string]string{"students": "4", "exercises": "2", "tests": "14", "passed": "4", "failed": "3", "flaky": "1",
		"not_run": "6", "compile_error": "1", "missing": "1", "invalid_module": "1"}
	if !mapsEqual(counts, wantCounts) {
		t.Errorf("header counts %v, want %v", counts, wantCounts)
	}
	if got := htmlText(htmlOne(t, doc, "span", "mean")); got != "1.75" {
		t.Errorf("class mean %q, want 1.75", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// htmlSection returns the section a student's cell of an exercise opens.
func htmlSection(t *testing.T, doc *html.Node, student, exercise string) *html.Node {
	t.Helper()
	for _, s := range htmlAll(doc, "section", "exercise") {
		if htmlAttr(s, "data-student") == student && htmlAttr(s, "data-exercise") == exercise {
			return s
		}
	}
	t.Fatalf("no section for %s's %s", student, exercise)
	return nil
}

func TestWriteHTMLDetails(t *testing.T) {
	r := htmlCellsClass()
	doc := htmlParse(t, htmlRender(t, r))

	t.Run("failed", func(t *testing.T) {
		sec := htmlSection(t, doc, "bob", "workers")
		tests := htmlAll(sec, "li", "test")
		if len(tests) != 2 || htmlAttr(tests[0], "data-status") != StatusFailed || htmlAttr(tests[1], "data-status") != StatusPassed {
			t.Fatalf("bob's workers: want order failed and cleanup passed")
		}
		order := tests[0]
		if got, want := htmlText(htmlOne(t, order, "p", "feedback")), r.Submissions[1].Exercises[1].Tests[0].Feedback; got != want {
			t.Errorf("feedback %q, want %q", got, want)
		}
		checks := htmlAll(order, "div", "check")
		if len(checks) != 2 || htmlAttr(checks[0], "data-check") != "verdict" || htmlAttr(checks[1], "data-check") != "stdout lines" {
			t.Fatalf("%d failed checks, want verdict and stdout lines", len(checks))
		}
		if e, g := htmlText(htmlOne(t, checks[0], "pre", "expected")), htmlText(htmlOne(t, checks[0], "pre", "got")); e != "ok" || g != "time_limit" {
			t.Errorf("the verdict check shows expected %q and got %q, want ok and time_limit", e, g)
		}
		got := htmlText(htmlOne(t, checks[1], "pre", "got"))
		if !strings.Contains(got, "bytes left out") || len(got) > clipBytes+200 || !strings.HasPrefix(got, "worker 0: ünïcödé") {
			t.Errorf("3,000 lines of output show as %d bytes, want the first and last lines of it, clipped", len(got))
		}
		run := htmlOne(t, order, "tr", "run")
		if htmlAttr(run, "data-passed") != "false" || htmlAttr(run, "data-verdict") != "time_limit" {
			t.Errorf("the run's row has data-passed=%q data-verdict=%q", htmlAttr(run, "data-passed"), htmlAttr(run, "data-verdict"))
		}
		for class, want := range map[string]string{"wall": "2 s", "cpu": "1.99 s", "memory": "16 MiB", "exit": "124", "processes": "5",
			"explanation": "the run reached its time limit of 2s; every process was killed"} {
			if got := htmlText(htmlOne(t, run, "td", class)); got != want {
				t.Errorf("the run's %s reads %q, want %q", class, got, want)
			}
		}
		if got := htmlText(htmlOne(t, order, "pre", "stderr")); got != "panic: ⚠ überlauf\n" {
			t.Errorf("stderr reads %q", got)
		}
	})

	t.Run("flaky", func(t *testing.T) {
		sec := htmlSection(t, doc, "alice", "workers")
		order := htmlAll(sec, "li", "test")[0]
		if htmlAttr(order, "data-status") != StatusFlaky {
			t.Fatalf("alice's order has data-status=%q, want flaky", htmlAttr(order, "data-status"))
		}
		if got := htmlText(htmlOne(t, order, "p", "flaky")); !strings.Contains(got, "passed 2 of 3 runs") {
			t.Errorf("a flaky test reads %q, want how many runs passed", got)
		}
		var passed []string
		for _, run := range htmlAll(order, "tr", "run") {
			passed = append(passed, htmlAttr(run, "data-passed")+" "+htmlText(htmlOne(t, run, "td", "chaos")))
		}
		if !slices.Equal(passed, []string{"true ", "false 7", "true "}) {
			t.Errorf("runs (passed, chaos seed) %q, want the second failing under seed 7", passed)
		}
	})

	t.Run("control characters", func(t *testing.T) {
		small := htmlAll(htmlSection(t, doc, "zoë", "fib"), "li", "test")[0]
		if got := htmlText(htmlOne(t, small, "p", "feedback")); !strings.Contains(got, `<b>&amp;</b> ]]> \x1b[31mred\x1b[0m`) {
			t.Errorf("feedback %q, want its ANSI escapes shown as \\x1b", got)
		}
		if got := htmlText(htmlOne(t, small, "pre", "got")); got != "<55> & \"quoted\" ]]>\\x00\n```\n" {
			t.Errorf("got %q, want its NUL shown as \\x00", got)
		}
	})

	t.Run("did not run", func(t *testing.T) {
		for _, c := range []struct{ student, state, message string }{
			{"bob", ExerciseCompileError, "./fib.go:3:1: syntax error"},
			{"dan", ExerciseInvalid, "The module cannot run: it imports env.foo"},
		} {
			sec := htmlSection(t, doc, c.student, "fib")
			if htmlAttr(sec, "data-state") != c.state {
				t.Errorf("%s's fib has data-state=%q, want %s", c.student, htmlAttr(sec, "data-state"), c.state)
			}
			if got := htmlText(htmlOne(t, sec, "pre", "message")); !strings.HasPrefix(got, c.message) {
				t.Errorf("%s's fib shows the message %q, want %q…", c.student, got, c.message)
			}
			for _, li := range htmlAll(sec, "li", "test") {
				if htmlAttr(li, "data-status") != StatusNotRun {
					t.Errorf("%s's fib's test %s has data-status=%q, want not_run", c.student, htmlAttr(li, "data-test"), htmlAttr(li, "data-status"))
				}
			}
		}
	})

	t.Run("hidden shown to teachers", func(t *testing.T) {
		hidden := htmlAll(htmlSection(t, doc, "zoë", "fib"), "li", "test")[1]
		if htmlAttr(hidden, "data-test") != repHiddenName || htmlAttr(hidden, "data-visibility") != VisibilityHidden {
			t.Fatalf("zoë's second fib test is %q (%q)", htmlAttr(hidden, "data-test"), htmlAttr(hidden, "data-visibility"))
		}
		if got := htmlText(hidden); !strings.Contains(got, repHiddenFeedback) || !strings.Contains(got, repHiddenGot) {
			t.Error("the teacher's report hides a hidden test's feedback or output")
		}
	})
}

func TestWriteHTMLTimelineLinks(t *testing.T) {
	for _, c := range []struct{ path, link string }{
		{"timelines/bob/workers/1-run1.html", "timelines/bob/workers/1-run1.html"},
		{"timelines/zoë/fib/1-run1.html", "timelines/zo%C3%AB/fib/1-run1.html"},
		{"timelines/a%20b/x.html", "timelines/a%2520b/x.html"},
		{"timelines/50% done/a:b?c#d.html", "timelines/50%25%20done/a%3Ab%3Fc%23d.html"},
		{"javascript:alert(1)", "javascript%3Aalert%281%29"},
		{"timelines//x/./y.html", "timelines/x/y.html"},
		{"", ""},
		{"../elsewhere.html", ""},
		{"timelines/../../elsewhere.html", ""},
		{"/etc/passwd", ""},
		{"//example.com/t.html", ""},
		{`a\b.html`, ""},
	} {
		if got := timelineLink(c.path); got != c.link {
			t.Errorf("timelineLink(%q) = %q, want %q", c.path, got, c.link)
		}
	}

	r := repClass()
	runs := []*Run{
		&repStudent(r, "bob").Exercises[1].Tests[0].Runs[0],
		&repStudent(r, "alice").Exercises[1].Tests[0].Runs[1],
		&repStudent(r, "zoë").Exercises[0].Tests[0].Runs[0],
		&repStudent(r, "zoë").Exercises[0].Tests[1].Runs[0],
	}
	paths := []string{"timelines/bob/workers/1-run1.html", "timelines/alice/workers/1-run2.html", "../elsewhere.html", "timelines/zoë/fib/2-run1.html"}
	for i, p := range paths {
		runs[i].Timeline = p
	}
	doc := htmlParse(t, htmlRender(t, r))
	var got []string
	for _, a := range htmlAll(doc, "a", "timeline") {
		got = append(got, htmlAttr(a, "href"))
		if htmlText(a) != "timeline" || htmlAttr(a, "target") != "_blank" || htmlAttr(a, "rel") != "noopener" {
			t.Errorf("a timeline link reads %q, target %q, rel %q", htmlText(a), htmlAttr(a, "target"), htmlAttr(a, "rel"))
		}
	}
	// In the page's order: alice, bob, then zoë's second test (her first
	// test's path leads out of the report's folder).
	if want := []string{paths[1], paths[0], "timelines/zo%C3%AB/fib/2-run1.html"}; !slices.Equal(got, want) {
		t.Errorf("timeline links %q, want %q", got, want)
	}
}
