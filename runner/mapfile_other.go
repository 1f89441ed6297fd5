//go:build !linux

package runner

import "os"

// mapModule reads the module file f (mapfile_linux.go maps it).
func mapModule(f *os.File) ([]byte, error) { return readAll(f) }
