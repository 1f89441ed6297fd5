package host

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

// The run's totals. Each runner is bounded by the OS (RLIMIT_CPU and
// RLIMIT_DATA, set by the runner itself); the run as a whole is bounded by
// the host, which samples the CPU time and resident memory of every runner
// alive from /proc and adds the CPU time of those that ended (their
// rusage). A cgroup per run would bound the total in the kernel, but needs
// a delegated cgroup v2 tree that neither a container nor a batch job
// usually gives; sampling works everywhere Linux does. A run may pass a
// total by what its processes use between two samples.

// sampleEvery is the time between two samples while at most
// samplePerTick processes are alive; beyond, it grows with their number so
// that sampling costs the same share of a core (reading /proc/PID/stat
// costs about 10µs).
const (
	sampleEvery   = 50 * time.Millisecond
	samplePerTick = 64
)

// usage is what the runners of the run use together.
type usage struct {
	cpu time.Duration // CPU time: ended runners' rusage + live runners' last sample
	rss int64         // resident memory of their own of the runners alive at the last sample (procStat)
}

// sample sums the CPU time and resident memory of the run's runners now.
// It returns, too, how many were serving a process, and each one's CPU
// time (since it started) by pid.
func (s *Supervisor) sample() (u usage, serving int, cpus map[int]time.Duration) {
	s.mu.Lock()
	u.cpu = s.idleCPU
	for _, p := range s.procs {
		if p.accounted {
			u.cpu += p.cpu
		}
	}
	// Runners serving a process, or exiting after one: CPU time since the
	// process was assigned, and resident memory. Idle runners: CPU time
	// since their last process ended (a parked guest's, runner/runner.go,
	// which counts as the next process's once one is assigned, and as the
	// run's until then); their memory belongs to no process, as a spare's
	// does not.
	type live struct {
		pid  int
		mark time.Duration
		idle bool
		p    *proc // when its runner interprets the module
	}
	var runners []live
	for w := range s.workers {
		w.mu.Lock()
		switch {
		case w.cur != nil:
			r := live{pid: w.pid, mark: w.cpuMark}
			if w.interpreted {
				r.p = w.cur
			}
			runners = append(runners, r)
		case !w.ended:
			runners = append(runners, live{pid: w.pid, mark: w.cpuUsed, idle: true})
		}
		w.mu.Unlock()
	}
	s.mu.Unlock()
	cpus = make(map[int]time.Duration, len(runners))
	for _, r := range runners {
		cpu, rss, err := procStat(r.pid)
		if err != nil {
			continue // ended since; its rusage counts at the next sample
		}
		u.cpu += max(0, cpu-r.mark)
		if r.idle {
			continue
		}
		serving++
		cpus[r.pid] = cpu
		u.rss += rss
		if r.p != nil && cpu-r.mark > interpretedWarnCPU && !s.warnedSlow.Swap(true) {
			r.p.log.Warn(fmt.Sprintf("this process runs interpreted (the first run of a new module, started before its machine code was ready) and has used %s of CPU: compute-bound code runs about 30 times slower so; processes started once the machine code is ready, and the module's next runs, use it (--interpret-new=false compiles first)", cpuText(interpretedWarnCPU)))
		}
	}
	return u, serving, cpus
}

// quiet reports whether an interval of d between two samples of the
// runners' CPU times by pid (before, after) left room for a spare's load
// (wishSpares): no runner began serving a process in it (one just started
// is likely to run now), and the runners seen at both used at least half
// a CPU less than there are (a runner's CPU before its first process,
// its load, is not theirs).
func quiet(before, after map[int]time.Duration, d time.Duration, cpus int) bool {
	var used time.Duration
	for pid, cpu := range after {
		prev, ok := before[pid]
		if !ok {
			return false
		}
		used += max(0, cpu-prev)
	}
	return float64(used)/float64(d) < float64(cpus)-0.5
}

// sampling reports whether the run's usage is sampled (watchUsage): under
// a run limit.
func (s *Supervisor) sampling() bool { return s.cfg.RunCPULimit > 0 || s.cfg.RunMemory > 0 }

// interpretedWarnCPU is the CPU time after which an interpreted process
// is said, once per run, to be running slower than it would compiled:
// compute-bound Go code ran about 30 times slower interpreted (a sieve
// and a map: 3.5-3.8 s against 0.12 s).
const interpretedWarnCPU = 2 * time.Second

// watchUsage samples the run's totals until done is closed, keeps the
// peaks in s.peak, and stops the run when one passes its limit.
func (s *Supervisor) watchUsage(done <-chan struct{}) {
	t := time.NewTimer(sampleEvery)
	defer t.Stop()
	var last time.Time
	var lastCPUs map[int]time.Duration
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		u, serving, cpus := s.sample()
		now := time.Now()
		if !last.IsZero() && quiet(lastCPUs, cpus, now.Sub(last), runtime.GOMAXPROCS(0)) {
			s.grantWish()
		}
		last, lastCPUs = now, cpus
		s.peakMu.Lock()
		s.peak.cpu = max(s.peak.cpu, u.cpu)
		s.peak.rss = max(s.peak.rss, u.rss)
		s.peakMu.Unlock()
		if limit := s.cfg.RunCPULimit; limit > 0 && u.cpu > limit {
			s.stop(&LimitError{VerdictCPULimit, fmt.Sprintf("CPU limit: the processes used more than %s of CPU time together; every process was killed", cpuText(limit))})
			return
		}
		if limit := s.cfg.RunMemory; limit > 0 && u.rss > limit {
			s.stop(&LimitError{VerdictMemoryLimit, fmt.Sprintf("memory limit: the processes used %s of memory together, more than the run's %s; every process was killed", bytesText(u.rss), bytesText(limit))})
			return
		}
		t.Reset(sampleEvery * time.Duration(1+serving/samplePerTick))
	}
}

// pageSize is the unit of RSS in /proc/PID/stat.
var pageSize = int64(os.Getpagesize())

// clockTick is the unit of CPU times in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for every architecture's user space.
const clockTick = 10 * time.Millisecond

// procStat reads the CPU time (user and system) of process pid from
// /proc/PID/stat, and its resident memory of its own from /proc/PID/statm:
// resident pages less those backed by files or shared memory (statm's
// third field). The sandbox binary's code, which every runner maps, is one
// copy in RAM however many runners there are: counted in each runner's
// resident memory it made a runner look 54 MiB where its proportional
// share (PSS) was 34, and a run hit --run-memory at 400 runners that fit.
func procStat(pid int) (cpu time.Duration, mem int64, err error) {
	dir := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// "PID (COMM) STATE PPID ..." where COMM may hold spaces and ')':
	// fields are counted from after the last ')'. Field 3 (state) is the
	// first after it; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%s/stat: no command name", dir)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("%s/stat: %d fields", dir, len(f)+2)
	}
	field := func(f [][]byte, i int) int64 {
		v, _ := strconv.ParseInt(string(f[i]), 10, 64)
		return v
	}
	cpu = time.Duration(field(f, 14-3)+field(f, 15-3)) * clockTick
	// statm: size resident shared text lib data dt, in pages.
	m, err := os.ReadFile(dir + "/statm")
	if err != nil {
		return 0, 0, err
	}
	if f = bytes.Fields(m); len(f) < 3 {
		return 0, 0, fmt.Errorf("%s/statm: %d fields", dir, len(f))
	}
	return cpu, max(0, field(f, 1)-field(f, 2)) * pageSize, nil
}
