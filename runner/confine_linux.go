//go:build linux

package runner

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/hashicorp/go-hclog"
	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Resource limits, and why (measured with wazero v1.12, Go 1.26, the probe
// guest, amd64, kernel 6.18):
//
// Memory: RLIMIT_DATA, not RLIMIT_AS. RLIMIT_DATA counts private writable
// mappings: the Go heap (where wazero keeps linear memory), the Go
// runtime's own, wazero's code buffers while they are written. It follows
// the real footprint: peak VmData was 117-137 MiB for an idle or "hello"
// runner, and 80-130 MiB above peak RSS for "alloc" up to the guest's
// linear-memory limit M (--memory-pages): M=64 MiB: RSS 166 MiB, VmData
// 243 MiB; M=256: 907 / 1008; M=512: 1755 / 1849; M=1024: 3579 / 3680
// (linear memory grows by copying, and the Go heap keeps old copies until
// a collection: about 3.6 M + 110 MiB). A hello runner fails at 128 MiB
// and runs at 160; 4 M + 256 MiB (2304 at M=512) never stopped a guest
// that kept within M. VmSize, what RLIMIT_AS counts, was 1.3-1.6 GiB for
// a runner that had allocated nothing (Go reserves address space it does
// not touch) and stayed 1.3-1.7 GiB above VmData (3.4 GiB at M=512):
// RLIMIT_AS would need a margin that depends on Go's reservation policy,
// and would stop a race-built runner at once (ThreadSanitizer reserves
// terabytes). Past RLIMIT_DATA, mmap fails and the Go runtime ends the
// runner: "fatal error: out of memory ..." or "fatal error: runtime: out of
// memory", a traceback, exit status 2 (race-built: "ThreadSanitizer failed
// to allocate ... (errno: 12)", exit status 66).
//
// Those figures were measured with linear memory in the Go heap. It is now
// a mapping of its own (linearmem_linux.go), which grows in place: under
// a limit of 512 MiB, "alloc" reached 384 MiB of linear memory (it reached
// 144 MiB in the heap), and past the limit the guest's memory.grow fails
// (the guest's Go runtime: "runtime: out of memory") before the runner's
// own runtime does. The default limit (4 M + 256 MiB) is kept: it never
// stopped a guest that kept within M, and now leaves more room.
//
// Files: the runner writes the compilation cache when its entry is
// missing (it normally is not: the host compiles first), so RLIMIT_FSIZE
// cannot be 0. A cache entry was 3.8 times the module (probe.wasm 4.3 MB,
// entry 16.2 MB); the limit is 16 times the module, at least 256 MiB. It
// also writes the module's machine code to a file of its own, when that
// is missing (sharecode_linux.go: 14 MiB for the same module).
//
// Descriptors: a runner's highest descriptor was 8 (0-2, the control
// socket 3, epoll, eventfd, cgroup files of the Go runtime, the module or
// a cache file while loading) over every probe scenario and example
// guest. A process's direct pipe ends are a socket each (direct_linux.go);
// RLIMIT_NOFILE is 1024, CPython's default, which leaves a process about
// 1,000 of them.
const (
	fsizeFloor    = 256 << 20
	fsizePerByte  = 16
	maxOpenFiles  = 1024
	bytesPerMiB   = 1 << 20
	sigsetBytes   = 8 // the kernel's sigset_t on Linux amd64 and arm64
	prSetVMA      = 0x53564d41
	namespaceBits = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWTIME
)

// confine applies the resource limits and, with cfg.Confine, no_new_privs,
// Landlock and the start-up seccomp filter to this process. It returns the
// lockdown to run just before the Hello (nil when there is none).
func confine(cfg confineConfig, log hclog.Logger) (lockdown func() error, err error) {
	t0 := time.Now()
	if err := setRlimits(cfg); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if !cfg.Confine {
		log.Debug("runner confined", "rlimits", t1.Sub(t0).String(), "seccomp", "off", "landlock", "off")
		return nil, nil
	}
	landlocked := "off"
	if cfg.Landlock {
		if landlocked, err = applyLandlock(cfg); err != nil {
			return nil, fmt.Errorf("landlock: %w", err)
		}
	}
	t2 := time.Now()
	if cfg.Landlock {
		landlocked += " " + t2.Sub(t1).String()
	}
	// Coverage data of a runner built with -cover is written at exit,
	// into GOCOVERDIR: then the file system stays open (to Landlock's
	// bounds) for the whole life of the runner.
	keepFiles := os.Getenv("GOCOVERDIR") != ""
	if err := loadSeccomp(true, true); err != nil {
		return nil, err
	}
	t3 := time.Now()
	log.Debug("runner confined", "rlimits", t1.Sub(t0).String(), "landlock", landlocked, "seccomp", t3.Sub(t2).String())
	if keepFiles {
		return nil, nil
	}
	return func() error {
		t := time.Now()
		if err := loadSeccomp(false, false); err != nil {
			log.Error("cannot narrow the seccomp filter", "error", err)
			return err
		}
		log.Debug("seccomp filter narrowed for the guest", "took", time.Since(t).String())
		return nil
	}, nil
}

// rlimit is one resource limit to set.
type rlimit struct {
	name     string
	resource int
	cur, max uint64
}

// setRlimits sets the resource limits of this process. A limit never
// raises what the runner inherited.
func setRlimits(cfg confineConfig) error {
	fsize := uint64(fsizeFloor)
	if info, err := os.Stat(cfg.Module); err == nil {
		fsize = max(fsize, uint64(info.Size())*fsizePerByte)
	}
	limits := []rlimit{
		{"RLIMIT_CORE", unix.RLIMIT_CORE, 0, 0},
		{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, fsize, fsize},
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, maxOpenFiles, maxOpenFiles},
	}
	if cfg.CPUSeconds > 0 {
		limits = append(limits, rlimit{"RLIMIT_CPU", unix.RLIMIT_CPU, cfg.CPUSeconds, max(cfg.CPUSeconds+1, cfg.CPULifetime)})
	}
	if cfg.MemoryMiB > 0 {
		n := cfg.MemoryMiB * bytesPerMiB
		limits = append(limits, rlimit{"RLIMIT_DATA", unix.RLIMIT_DATA, n, n})
	}
	for _, l := range limits {
		var old unix.Rlimit
		if err := unix.Getrlimit(l.resource, &old); err != nil {
			return fmt.Errorf("getrlimit %s: %w", l.name, err)
		}
		lim := unix.Rlimit{Cur: min(l.cur, old.Max), Max: min(l.max, old.Max)}
		if err := unix.Setrlimit(l.resource, &lim); err != nil {
			return fmt.Errorf("setrlimit %s: %w", l.name, err)
		}
	}
	if cfg.CPUSeconds > 0 {
		// The Go runtime catches SIGXCPU and ignores it; the default
		// action ends the process at the soft limit, by SIGXCPU, which
		// says what happened (RLIMIT_CORE 0: no core file). A handler
		// could not log first: a guest in a busy loop holds the runner's
		// only P.
		return defaultSignal(unix.SIGXCPU)
	}
	return nil
}

// defaultSignal restores the default action of sig behind the Go
// runtime's back (os/signal cannot: Reset keeps the runtime's handler).
func defaultSignal(sig unix.Signal) error {
	var act [4]uint64 // struct sigaction, zero: SIG_DFL, no flags, empty mask
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, sigsetBytes, 0, 0)
	if errno != 0 {
		return fmt.Errorf("rt_sigaction %v: %w", sig, errno)
	}
	return nil
}

// Landlock rights on the compilation cache directory: what wazero's file
// cache does (read, create a temporary file and a folder, rename it in
// place, delete a corrupt entry), nothing else (no execute, no devices,
// sockets, fifos or symlinks, no renames across folders).
const cacheAccess = llsys.AccessFSReadFile | llsys.AccessFSReadDir | llsys.AccessFSWriteFile |
	llsys.AccessFSRemoveFile | llsys.AccessFSRemoveDir | llsys.AccessFSMakeDir | llsys.AccessFSMakeReg |
	llsys.AccessFSTruncate

// applyLandlock restricts the file system to reading the module and
// using the cache directory, forbids TCP bind and connect, and scopes
// signals and abstract sockets to the runner; best effort: what the
// kernel's Landlock ABI offers. It returns what was done, for the log.
func applyLandlock(cfg confineConfig) (string, error) {
	abi, err := llsys.LandlockGetABIVersion()
	if err != nil || abi < 1 {
		return fmt.Sprintf("unsupported (%v)", err), nil
	}
	rules := []landlock.Rule{landlock.PathAccess(llsys.AccessFSReadFile, cfg.Module)}
	dirs := []string{cfg.CacheDir, os.Getenv("GOCOVERDIR")}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		// wazero creates a missing cache directory; a Landlock rule
		// needs it to exist already.
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", err
		}
		rules = append(rules, landlock.PathAccess(cacheAccess, d))
	}
	if err := landlock.V11.BestEffort().Restrict(rules...); err != nil {
		return "", err
	}
	return fmt.Sprintf("abi %d", abi), nil
}

// The system calls a runner makes, found with strace -f on runners of
// every probe scenario, every example guest, and a compile without cache,
// plus what the same code needs on arm64 (which has no open, fstat,
// epoll_wait, pipe) and fallbacks of the Go runtime and glibc. Names the
// architecture does not have are skipped.
var (
	// runSyscalls are allowed for the runner's whole life.
	runSyscalls = []string{
		// memory
		"brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
		// threads (clone is conditional, below)
		"futex", "set_robust_list", "rseq", "set_tid_address", "gettid", "arch_prctl",
		"sched_yield", "sched_getaffinity", "exit", "exit_group", "restart_syscall",
		// signals (kill and tgkill are conditional, below)
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "getpid", "getppid",
		// time (normally served by the vDSO)
		"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
		// descriptors already open: the control socket, stderr
		"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "fcntl", "lseek",
		"fstat", "newfstatat", "statx",
		"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2",
		"ppoll", // a wait for the host that the Go runtime knows of (control_linux.go)
		// the control socket's reads, which take the direct pipes' sockets
		// the host passes (control_linux.go, direct_linux.go)
		"recvmsg", "recvfrom",
		// crypto/rand, the guest's random source
		"getrandom",
		// reading its own limits (prlimit64 is conditional, below)
		"getrlimit", "getrusage",
	}
	// loadSyscalls are allowed until the Hello: opening the module and
	// the compilation cache, writing a missing entry, clearing a corrupt
	// one.
	loadSyscalls = []string{
		"open", "openat", "getdents64", "mkdirat", "mkdir", "unlinkat", "rename", "renameat", "renameat2",
		"fsync", "fdatasync", "ftruncate", "readlinkat", "faccessat", "faccessat2",
	}
)

// seccompPolicy is the allowlist; what is not on it fails with EPERM.
// clone3 fails with ENOSYS, so that glibc's pthread_create (the Go
// runtime's when cgo is linked in) falls back to clone, whose flags a
// filter can read: only threads may be created, never processes or
// namespaces. Signals go only to this process (pid). prctl serves only
// the Go runtime's naming of its mappings; ioctl only isatty; prlimit64
// only reads this process's limits.
func seccompPolicy(withFiles bool, pid int) (seccomp.Policy, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return seccomp.Policy{}, err
	}
	var names []string
	for _, list := range [][]string{runSyscalls, loadSyscalls} {
		for _, n := range list {
			if _, ok := info.SyscallNames[n]; ok {
				names = append(names, n)
			}
		}
		if !withFiles {
			break
		}
	}
	cond := func(name string, cs ...seccomp.Condition) seccomp.NameWithConditions {
		return seccomp.NameWithConditions{Name: name, Conditions: cs}
	}
	self := uint64(pid)
	allow := seccomp.SyscallGroup{
		Action: seccomp.ActionAllow,
		Names:  names,
		NamesWithCondtions: []seccomp.NameWithConditions{
			cond("clone",
				seccomp.Condition{Argument: 0, Operation: seccomp.BitsSet, Value: unix.CLONE_THREAD},
				seccomp.Condition{Argument: 0, Operation: seccomp.BitsNotSet, Value: namespaceBits}),
			cond("kill", seccomp.Condition{Argument: 0, Operation: seccomp.Equal, Value: self}),
			cond("tgkill", seccomp.Condition{Argument: 0, Operation: seccomp.Equal, Value: self}),
			cond("prctl", seccomp.Condition{Argument: 0, Operation: seccomp.Equal, Value: prSetVMA}),
			cond("ioctl", seccomp.Condition{Argument: 1, Operation: seccomp.Equal, Value: unix.TCGETS}),
			cond("prlimit64",
				seccomp.Condition{Argument: 0, Operation: seccomp.Equal, Value: 0},
				seccomp.Condition{Argument: 2, Operation: seccomp.Equal, Value: 0}),
		},
	}
	if withFiles {
		// The second stage's filter is installed under the first.
		allow.NamesWithCondtions = append(allow.NamesWithCondtions,
			cond("seccomp", seccomp.Condition{Argument: 0, Operation: seccomp.Equal, Value: unix.SECCOMP_SET_MODE_FILTER}))
	}
	return seccomp.Policy{
		DefaultAction: seccomp.ActionErrno, // EPERM
		Syscalls: []seccomp.SyscallGroup{
			{Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: []string{"clone3"}},
			allow,
		},
	}, nil
}

// loadSeccomp installs the filter on every thread of the process (TSYNC),
// setting no_new_privs first when first (a filter in place forbids prctl).
func loadSeccomp(withFiles, first bool) error {
	policy, err := seccompPolicy(withFiles, os.Getpid())
	if err != nil {
		return fmt.Errorf("seccomp policy: %w", err)
	}
	insts, err := policy.Assemble()
	if err != nil {
		return fmt.Errorf("seccomp policy: %w", err)
	}
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return fmt.Errorf("seccomp policy: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	// no_new_privs is a property of the thread that installs the filter;
	// TSYNC then gives both to every other thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if first {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
		}
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	switch {
	case errno != 0:
		if errors.Is(errno, syscall.ENOSYS) || errors.Is(errno, syscall.EINVAL) {
			return fmt.Errorf("seccomp filters are not supported by this kernel (%w); run with --confine=false", errno)
		}
		return fmt.Errorf("seccomp: %w", errno)
	case r != 0:
		// TSYNC failed: r is the thread that could not be synchronised.
		return fmt.Errorf("seccomp: thread %d cannot take the filter", r)
	}
	return nil
}
