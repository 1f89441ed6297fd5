//go:build !linux

package host_test

import "testing"

// datagramBound is the largest message a direct pipe's datagram carries:
// there are none here, so any size does.
func datagramBound(*testing.T) int { return 53248 }
