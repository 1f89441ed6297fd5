//go:build !linux

package runner

import (
	"errors"
	"os"

	"github.com/tetratelabs/wazero"
)

// leanLoads: lean forms are Linux's only (leancode_linux.go).
const leanLoads = false

type leanCode struct{}

var errLayout = errors.New("no lean loads outside Linux")

func mapLeanCode(*Lean, string) (*leanCode, error) {
	return nil, errors.New("no lean loads outside Linux")
}

func entryCode(string) ([]byte, uint32, error) {
	return nil, 0, errors.New("no lean loads outside Linux")
}

func entrySum(string) (int, uint32, error) { return 0, 0, errors.New("no lean loads outside Linux") }

func (*leanCode) unmap() {}

func (*leanCode) takeCode(wazero.CompiledModule, []byte) error {
	return errors.New("no lean loads outside Linux")
}

func codeVersion(os.FileInfo, int, uint32) string { return "" }

func settledVersion(os.FileInfo, int, uint32) string { return "" }

func verifyCode(string, int, uint32) (string, error) {
	return "", errors.New("no lean loads outside Linux")
}
