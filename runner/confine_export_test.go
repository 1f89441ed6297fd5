//go:build linux

package runner

import "github.com/hashicorp/go-hclog"

// Confine applies to the calling process what Main applies to a runner
// started with --confine (the default) for module and cacheDir, and
// returns the lockdown Main runs just before the Hello.
func Confine(module, cacheDir string) (lockdown func() error, err error) {
	return confine(confineConfig{Confine: true, Landlock: true, Module: module, CacheDir: cacheDir}, hclog.NewNullLogger())
}
