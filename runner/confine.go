package runner

import (
	"io"
	"sync"
)

// The runner OS process is the second wall after WebAssembly: Main
// confines it before it loads the module (confine, in confine_linux.go),
// in three layers.
//
//   - Resource limits: RLIMIT_CPU (--cpu-limit), RLIMIT_DATA
//     (--memory-limit-mib), RLIMIT_CORE 0, RLIMIT_FSIZE and RLIMIT_NOFILE
//     bounded. Always applied (flags at 0 leave CPU and data alone).
//   - no_new_privs and a seccomp filter (--confine): an allowlist of the
//     system calls a runner makes; everything else fails with EPERM.
//   - Landlock (--confine, where the kernel has it): the file system is
//     reduced to reading the module and reading and writing the cache
//     directory; no TCP bind or connect; no signals to, or abstract
//     sockets of, processes outside the runner.
//
// The seccomp filter comes in two stages. At start-up it still allows
// the file system calls the loading of the module needs (opening the
// module, reading, and on a miss writing, the compilation cache; Landlock
// bounds which files). Just before the Hello, which Run sends once the
// module is loaded and before anything of the guest runs, a second
// filter removes them: the guest's whole life runs without openat.

// confineConfig is how Main confines its runner, from its flags.
type confineConfig struct {
	// CPUSeconds is the CPU time limit (0: none): SIGXCPU at CPUSeconds,
	// SIGKILL a second later.
	CPUSeconds uint64
	// CPULifetime, when above CPUSeconds+1, is the hard limit instead: a
	// runner that serves several processes one after another has its soft
	// limit moved by the host (prlimit) before each, to the CPU time used
	// so far plus CPUSeconds, within this ceiling (which only privilege
	// could raise).
	CPULifetime uint64
	// MemoryMiB bounds the runner's data segment (0: none).
	MemoryMiB uint64
	// Confine turns on no_new_privs, seccomp and Landlock.
	Confine bool
	// Landlock, with Confine, turns on Landlock (off only to measure or
	// diagnose).
	Landlock bool
	// Module and CacheDir are what Landlock leaves reachable.
	Module, CacheDir string
}

// confinedControl is the control socket of a confined runner. Its first
// write is the Hello: lockdown runs just before it.
type confinedControl struct {
	io.ReadWriteCloser
	lockdown func() error
	once     sync.Once
	err      error
}

func (c *confinedControl) Write(p []byte) (int, error) {
	c.once.Do(c.lock)
	if c.err != nil {
		return 0, c.err
	}
	return c.ReadWriteCloser.Write(p)
}

func (c *confinedControl) lock() {
	if c.lockdown != nil {
		c.err = c.lockdown()
	}
}

// failed returns the error of the lockdown, if it ran and failed. Call
// it once Run has returned.
func (c *confinedControl) failed() error {
	c.once.Do(func() {})
	return c.err
}
