package grade

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// TimelinesDir is the folder of the reports that KeepTimelines copies the
// timelines of the tests that did not pass into.
const TimelinesDir = "timelines"

// maxFileName bounds a name made from an exercise's, well below what file
// systems allow (255 bytes).
const maxFileName = 100

// KeepTimelines keeps the timelines worth reading once the work dir is
// gone: for every run of a test that failed or was flaky (its passing runs
// too, to compare), it copies the run's timeline, workDir/Run.Timeline
// (as Config.Timelines has the grading leave it), to
//
//	outDir/timelines/STUDENT/EXERCISE/TEST-runN.html
//
// (TEST and N counted from 1 in the spec's order; EXERCISE is the
// exercise's name with every character but [A-Za-z0-9._-] replaced by _,
// made unique within the submission) and sets Run.Timeline to that path,
// relative to outDir and with forward slashes, the link of report.html.
// The runs of a test that passed, or did not run, keep no timeline:
// their Run.Timeline is cleared, as is that of a run whose timeline is
// not there (the run ended before writing it) or whose path does not lead
// inside workDir.
//
// Call it after Grade and before WriteAll, with WriteAll's folder. It
// refuses, before it copies anything, a student's name that WriteAll would
// refuse (ErrStudentName). Each file is copied whole or not at all; on an
// error the report is left as it was. Timelines of an earlier grading into
// the same folder are replaced when they have the same name, and left
// otherwise.
func KeepTimelines(r *Report, workDir, outDir string) error {
	if err := checkStudentNames(r); err != nil {
		return err
	}
	// The new paths, set once every copy is made.
	var kept []keptTimeline
	for i := range r.Submissions {
		s := &r.Submissions[i]
		folders := exerciseFolders(s)
		for j := range s.Exercises {
			ex := &s.Exercises[j]
			for k := range ex.Tests {
				t := &ex.Tests[k]
				keep := t.Status == StatusFailed || t.Status == StatusFlaky
				for n := range t.Runs {
					run := &t.Runs[n]
					if run.Timeline == "" {
						continue
					}
					if !keep {
						kept = append(kept, keptTimeline{run, ""})
						continue
					}
					rel := path.Join(TimelinesDir, s.Student, folders[j], fmt.Sprintf("%d-run%d.html", k+1, n+1))
					ok, err := copyTimeline(workDir, run.Timeline, filepath.Join(outDir, filepath.FromSlash(rel)))
					if err != nil {
						return fmt.Errorf("keep the timeline of %s %s/%s run %d: %w", s.Student, ex.Name, t.Name, n+1, err)
					}
					if !ok {
						rel = ""
					}
					kept = append(kept, keptTimeline{run, rel})
				}
			}
		}
	}
	for _, k := range kept {
		k.run.Timeline = k.path
	}
	return nil
}

// keptTimeline is the new Run.Timeline of a run.
type keptTimeline struct {
	run  *Run
	path string
}

// copyTimeline copies workDir/src to dst, whole or not at all, and says
// whether there was a timeline to copy: false, and no error, when src is
// not there or leads out of workDir.
func copyTimeline(workDir, src, dst string) (bool, error) {
	src = filepath.FromSlash(src)
	if !filepath.IsLocal(src) {
		return false, nil
	}
	f, err := os.Open(filepath.Join(workDir, src))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := os.MkdirAll(filepath.Dir(dst), reportDirectoryMode); err != nil {
		return false, err
	}
	err = writeReportFile(dst, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
	return err == nil, err
}

// exerciseFolders names the folder of each exercise of a submission: its
// name made safe (safeFileName), with -2, -3, ... added to a name that
// another exercise already has, ignoring case (as some file systems do).
func exerciseFolders(s *Submission) []string {
	used := map[string]bool{}
	out := make([]string, len(s.Exercises))
	for j := range s.Exercises {
		base := safeFileName(s.Exercises[j].Name)
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		used[strings.ToLower(name)] = true
		out[j] = name
	}
	return out
}

// safeFileName makes a name safe as a file's name anywhere: every
// character but [A-Za-z0-9._-] becomes _, a name that starts with a dot
// (".", "..", a hidden file) or is empty gets a _ in front, and a long
// name is cut to maxFileName bytes.
func safeFileName(name string) string {
	b := []byte(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, strings.ToValidUTF8(name, "_")))
	if len(b) == 0 || b[0] == '.' {
		b = append([]byte{'_'}, b...)
	}
	if len(b) > maxFileName {
		b = b[:maxFileName]
	}
	return string(b)
}
