package grade

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// repFiles reads every file under dir, by path relative to dir.
func repFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestWriteAllLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") // WriteAll makes it
	class := repClass()
	if err := WriteAll(dir, class); err != nil {
		t.Fatal(err)
	}
	files := repFiles(t, dir)
	want := []string{"junit.xml", "report.html", "report.json", "summary.txt"}
	for _, s := range []string{"alice", "bob", "zoë"} {
		want = append(want, s+"/feedback.md", s+"/gradescope.json", s+"/prairielearn.json")
	}
	var got []string
	for name := range files {
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("WriteAll wrote\n%v\nwant\n%v (no temporary file left behind)", got, want)
	}
	for name, data := range files {
		switch filepath.Ext(name) {
		case ".json":
			if !json.Valid(data) {
				t.Errorf("%s is not valid JSON", name)
			}
		case ".xml":
			if err := xml.Unmarshal(data, new(struct{})); err != nil {
				t.Errorf("%s is not XML: %v", name, err)
			}
		case ".html":
			var page bytes.Buffer
			if err := WriteHTML(&page, class); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, page.Bytes()) {
				t.Errorf("%s is not WriteHTML's output", name)
			}
		}
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want -rw-r--r--", name, info.Mode().Perm())
		}
	}
	back, err := ReadJSON(bytes.NewReader(files["report.json"]))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, class) {
		t.Error("report.json does not read back as the report written")
	}
	var fb bytes.Buffer
	if err := WriteFeedback(&fb, repStudent(class, "zoë")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["zoë/feedback.md"], fb.Bytes()) {
		t.Error("zoë/feedback.md is not WriteFeedback's output for zoë")
	}
}

func TestWriteAllRefusesNames(t *testing.T) {
	tests := []struct {
		name     string
		students []string
	}{
		{"a parent folder", []string{"alice", "../x"}},
		{"dot dot", []string{".."}},
		{"dot", []string{"."}},
		{"a sub-folder", []string{"a/b"}},
		{"a backslash", []string{`a\b`}},
		{"an absolute path", []string{"/tmp/x"}},
		{"empty", []string{""}},
		{"a NUL", []string{"a\x00b"}},
		{"the same student twice", []string{"alice", "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "out")
			r := &Report{Version: ReportVersion, Spec: "s.yaml"}
			for _, s := range tt.students {
				r.Submissions = append(r.Submissions, Submission{Student: s})
			}
			err := WriteAll(dir, r)
			if !errors.Is(err, ErrStudentName) {
				t.Fatalf("WriteAll with students %q: error %v, want ErrStudentName", tt.students, err)
			}
			// Nothing written, in dir or beside it.
			ents, err := os.ReadDir(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 0 {
				t.Errorf("WriteAll refused the names yet wrote %v", ents)
			}
		})
	}
}

func TestWriteAllReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(dir, repClass()); err != nil {
		t.Fatal(err)
	}
	// A second grading in which alice scored less replaces her files.
	again := repClass()
	alice := repStudent(again, "alice")
	alice.Score = 1
	alice.Exercises[0].Score = 0
	if err := WriteAll(dir, again); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "alice", "feedback.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "**Score: 1 of 10 points.**") {
		t.Errorf("alice/feedback.md was not replaced:\n%s", data)
	}
}

func TestReportDeterministic(t *testing.T) {
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"json", func(w io.Writer) error { return WriteJSON(w, repClass()) }},
		{"junit", func(w io.Writer) error { return WriteJUnit(w, repClass()) }},
		{"summary", func(w io.Writer) error { return WriteSummary(w, repClass()) }},
		{"html", func(w io.Writer) error { return WriteHTML(w, repClass()) }},
		{"gradescope", func(w io.Writer) error { return WriteGradescope(w, repStudent(repClass(), "alice")) }},
		{"prairielearn", func(w io.Writer) error { return WritePrairieLearn(w, repStudent(repClass(), "bob")) }},
		{"feedback", func(w io.Writer) error { return WriteFeedback(w, repStudent(repClass(), "zoë")) }},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := w.write(&a); err != nil {
				t.Fatal(err)
			}
			if err := w.write(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("two writings of the same report differ:\n%s\n---\n%s", a.Bytes(), b.Bytes())
			}
		})
	}
	t.Run("WriteAll", func(t *testing.T) {
		d1, d2 := t.TempDir(), t.TempDir()
		if err := WriteAll(d1, repClass()); err != nil {
			t.Fatal(err)
		}
		if err := WriteAll(d2, repClass()); err != nil {
			t.Fatal(err)
		}
		if f1, f2 := repFiles(t, d1), repFiles(t, d2); !reflect.DeepEqual(f1, f2) {
			t.Error("two WriteAll of the same report wrote different files")
		}
	})
}
