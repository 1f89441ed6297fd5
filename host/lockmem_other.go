//go:build !linux

package host

import "errors"

// mapLockMemory: direct locks are served on Linux only (the runner's side
// is there: runner/directlock_linux.go).
func mapLockMemory(int) (int, []byte, error) { return -1, nil, errors.New("direct locks need Linux") }

func unmapLockMemory(int, []byte) {}
