package grade

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrStudentName is wrapped by WriteAll's error for a student whose name
// cannot be a folder of the report: empty, "." or "..", holding a path
// separator or a NUL, or the name of another student.
var ErrStudentName = errors.New("student name cannot name a folder")

// The files WriteAll writes.
const (
	ReportJSONFile      = "report.json"       // WriteJSON
	ReportHTMLFile      = "report.html"       // WriteHTML
	JUnitFile           = "junit.xml"         // WriteJUnit
	SummaryFile         = "summary.txt"       // WriteSummary
	GradescopeFile      = "gradescope.json"   // WriteGradescope, in the student's folder
	PrairieLearnFile    = "prairielearn.json" // WritePrairieLearn, in the student's folder
	FeedbackFile        = "feedback.md"       // WriteFeedback, in the student's folder
	reportFileMode      = 0o644
	reportDirectoryMode = 0o755
)

// WriteAll writes every format of the report into dir:
//
//	dir/report.json
//	dir/report.html
//	dir/junit.xml
//	dir/summary.txt
//	dir/STUDENT/gradescope.json
//	dir/STUDENT/prairielearn.json
//	dir/STUDENT/feedback.md
//
// with a folder per submission named after the student (the name of the
// submission's folder). The timelines report.html links to are not
// written here: KeepTimelines copies them into dir/timelines/ first. It
// checks every name before it writes anything and refuses one that would
// lead out of dir or onto another student's folder (ErrStudentName). Each
// file is written whole or not at all (a temporary file in the same
// folder, renamed over the old one), so a reader never sees half a report,
// and a grading stopped midway leaves the files of the last grading as
// they were.
func WriteAll(dir string, r *Report) error {
	if err := checkStudentNames(r); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, reportDirectoryMode); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	top := []struct {
		name  string
		write func(io.Writer, *Report) error
	}{
		{ReportJSONFile, WriteJSON},
		{ReportHTMLFile, WriteHTML},
		{JUnitFile, WriteJUnit},
		{SummaryFile, WriteSummary},
	}
	for _, f := range top {
		if err := writeReportFile(filepath.Join(dir, f.name), func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return err
		}
	}
	per := []struct {
		name  string
		write func(io.Writer, *Submission) error
	}{
		{GradescopeFile, WriteGradescope},
		{PrairieLearnFile, WritePrairieLearn},
		{FeedbackFile, WriteFeedback},
	}
	for i := range r.Submissions {
		s := &r.Submissions[i]
		sub := filepath.Join(dir, s.Student)
		if err := os.MkdirAll(sub, reportDirectoryMode); err != nil {
			return fmt.Errorf("write reports of %s: %w", s.Student, err)
		}
		for _, f := range per {
			if err := writeReportFile(filepath.Join(sub, f.name), func(w io.Writer) error { return f.write(w, s) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkStudentNames refuses a report with a student's name that is not
// one plain folder name, or with two submissions of one student.
func checkStudentNames(r *Report) error {
	seen := make(map[string]bool, len(r.Submissions))
	for i := range r.Submissions {
		name := r.Submissions[i].Student
		if err := checkStudentName(name); err != nil {
			return err
		}
		if seen[name] {
			return fmt.Errorf("%w: two submissions of %q", ErrStudentName, name)
		}
		seen[name] = true
	}
	return nil
}

// checkStudentName refuses a student's name that is not one plain folder
// name inside the report's folder.
func checkStudentName(name string) error {
	switch {
	case name == "", name == ".", name == "..",
		strings.ContainsAny(name, `/\`+"\x00"),
		strings.ContainsRune(name, filepath.Separator),
		!filepath.IsLocal(name):
		return fmt.Errorf("%w: %q", ErrStudentName, name)
	}
	return nil
}

// writeReportFile renders a file in memory, then writes it to a temporary
// file beside path and renames that over path: the file is whole or
// absent, never half written.
func writeReportFile(path string, render func(io.Writer) error) (err error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(reportFileMode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
