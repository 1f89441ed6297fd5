package grade

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
)

// The structure Jenkins (junit-plugin) and GitLab (unit test reports) read,
// as report_junit.go describes it: the elements each element may hold and
// the attributes each may have, with the kind of value ("int", "seconds",
// or "" for any text).
var (
	junitChildren = map[string][]string{
		"":           {"testsuites"},
		"testsuites": {"testsuite"},
		"testsuite":  {"properties", "testcase", "system-out", "system-err"},
		"properties": {"property"},
		"testcase":   {"failure", "error", "skipped", "system-out", "system-err"},
	}
	junitAttrs = map[string]map[string]string{
		"testsuites": {"name": "", "tests": "int", "failures": "int", "errors": "int", "skipped": "int", "time": "seconds"},
		"testsuite": {"name": "", "tests": "int", "failures": "int", "errors": "int", "skipped": "int", "time": "seconds",
			"timestamp": "", "hostname": "", "id": "", "package": ""},
		"property": {"name": "", "value": ""},
		"testcase": {"classname": "", "name": "", "time": "seconds", "file": ""},
		"failure":  {"message": "", "type": ""},
		"error":    {"message": "", "type": ""},
		"skipped":  {"message": ""},
	}
)

// junitRead is the JUnit document as a CI server reads it.
type junitRead struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Time       string `xml:"time,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, repClass()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) {
		t.Errorf("the JUnit report does not begin with the XML declaration: %.60q", buf.String())
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	stack := []string{""}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the JUnit report is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			parent, name := stack[len(stack)-1], tok.Name.Local
			if !strings.Contains(" "+strings.Join(junitChildren[parent], " ")+" ", " "+name+" ") {
				t.Errorf("<%s> inside <%s>: Jenkins and GitLab read only %v there", name, parent, junitChildren[parent])
			}
			for _, a := range tok.Attr {
				kind, ok := junitAttrs[name][a.Name.Local]
				if !ok {
					t.Errorf("<%s %s=...>: not an attribute JUnit readers know", name, a.Name.Local)
				}
				switch kind {
				case "int":
					if _, err := strconv.Atoi(a.Value); err != nil {
						t.Errorf("<%s %s=%q>: want an integer", name, a.Name.Local, a.Value)
					}
				case "seconds":
					if f, err := strconv.ParseFloat(a.Value, 64); err != nil || f < 0 {
						t.Errorf("<%s %s=%q>: want seconds", name, a.Name.Local, a.Value)
					}
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

func TestJUnitContent(t *testing.T) {
	class := repClass()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, class); err != nil {
		t.Fatal(err)
	}
	var doc junitRead
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the JUnit report does not parse: %v", err)
	}
	if len(doc.Suites) != len(class.Submissions) {
		t.Fatalf("%d test suites, want one per submission (%d)", len(doc.Suites), len(class.Submissions))
	}
	type counts struct{ tests, failures, errors, skipped int }
	wantCounts := map[string]counts{
		"alice": {4, 1, 0, 0}, // the flaky test is a failure
		"bob":   {4, 1, 0, 2}, // fib did not build: its two tests are skipped
		"zoë":   {4, 2, 0, 2}, // no workers: its two tests are skipped
	}
	var total counts
	for i, s := range doc.Suites {
		sub := &class.Submissions[i]
		if s.Name != sub.Student {
			t.Errorf("suite %d is named %q, want the student %q", i, s.Name, sub.Student)
		}
		got := counts{s.Tests, s.Failures, s.Errors, s.Skipped}
		if got != wantCounts[s.Name] {
			t.Errorf("suite %s counts tests, failures, errors, skipped as %v, want %v", s.Name, got, wantCounts[s.Name])
		}
		var recount counts
		for _, c := range s.Cases {
			recount.tests++
			if c.Failure != nil {
				recount.failures++
			}
			if c.Skipped != nil {
				recount.skipped++
			}
		}
		if recount != got {
			t.Errorf("suite %s: its test cases count %v, its attributes say %v", s.Name, recount, got)
		}
		total.tests += got.tests
		total.failures += got.failures
		total.skipped += got.skipped
		if len(s.Properties) != 2 || s.Properties[0].Value != scoreText(sub.Score) || s.Properties[1].Value != scoreText(sub.MaxScore) {
			t.Errorf("suite %s: properties %+v, want score %v and max_score %v", s.Name, s.Properties, sub.Score, sub.MaxScore)
		}
	}
	if got := (counts{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}); got != total {
		t.Errorf("<testsuites> counts %v, its suites add up to %v", got, total)
	}

	// Each case, as a CI server shows it.
	order := doc.Suites[0].Cases[2]
	if order.Classname != "workers" || order.Name != "order" || order.Time != "0.038" {
		t.Errorf("alice's third case is %s/%s in %ss, want workers/order in 0.038s (the sum of its 3 runs)",
			order.Classname, order.Name, order.Time)
	}
	type outcome struct {
		failure       bool // else skipped
		message, text string
	}
	outcomes := map[string]outcome{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			key := s.Name + " " + c.Classname + "/" + c.Name
			switch {
			case c.Failure != nil:
				outcomes[key] = outcome{true, c.Failure.Message, c.Failure.Text}
			case c.Skipped != nil:
				outcomes[key] = outcome{false, c.Skipped.Message, c.Skipped.Text}
			}
		}
	}
	tests := []struct {
		key     string
		why     string
		failure bool
		wantIn  []string
	}{
		{"alice workers/order", "flaky", true, []string{"passed 2 of 3 runs", "look for a race",
			"Check failed: stdout lines", "expected:", "got:", "worker 2", "chaos seed 7"}},
		{"bob fib/small", "compile error", false, []string{"fib did not build",
			`./fib.go:9:2: x < y && "z" declared and not used`}},
		{"bob workers/order", "time limit, long output", true, []string{"did not finish in time",
			"time_limit (exit status 124)", "bytes left out", "worker 2999: ünïcödé ✓ 日本語", "panic: ⚠ überlauf"}},
		{"zoë fib/small", "XML characters, ESC and NUL", true, []string{"<b>&amp;</b> ]]>",
			`<55> & "quoted" ]]>` + "\uFFFD", "\uFFFD[31mred"}},
		{"zoë fib/" + repHiddenName, "hidden: instructors see it", true, []string{repHiddenFeedback, repHiddenGot}},
		{"zoë workers/order", "missing", false, []string{"The submission has no workers"}},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.why, func(t *testing.T) {
			o, ok := outcomes[tt.key]
			if !ok {
				t.Fatalf("no failure or skipped element for %s", tt.key)
			}
			if o.failure != tt.failure {
				t.Errorf("failure = %v, want %v", o.failure, tt.failure)
			}
			if o.message == "" {
				t.Errorf("no message attribute (Jenkins shows it as the error message)")
			}
			for _, want := range tt.wantIn {
				if !strings.Contains(o.text, want) {
					t.Errorf("the element's text lacks %q:\n%s", want, o.text)
				}
			}
			if len(o.text) > 4*clipBytes {
				t.Errorf("the element's text has %d bytes: long outputs are not clipped", len(o.text))
			}
		})
	}
	if n := len(outcomes); n != 8 {
		t.Errorf("%d failed or skipped cases, want 8 (alice 1, bob 3, zoë 4)", n)
	}
}
