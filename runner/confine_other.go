//go:build !linux

package runner

import (
	"errors"

	"github.com/hashicorp/go-hclog"
)

// confine is implemented on Linux only: elsewhere a runner asked for a
// limit refuses to start, and one asked for confinement (the default)
// says in the debug log that it has none.
func confine(cfg confineConfig, log hclog.Logger) (lockdown func() error, err error) {
	if cfg.CPUSeconds > 0 || cfg.MemoryMiB > 0 {
		return nil, errors.New("--cpu-limit and --memory-limit-mib are implemented on Linux only")
	}
	if cfg.Confine {
		log.Debug("runner not confined: seccomp and Landlock are Linux only")
	}
	return nil, nil
}
