//go:build !linux

package runner

import "github.com/sandbox-dev/sandbox/internal/wire"

// direct: direct pipes are served on Linux only (direct_linux.go);
// elsewhere the host serves every pipe.
type direct struct{}

func newDirect(*remote, int32) *direct { return nil }

func (*direct) close() {}

func (*direct) serve(*wire.Msg) (*wire.Msg, bool, error) { return nil, false, nil }
