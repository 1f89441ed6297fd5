//go:build !linux

package runner

// codeMapping is an executable mapping; sharing them is Linux's only.
type codeMapping struct{ start, end uintptr }

func codeMappings() (map[codeMapping]bool, error) { return nil, nil }

// shareCode shares nothing outside Linux (see sharecode_linux.go).
func shareCode(dir string, before map[codeMapping]bool) (string, error) { return "", nil }
