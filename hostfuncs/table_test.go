package hostfuncs

import "testing"

// TestOpNames: every import's op carries the import's name, so that the
// host's logs name calls as the ABI does.
func TestOpNames(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range functions {
		if got := f.op.String(); got != f.name {
			t.Errorf("op of %s is named %q", f.name, got)
		}
		if seen[f.name] {
			t.Errorf("%s defined twice", f.name)
		}
		seen[f.name] = true
	}
}
