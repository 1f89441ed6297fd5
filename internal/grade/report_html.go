package grade

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The teacher's HTML report: its page (an html/template), style and script
// are embedded, and the page needs nothing but itself.
var (
	//go:embed report_html.html
	htmlReportPage string
	//go:embed report_html.css
	htmlReportStyle string
	//go:embed report_html.js
	htmlReportScript string
)

// htmlNoScriptStyle shows every exercise's details, and hides the controls
// that need the script, when scripts are off (a mail client, a viewer that
// runs none).
const htmlNoScriptStyle = `tr.details[hidden] { display: table-row; } section.exercise[hidden] { display: block; } #toolbar .needs-script { display: none; }`

// htmlReportTemplate is parsed once, on first use (not at every start of
// the binary, which every runner is); html/template escapes every text of
// the report, and the style and script go in verbatim as typed values.
var htmlReportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report_html.html").Parse(htmlReportPage))
})

// htmlReportCSP lets the page load nothing and run no script and apply no
// style but its own, by hash: no text of a student's run can add any
// (made on first use, as the template: every runner is this binary).
var htmlReportCSP = sync.OnceValue(func() string {
	return "default-src 'none'; script-src " + cspHash(htmlReportScript) +
		"; style-src " + cspHash(htmlReportStyle) + " " + cspHash(htmlNoScriptStyle) +
		"; base-uri 'none'; form-action 'none'"
})

// cspHash returns the Content-Security-Policy source that allows the
// inline script or style s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// WriteHTML writes the teacher's report as one self-contained HTML page: a
// header with the title, the spec, the counts and the maximum score, then
// a table with a row per student and a column per exercise (score/max,
// coloured by the exercise's state: full, partial, zero, missing, compile
// error, invalid module) and the total. Clicking a column's header sorts
// the rows by it, a box filters them by the student's name, and clicking a
// cell opens the exercise's tests below the row: each test's status, score
// and feedback, each failed check with what it expected and what came, and
// the runs, with their verdict and measurements, excerpts of what they
// printed, and a link to the run's timeline when it has one (Run.Timeline,
// relative to the report's folder: see KeepTimelines). Like the summary,
// it is for instructors: hidden tests are shown in full.
//
// The page loads nothing: its style and script are embedded, and its
// Content-Security-Policy allows no other. Its DOM is its interface for
// tests and tools: #report carries data-ready once the script has run;
// each student's rows are a tbody.student with data-student and
// data-score; each cell is a td.cell with data-student, data-exercise,
// data-state, data-score and data-max; each test is an li.test with
// data-test, data-status and data-score; each run is a tr.run with
// data-run, data-passed and data-verdict; and each link to a timeline is an
// a.timeline.
func WriteHTML(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	if err := htmlReportTemplate().Execute(bw, htmlPageOf(r)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// The states of a cell of the HTML report: an exercise that ran is full,
// partial or zero by its score; one that did not run keeps its state
// (ExerciseMissing, ExerciseCompileError, ExerciseInvalid); a report
// merged from shards may lack an exercise for a student (none).
const (
	cellFull    = "full"
	cellPartial = "partial"
	cellZero    = "zero"
	cellNone    = "none"
)

// htmlPage fills report_html.html.
type htmlPage struct {
	Title, Spec   string
	CSP           string
	Style         template.CSS
	NoScriptStyle template.CSS
	Script        template.JS
	MaxScore      string // for people: "10"
	MaxScoreNum   string // for tools: "10"
	Mean          string // the mean total, "2.33"; empty without submissions
	Counts        []htmlCount
	Exercises     []htmlColumn
	Rows          []htmlRow
	Columns       int // of the table, for the details' colspan
}

// htmlCount is one count of the header: "3 students", "1 flaky".
type htmlCount struct {
	Key   string // data-count: students, exercises, passed, failed, ...
	N     int
	Words string
}

// htmlColumn is the column of an exercise.
type htmlColumn struct {
	Index     int
	Name      string
	Label     string // the name on one line
	Max       string // what the exercise is worth, the first time seen
	MaxNum    string
	Mean      string
	MeanNum   string
	MeanState string
	maxScore  float64
}

// htmlRow is a student's row, with its cells and, below it, the details of
// each exercise.
type htmlRow struct {
	Index     int
	Student   string
	Label     string
	Score     string // "6/10"
	ScoreNum  string
	MaxNum    string
	State     string
	Cells     []htmlCell
	Exercises []htmlExercise
}

// htmlCell is a cell of the table: a student's exercise.
type htmlCell struct {
	Student, Exercise string
	Present           bool
	ID                string // of its htmlExercise
	State             string
	Score             string // "1/5"
	ScoreNum, MaxNum  string
	Note              string // "missing", "build error", "1 flaky", ...
	Tip               string
}

// htmlExercise is what a cell opens: the exercise's tests.
type htmlExercise struct {
	ID                string
	Student, Name     string
	Label             string // "alice · workers"
	State, StateWords string
	Score             string
	Source            string
	Message           string // why it did not run: the compiler's message, ...
	Tests             []htmlTest
}

// htmlTest is one test of an exercise.
type htmlTest struct {
	Name, Label     string
	Status          string
	StatusWords     string
	Score           string
	ScoreNum        string
	Visibility      string
	VisibilityWords string // empty when visible
	Feedback        string
	Flaky           string
	Checks          []htmlCheck
	Runs            []htmlRun
}

// htmlCheck is a check that failed.
type htmlCheck struct {
	Name, Message string
	ShowValues    bool // expected or got is not empty
	Expected, Got string
}

// htmlRun is one run of a test.
type htmlRun struct {
	N                    int
	Passed               bool
	Verdict, Explanation string
	ExitStatus           int
	Chaos                string
	Wall, CPU, Memory    string
	Processes            int
	Stdout, Stderr       string
	Timeline             string // a URL path relative to the report's folder, or empty
}

// htmlPageOf turns a report into what the page shows, every text made
// ready: clipped, its control characters made visible, its numbers
// formatted.
func htmlPageOf(r *Report) htmlPage {
	title := r.Title
	if title == "" {
		title = r.Spec
	}
	if title == "" {
		title = "sandbox grade"
	}
	p := htmlPage{
		Title:         oneLine(title),
		Spec:          oneLine(r.Spec),
		CSP:           htmlReportCSP(),
		Style:         template.CSS(htmlReportStyle),
		NoScriptStyle: template.CSS(htmlNoScriptStyle),
		Script:        template.JS(htmlReportScript),
		MaxScore:      scoreText(r.MaxScore),
		MaxScoreNum:   numText(r.MaxScore),
		Exercises:     htmlColumnsOf(r),
		Counts:        htmlCountsOf(r),
	}
	p.Columns = len(p.Exercises) + 2
	var total float64
	for i := range r.Submissions {
		total += r.Submissions[i].Score
		p.Rows = append(p.Rows, htmlRowOf(i, &r.Submissions[i], p.Exercises))
	}
	if n := len(r.Submissions); n > 0 {
		p.Mean = scoreText(total / float64(n))
	}
	return p
}

// htmlColumnsOf makes the columns of the exercises, in the order first
// seen (a report merged from shards may not list every exercise for every
// submission), each with the mean score of the submissions that have it.
func htmlColumnsOf(r *Report) []htmlColumn {
	var cols []htmlColumn
	var sums []float64
	var seen []int
	for i := range r.Submissions {
		for j := range r.Submissions[i].Exercises {
			ex := &r.Submissions[i].Exercises[j]
			c := slices.IndexFunc(cols, func(col htmlColumn) bool { return col.Name == ex.Name })
			if c < 0 {
				c = len(cols)
				cols = append(cols, htmlColumn{Index: c, Name: ex.Name, Label: oneLine(ex.Name),
					Max: scoreText(ex.MaxScore), MaxNum: numText(ex.MaxScore), maxScore: ex.MaxScore})
				sums, seen = append(sums, 0), append(seen, 0)
			}
			sums[c] += ex.Score
			seen[c]++
		}
	}
	for c := range cols {
		mean := sums[c] / float64(seen[c])
		cols[c].Mean, cols[c].MeanNum, cols[c].MeanState = scoreText(mean), numText(mean), scoreState(mean, cols[c].maxScore)
	}
	return cols
}

// htmlRowOf makes the row of the i-th submission: a cell per column, and
// what each cell opens.
func htmlRowOf(i int, s *Submission, cols []htmlColumn) htmlRow {
	row := htmlRow{Index: i, Student: s.Student, Label: oneLine(s.Student),
		Score: scoreOutOf(s.Score, s.MaxScore), ScoreNum: numText(s.Score), MaxNum: numText(s.MaxScore),
		State: scoreState(s.Score, s.MaxScore)}
	for c, col := range cols {
		j := slices.IndexFunc(s.Exercises, func(ex ExerciseResult) bool { return ex.Name == col.Name })
		if j < 0 {
			row.Cells = append(row.Cells, htmlCell{Student: s.Student, Exercise: col.Name, State: cellNone,
				Tip: oneLine(s.Student) + " · " + col.Label + ": not graded"})
			continue
		}
		id := fmt.Sprintf("ex-%d-%d", i, c)
		row.Cells = append(row.Cells, htmlCellOf(s, &s.Exercises[j], id))
		row.Exercises = append(row.Exercises, htmlExerciseOf(s, &s.Exercises[j], id))
	}
	return row
}

// htmlCountsOf lists the header's counts: students, exercises and tests,
// then the tests by status and the exercises that did not run by state,
// leaving out those that are zero.
func htmlCountsOf(r *Report) []htmlCount {
	exercises := map[string]bool{}
	counts := map[string]int{}
	tests := 0
	for i := range r.Submissions {
		for _, ex := range r.Submissions[i].Exercises {
			exercises[ex.Name] = true
			counts[ex.State]++
			tests += len(ex.Tests)
			for _, t := range ex.Tests {
				counts["test "+t.Status]++
			}
		}
	}
	n := len(r.Submissions)
	out := []htmlCount{
		{"students", n, plural(n, "student", "students")},
		{"exercises", len(exercises), plural(len(exercises), "exercise", "exercises")},
		{"tests", tests, plural(tests, "test graded", "tests graded")},
	}
	for _, c := range []struct{ key, count, words string }{
		{StatusPassed, "test " + StatusPassed, "passed"},
		{StatusFailed, "test " + StatusFailed, "failed"},
		{StatusFlaky, "test " + StatusFlaky, "flaky"},
		{StatusNotRun, "test " + StatusNotRun, "not run"},
		{ExerciseCompileError, ExerciseCompileError, "did not build"},
		{ExerciseMissing, ExerciseMissing, "missing"},
		{ExerciseInvalid, ExerciseInvalid, "cannot run"},
	} {
		if n := counts[c.count]; n > 0 {
			out = append(out, htmlCount{c.key, n, c.words})
		}
	}
	return out
}

// htmlCellOf makes the cell of a student's exercise.
func htmlCellOf(s *Submission, ex *ExerciseResult, id string) htmlCell {
	c := htmlCell{Student: s.Student, Exercise: ex.Name, Present: true, ID: id,
		Score: scoreOutOf(ex.Score, ex.MaxScore), ScoreNum: numText(ex.Score), MaxNum: numText(ex.MaxScore)}
	passed, flaky := 0, 0
	for k := range ex.Tests {
		switch ex.Tests[k].Status {
		case StatusPassed:
			passed++
		case StatusFlaky:
			flaky++
		}
	}
	switch ex.State {
	case ExerciseRan:
		c.State = scoreState(ex.Score, ex.MaxScore)
		if ex.MaxScore == 0 && passed < len(ex.Tests) {
			c.State = cellZero
		}
		if flaky > 0 {
			c.Note = fmt.Sprintf("%d flaky", flaky)
		}
	case ExerciseMissing:
		c.State, c.Note = ExerciseMissing, "missing"
	case ExerciseCompileError:
		c.State, c.Note = ExerciseCompileError, "build error"
	case ExerciseInvalid:
		c.State, c.Note = ExerciseInvalid, "invalid module"
	default:
		c.State, c.Note = cellZero, oneLine(ex.State)
	}
	c.Tip = fmt.Sprintf("%s · %s: %s", oneLine(s.Student), oneLine(ex.Name), pointsOf(ex.Score, ex.MaxScore))
	if ex.State == ExerciseRan {
		c.Tip += fmt.Sprintf(", %d of %d tests passed", passed, len(ex.Tests))
		if flaky > 0 {
			c.Tip += fmt.Sprintf(", %d flaky", flaky)
		}
	} else {
		c.Tip += ", " + exerciseStateWords(ex)
	}
	return c
}

// scoreState is full, partial or zero.
func scoreState(score, maxScore float64) string {
	switch {
	case score >= maxScore:
		return cellFull
	case score > 0:
		return cellPartial
	}
	return cellZero
}

// htmlExerciseOf makes what the cell of a student's exercise opens.
func htmlExerciseOf(s *Submission, ex *ExerciseResult, id string) htmlExercise {
	e := htmlExercise{ID: id, Student: s.Student, Name: ex.Name,
		Label: oneLine(s.Student) + " · " + oneLine(ex.Name),
		State: ex.State, StateWords: exerciseStateWords(ex),
		Score: scoreOutOf(ex.Score, ex.MaxScore), Source: oneLine(ex.Source),
		Message: htmlBlock(ex.Message)}
	for k := range ex.Tests {
		t := &ex.Tests[k]
		ht := htmlTest{Name: t.Name, Label: oneLine(t.Name), Status: t.Status, StatusWords: htmlStatusWords(t.Status),
			Score: scoreOutOf(t.Score, t.MaxScore), ScoreNum: numText(t.Score), Visibility: t.Visibility}
		switch t.Visibility {
		case "", VisibilityVisible:
		case VisibilityAfterDue:
			ht.VisibilityWords = "shown after the due date"
		case VisibilityPublished:
			ht.VisibilityWords = "shown once published"
		default:
			ht.VisibilityWords = oneLine(t.Visibility)
		}
		// A test that did not run repeats the exercise's message.
		if t.Status != StatusNotRun || strings.TrimSpace(t.Feedback) != strings.TrimSpace(ex.Message) {
			ht.Feedback = htmlBlock(t.Feedback)
		}
		if t.Status == StatusFlaky {
			ht.Flaky = "Flaky: " + flakyWords(t) + "."
		}
		if t.Status != StatusPassed {
			for _, c := range failedChecks(t) {
				ht.Checks = append(ht.Checks, htmlCheck{Name: oneLine(c.Name), Message: htmlBlock(c.Message),
					ShowValues: c.Expected != "" || c.Got != "",
					Expected:   htmlBlock(c.Expected), Got: htmlBlock(c.Got)})
			}
		}
		for n := range t.Runs {
			ht.Runs = append(ht.Runs, htmlRunOf(&t.Runs[n], n+1))
		}
		e.Tests = append(e.Tests, ht)
	}
	return e
}

// htmlRunOf makes the row of a run.
func htmlRunOf(run *Run, n int) htmlRun {
	h := htmlRun{N: n, Passed: run.Passed, Verdict: oneLine(run.Verdict), Explanation: oneLine(run.Explanation),
		ExitStatus: run.ExitStatus, Wall: msText(run.WallMs), CPU: msText(float64(run.CPUMs)),
		Memory: bytesText(run.PeakMemory), Processes: run.Processes,
		Stdout: htmlBlock(run.Stdout), Stderr: htmlBlock(run.Stderr), Timeline: timelineLink(run.Timeline)}
	if run.Chaos != nil {
		h.Chaos = strconv.FormatInt(*run.Chaos, 10)
	}
	return h
}

// timelineLink returns the link to a run's timeline: the path, relative
// to the report's folder, as a URL path with every byte but [A-Za-z0-9._~-]
// and the slashes percent-encoded (so that a student named "50% done" or
// "a:b" links to their folder, and nothing in it reads as a scheme, a
// query or a fragment); or nothing when the path is empty, absolute, or
// leads out of the report's folder.
func timelineLink(p string) string {
	if p == "" || strings.Contains(p, `\`) || !filepath.IsLocal(filepath.FromSlash(p)) {
		return ""
	}
	p = path.Clean(filepath.ToSlash(p))
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("._~-/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// htmlStatusWords says a test's status to a teacher.
func htmlStatusWords(status string) string {
	switch status {
	case StatusPassed:
		return "passed"
	case StatusFailed:
		return "failed"
	case StatusFlaky:
		return "flaky"
	case StatusNotRun:
		return "not run"
	}
	return oneLine(status)
}

// htmlBlock readies a block of text for a <pre> or a paragraph kept as
// written: clipped (clipBlock), with invalid UTF-8 replaced and control
// characters but tabs and line breaks written as Go writes them in a
// string ("\x1b", "\x00"), so that a student's ANSI colours or NUL bytes
// are seen, not swallowed, in any font.
func htmlBlock(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(clipBlock(s), "\uFFFD") {
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// numText formats a number for a data attribute: as short as it reads
// back exactly.
func numText(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// msText formats milliseconds for people: "12.5 ms", "2 s".
func msText(ms float64) string {
	if ms >= 1000 {
		return scoreText(ms/1000) + " s"
	}
	return scoreText(ms) + " ms"
}

// bytesText formats a size in bytes for people, "16 MiB", or "–" for
// none measured.
func bytesText(n int64) string {
	if n <= 0 {
		return "–"
	}
	x, unit := float64(n), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if x < 1024 {
			break
		}
		x, unit = x/1024, u
	}
	return strings.TrimSuffix(strconv.FormatFloat(x, 'f', 1, 64), ".0") + " " + unit
}
