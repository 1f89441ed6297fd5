//go:build linux

package runner_test

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	supervisor "github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/runner"
)

// copyCache copies the probe's compilation cache into a fresh directory,
// so that a test sees what its own runners write there.
func copyCache(t *testing.T) string {
	t.Helper()
	_, from := probeGuest(t)
	to := t.TempDir()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if strings.HasSuffix(path, ".code") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// codeFiles returns the machine-code files of a cache's modules folder.
func codeFiles(t *testing.T, cache string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(runner.ModulesDir(cache), "*.code"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// codeMapped returns, for every runner of this test process that maps a
// machine-code file, its mapping of it: "perms offset inode path size".
func codeMapped(t *testing.T) map[int]string {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	mapped := map[int]string{}
	for _, stat := range procs {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: the comm may hold spaces.
		var pid, ppid int
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		if _, err := fmt.Sscanf(string(b), "%d", &pid); err != nil {
			continue
		}
		if _, err := fmt.Sscanf(rest, " %c %d", new(rune), &ppid); err != nil || ppid != os.Getpid() {
			continue
		}
		f, err := os.Open(filepath.Join(filepath.Dir(stat), "maps"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 6 && strings.HasSuffix(fields[5], ".code") {
				var lo, hi uint64
				fmt.Sscanf(fields[0], "%x-%x", &lo, &hi)
				mapped[pid] = fmt.Sprintf("%s %s %s %s %d", fields[1], fields[2], fields[4], fields[5], hi-lo)
			}
		}
		f.Close()
	}
	return mapped
}

// TestMachineCodeShared: the runners of a run, each serving a process
// alive at the same moment, map the module's machine code from one file
// of the cache's modules folder (read and execute, private, the whole
// file) instead of each keeping a copy; the file holds the code, named by
// its CRC-32 and length. A file damaged since is not executed: the next
// runner writes it again, and the guests run as before. Without
// --share-code nothing is written.
func TestMachineCodeShared(t *testing.T) {
	cache := copyCache(t)
	var mapped map[int]string
	during := func() {
		// MainProcess and its two children sleep 3 s: all three
		// runners are alive at once.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if mapped = codeMapped(t); len(mapped) >= 3 {
				return
			}
		}
	}
	res, out, log := runProbeIn(t, cache, during, nil, "children", "2", "sleep", "3s")
	if res.Verdict != supervisor.VerdictOK {
		t.Fatalf("verdict %s (%s), output:\n%s\nlog:\n%s", res.Verdict, res.Explanation, out, log)
	}
	files := codeFiles(t, cache)
	if len(files) != 1 {
		t.Fatalf("machine-code files %v, want one; log:\n%s", files, log)
	}
	code, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%08x-%d.code", crc32.ChecksumIEEE(code), len(code)); filepath.Base(files[0]) != want {
		t.Errorf("file %s, want it named %s (its CRC-32 and length)", filepath.Base(files[0]), want)
	}
	if len(mapped) < 3 {
		t.Fatalf("%d runners mapped a machine-code file, want 3 (MainProcess and two children): %v\nlog:\n%s", len(mapped), mapped, log)
	}
	var first string
	for pid, m := range mapped {
		f := strings.Fields(m)
		if f[0] != "r-xp" || f[1] != "00000000" || f[3] != files[0] || f[4] != fmt.Sprint(len(code)) {
			t.Errorf("runner %d maps %q, want the whole of %s (%d bytes), read and execute, private", pid, m, files[0], len(code))
		}
		if first == "" {
			first = m
		} else if m != first {
			t.Errorf("runners map different files: %q and %q", first, m)
		}
	}
	if n := strings.Count(log, "machine code shared"); n < 3 {
		t.Errorf("%d runners said they shared the machine code, want 3 or more; log:\n%s", n, log)
	}

	// One byte of the code damaged, in place.
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{code[len(code)/3] ^ 0xff}, int64(len(code)/3)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, out, log = runProbeIn(t, cache, nil, nil, "child", "hello")
	if res.Verdict != supervisor.VerdictOK || !strings.Contains(out, "hello from Process-1\nchild exitcode=0\n") {
		t.Fatalf("after the damage: verdict %s (%s), output:\n%s\nlog:\n%s", res.Verdict, res.Explanation, out, log)
	}
	again, err := os.ReadFile(files[0])
	if err != nil || string(again) != string(code) {
		t.Errorf("the damaged file was not written again (%v)", err)
	}
	if n := strings.Count(log, "machine code shared"); n < 2 {
		t.Errorf("%d runners shared the machine code after the damage, want 2 or more; log:\n%s", n, log)
	}

	// Off: nothing written, nothing shared.
	off := copyCache(t)
	res, out, log = runProbeIn(t, off, nil, []string{"--share-code=false"}, "child", "hello")
	if res.Verdict != supervisor.VerdictOK {
		t.Fatalf("--share-code=false: verdict %s (%s), output:\n%s\nlog:\n%s", res.Verdict, res.Explanation, out, log)
	}
	if files := codeFiles(t, off); len(files) != 0 || strings.Contains(log, "machine code shared") {
		t.Errorf("--share-code=false: files %v; log:\n%s", files, log)
	}
}
