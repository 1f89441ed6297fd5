//go:build !linux

package runner

import (
	"github.com/sandbox-dev/sandbox/hostfuncs"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/wire"
)

// direct: direct pipes are served on Linux only (direct_linux.go);
// elsewhere the host serves every pipe.
type direct struct{}

func newDirect(*remote, int32) *direct { return nil }

func (*direct) close() {}

func (*direct) serve(*wire.Msg) (*wire.Msg, bool, error) { return nil, false, nil }

func (*direct) shortcut(abi.Op, *hostfuncs.IntArgs) (int64, abi.Errno, bool, error) {
	return 0, abi.OK, false, nil
}
