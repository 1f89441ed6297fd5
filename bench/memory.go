package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The memory of a program and its processes is sampled from /proc while it
// runs, the same way for the sandbox and for CPython: the program (the
// host, or CPython's parent) and every process under it (runners, spares
// included; CPython's children and helpers). Proportional set size (PSS)
// shares a page among the processes that map it, so the pages of one
// binary or of a fork's copy-on-write count once in a sum: it is what a
// machine's memory holds. The rusage peak (ru_maxrss) will not do: Linux
// carries the parent's peak into a child at exec, so every runner would
// seem at least as large as the host was when it started it.

// treeMemory is one sample of a process tree, in bytes.
type treeMemory struct {
	rootPSS, rootRSS         int64
	childrenPSS, childrenRSS int64
	children                 int
}

// sampler samples the tree under a pid until stopped and keeps the sample
// whose total PSS was highest.
type sampler struct {
	root int
	stop chan struct{}
	done sync.WaitGroup
	peak treeMemory
}

// sampleEvery is the time between two samples: reading a process's
// smaps_rollup costs tens of microseconds, so a tree of 1,000 takes a
// few tens of milliseconds.
const memorySampleEvery = 100 * time.Millisecond

func startSampler(pid int) *sampler {
	s := &sampler{root: pid, stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(memorySampleEvery)
		defer t.Stop()
		for {
			m := sampleTree(s.root)
			if m.rootPSS+m.childrenPSS > s.peak.rootPSS+s.peak.childrenPSS {
				s.peak = m
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak.
func (s *sampler) Stop() treeMemory {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// sampleTree reads the memory of root and of every process under it.
func sampleTree(root int) treeMemory {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := ppid(pid); ok {
			parent[pid] = pp
		}
	}
	var m treeMemory
	m.rootPSS, m.rootRSS = rollup(root)
	for pid := range parent {
		if pid == root || !under(parent, pid, root) {
			continue
		}
		pss, rss := rollup(pid)
		m.childrenPSS += pss
		m.childrenRSS += rss
		m.children++
	}
	return m
}

// under reports whether pid descends from root.
func under(parent map[int]int, pid, root int) bool {
	for range 64 { // deeper than any tree here
		pp, ok := parent[pid]
		if !ok || pp <= 1 {
			return false
		}
		if pp == root {
			return true
		}
		pid = pp
	}
	return false
}

// ppid is the parent of pid, from /proc/PID/stat (whose second field, the
// command name in parentheses, may hold spaces).
func ppid(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// rollup is a process's PSS and RSS in bytes (0 when it is gone).
func rollup(pid int) (pss, rss int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "Pss":
			pss = n * 1024
		case "Rss":
			rss = n * 1024
		}
	}
	return pss, rss
}
