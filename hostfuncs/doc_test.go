package hostfuncs_test

import (
	"os"
	"testing"
)

func readABI(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../docs/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
