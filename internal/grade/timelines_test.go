package grade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// timelinePage is the stand-in for the timeline of a run: a page whose
// title says whose run it is.
func timelinePage(student, exercise, test string, run int) string {
	return fmt.Sprintf("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>timeline of %s %s/%s run %d</title></head><body>timeline</body></html>\n",
		student, exercise, test, run)
}

// timelineClass is repClass graded with Config.Timelines: every run has a
// timeline in work where the grading leaves it (STUDENT/EXERCISE/
// testT-runN/timeline.html, relative to work), written there.
func timelineClass(t *testing.T, work string) *Report {
	t.Helper()
	r := repClass()
	for i := range r.Submissions {
		s := &r.Submissions[i]
		for j := range s.Exercises {
			ex := &s.Exercises[j]
			for k := range ex.Tests {
				tr := &ex.Tests[k]
				for n := range tr.Runs {
					rel := filepath.Join(s.Student, ex.Name, fmt.Sprintf("test%d-run%d", k+1, n+1), "timeline.html")
					tr.Runs[n].Timeline = rel
					path := filepath.Join(work, rel)
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(timelinePage(s.Student, ex.Name, tr.Name, n+1)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	return r
}

// runTimelines lists "STUDENT EXERCISE/TEST run N: TIMELINE" for every run
// of a report that has a timeline.
func runTimelines(r *Report) []string {
	var out []string
	for _, s := range r.Submissions {
		for _, ex := range s.Exercises {
			for _, tr := range ex.Tests {
				for n, run := range tr.Runs {
					if run.Timeline != "" {
						out = append(out, fmt.Sprintf("%s %s/%s run %d: %s", s.Student, ex.Name, tr.Name, n+1, run.Timeline))
					}
				}
			}
		}
	}
	return out
}

func TestKeepTimelines(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatal(err)
	}
	// alice's flaky test keeps all three runs (the passing ones to
	// compare), bob's and zoë's failed tests their one run; the tests
	// that passed keep none.
	want := []string{
		"alice workers/order run 1: timelines/alice/workers/1-run1.html",
		"alice workers/order run 2: timelines/alice/workers/1-run2.html",
		"alice workers/order run 3: timelines/alice/workers/1-run3.html",
		"bob workers/order run 1: timelines/bob/workers/1-run1.html",
		"zoë fib/small run 1: timelines/zoë/fib/1-run1.html",
		"zoë fib/" + repHiddenName + " run 1: timelines/zoë/fib/2-run1.html",
	}
	if got := runTimelines(r); !slices.Equal(got, want) {
		t.Errorf("the runs' timelines after KeepTimelines:\n got %q\nwant %q", got, want)
	}
	files := repFiles(t, out)
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var wantFiles []string
	for _, w := range want {
		_, file, _ := strings.Cut(w, ": ")
		wantFiles = append(wantFiles, file)
	}
	slices.Sort(wantFiles)
	if !slices.Equal(names, wantFiles) {
		t.Errorf("KeepTimelines wrote\n%q\nwant\n%q (no temporary file left behind)", names, wantFiles)
	}
	check := map[string]string{
		"timelines/alice/workers/1-run2.html": timelinePage("alice", "workers", "order", 2),
		"timelines/zoë/fib/2-run1.html":       timelinePage("zoë", "fib", repHiddenName, 1),
	}
	for name, page := range check {
		if string(files[name]) != page {
			t.Errorf("%s holds %q, want the run's timeline %q", name, files[name], page)
		}
		info, err := os.Stat(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want -rw-r--r--", name, info.Mode().Perm())
		}
	}

	// Again, into the same folder: the same files, the same paths.
	again := timelineClass(t, work)
	if err := KeepTimelines(again, work, out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, r) || !reflect.DeepEqual(repFiles(t, out), files) {
		t.Error("a second KeepTimelines into the same folder kept other timelines")
	}
}

func TestKeepTimelinesMissingOrOutside(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	bob := repStudent(r, "bob")
	zoe := repStudent(r, "zoë")
	// bob's run ended before writing its timeline; zoë's runs name paths
	// out of the work dir.
	if err := os.Remove(filepath.Join(work, bob.Exercises[1].Tests[0].Runs[0].Timeline)); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.html")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	zoe.Exercises[0].Tests[0].Runs[0].Timeline = outside
	zoe.Exercises[0].Tests[1].Runs[0].Timeline = filepath.Join("..", filepath.Base(filepath.Dir(outside)), "secret.html")
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatalf("KeepTimelines with a missing timeline and paths out of the work dir: %v, want no error", err)
	}
	want := []string{
		"alice workers/order run 1: timelines/alice/workers/1-run1.html",
		"alice workers/order run 2: timelines/alice/workers/1-run2.html",
		"alice workers/order run 3: timelines/alice/workers/1-run3.html",
	}
	if got := runTimelines(r); !slices.Equal(got, want) {
		t.Errorf("the runs' timelines:\n got %q\nwant %q (a missing one or one out of the work dir cleared)", got, want)
	}
	if _, err := os.Stat(filepath.Join(out, "timelines", "zoë")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("KeepTimelines made timelines/zoë for timelines out of the work dir (stat: %v)", err)
	}
}

func TestKeepTimelinesNames(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	// Rename zoë's exercises after their timelines were written: the
	// names in the report are what the timelines' folders are named by.
	zoe := repStudent(r, "zoë")
	small, hidden := zoe.Exercises[0].Tests[0], zoe.Exercises[0].Tests[1]
	small.Runs, hidden.Runs = slices.Clone(small.Runs), slices.Clone(hidden.Runs)
	zoe.Exercises[0].Name = "../fib ü/x"
	zoe.Exercises[0].Tests = zoe.Exercises[0].Tests[:1]
	zoe.Exercises = append(zoe.Exercises,
		ExerciseResult{Name: "..", State: ExerciseRan, Tests: []TestResult{hidden}},
		ExerciseResult{Name: ".._FIB_%_x", State: ExerciseRan, Tests: []TestResult{small}},
	)
	if err := KeepTimelines(r, work, out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ex := range zoe.Exercises {
		for _, tr := range ex.Tests {
			for _, run := range tr.Runs {
				got = append(got, run.Timeline)
			}
		}
	}
	want := []string{
		"timelines/zoë/_.._fib___x/1-run1.html",
		// workers did not run: no runs
		"timelines/zoë/_../1-run1.html",
		"timelines/zoë/_.._FIB___x-2/1-run1.html", // the same name as the first but for case
	}
	if !slices.Equal(got, want) {
		t.Errorf("zoë's timelines:\n got %q\nwant %q", got, want)
	}
	for _, p := range want {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); err != nil {
			t.Errorf("no timeline at %s: %v", p, err)
		}
	}

	for name, want := range map[string]string{
		"":                        "_",
		".":                       "_.",
		".hidden":                 "_.hidden",
		"a b/c\\d:e":              "a_b_c_d_e",
		"Ünïcode ✓":               "_n_code__",
		"ok-name_1.2":             "ok-name_1.2",
		"\xff\x00":                "__",
		string(make([]byte, 300)): string(slices.Repeat([]byte{'_'}, maxFileName)),
	} {
		if got := safeFileName(name); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestKeepTimelinesRefusesNames(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	r.Submissions[0].Student = "../alice"
	before := runTimelines(r)
	err := KeepTimelines(r, work, out)
	if !errors.Is(err, ErrStudentName) {
		t.Fatalf("KeepTimelines with a student named ../alice: error %v, want ErrStudentName", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("KeepTimelines refused the name yet wrote %v", ents)
	}
	if got := runTimelines(r); !slices.Equal(got, before) {
		t.Errorf("KeepTimelines failed yet changed the report:\n got %q\nwant %q", got, before)
	}
}

func TestKeepTimelinesErrorLeavesReport(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	r := timelineClass(t, work)
	// zoë's first failed run's timeline is a folder: it cannot be read.
	zoe := repStudent(r, "zoë")
	bad := filepath.Join(work, "zoë", "fib", "folder")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	zoe.Exercises[0].Tests[0].Runs[0].Timeline = filepath.Join("zoë", "fib", "folder")
	before := runTimelines(r)
	if err := KeepTimelines(r, work, out); err == nil {
		t.Fatal("KeepTimelines of a timeline that is a folder: no error")
	}
	if got := runTimelines(r); !slices.Equal(got, before) {
		t.Errorf("KeepTimelines failed yet changed the report:\n got %q\nwant %q", got, before)
	}
}
