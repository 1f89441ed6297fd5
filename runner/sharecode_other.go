//go:build !linux

package runner

import (
	"errors"
	"os"
)

// codeMapping is an executable mapping; sharing them is Linux's only.
type codeMapping struct{ start, end uintptr }

func codeMappings() (map[codeMapping]bool, error) { return nil, nil }

// KeepSelfMaps does nothing outside Linux.
func KeepSelfMaps() {}

var errCodeUnmapped = errors.New("the machine code was unmapped by a failed mmap")

const codeTemp = ".code-"

// shareCode shares nothing outside Linux (see sharecode_linux.go).
func shareCode(string, []byte) (string, error) { return "", nil }

// newCode finds no machine code outside Linux.
func newCode(map[codeMapping]bool) []byte { return nil }

func codeName([]byte) string { return "" }

func execAllowed(string) error { return nil }

func codeFile(string, []byte) (*os.File, string, error) {
	return nil, "", errors.New("no code files outside Linux")
}

// minShared: see sharecode_linux.go.
const minShared = 1 << 20
