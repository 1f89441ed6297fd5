package grade

import (
	"errors"
	"fmt"
	"sort"
)

// Merge combines the reports of the shards of one grading (sandbox grade
// --shard I/N) into the report an unsharded grading gives: the same spec,
// every submission once, sorted by student.
func Merge(shards ...*Report) (*Report, error) {
	if len(shards) == 0 {
		return nil, errors.New("merge: no reports")
	}
	first := shards[0]
	out := &Report{Version: first.Version, Spec: first.Spec, Title: first.Title, MaxScore: first.MaxScore, Submissions: []Submission{}}
	seen := map[string]int{}
	for i, r := range shards {
		if r.Version != first.Version || r.Spec != first.Spec || r.Title != first.Title || r.MaxScore != first.MaxScore {
			return nil, fmt.Errorf("merge: report %d is of another grading (spec %q, max score %v) than report 1 (spec %q, max score %v)",
				i+1, r.Spec, r.MaxScore, first.Spec, first.MaxScore)
		}
		for _, s := range r.Submissions {
			if j, dup := seen[s.Student]; dup {
				return nil, fmt.Errorf("merge: %s is graded in reports %d and %d (shards overlap)", s.Student, j, i+1)
			}
			seen[s.Student] = i + 1
			out.Submissions = append(out.Submissions, s)
		}
	}
	sort.Slice(out.Submissions, func(a, b int) bool { return out.Submissions[a].Student < out.Submissions[b].Student })
	return out, nil
}
