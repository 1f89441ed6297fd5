//go:build linux

package runner

import (
	"cmp"
	"slices"
	"testing"
)

// TestSubtract: the parts of a mapping line outside every older mapping,
// whichever way the kernel merged them into it.
func TestSubtract(t *testing.T) {
	m := func(start, end uintptr) codeMapping { return codeMapping{start, end} }
	line := m(100, 200)
	tests := []struct {
		name string
		old  []codeMapping
		want []codeMapping
	}{
		{"none", nil, []codeMapping{line}},
		{"apart", []codeMapping{m(0, 100), m(200, 300)}, []codeMapping{line}},
		{"at the start", []codeMapping{m(50, 130)}, []codeMapping{m(130, 200)}},
		{"at the end", []codeMapping{m(170, 250)}, []codeMapping{m(100, 170)}},
		{"in the middle", []codeMapping{m(140, 160)}, []codeMapping{m(100, 140), m(160, 200)}},
		{"all of it", []codeMapping{m(100, 200)}, nil},
		{"several", []codeMapping{m(100, 110), m(150, 160), m(190, 200)}, []codeMapping{m(110, 150), m(160, 190)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := map[codeMapping]bool{}
			for _, o := range tt.old {
				old[o] = true
			}
			got := subtract(line, old)
			slices.SortFunc(got, func(a, b codeMapping) int { return cmp.Compare(a.start, b.start) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("subtract(%v, %v) = %v, want %v", line, tt.old, got, tt.want)
			}
		})
	}
}
