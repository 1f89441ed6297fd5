//go:build linux

package runner_test

import (
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	supervisor "github.com/sandbox-dev/sandbox/host"
	"github.com/sandbox-dev/sandbox/internal/testutil"
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
// machine-code file, its mapping of it ("perms offset inode path size"),
// followed by " private" if it also keeps an anonymous executable
// mapping of 1 MiB or more (a copy of the code of its own).
func codeMapped(t *testing.T) map[int]string {
	t.Helper()
	mapped := map[int]string{}
	for _, pid := range testutil.Children() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
		if err != nil {
			continue
		}
		var code string
		private := false
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 5 {
				continue
			}
			var lo, hi uint64
			fmt.Sscanf(fields[0], "%x-%x", &lo, &hi)
			switch {
			case len(fields) == 6 && strings.HasSuffix(fields[5], ".code") && fields[1] != "r--s":
				// (r--s: the comparison of a runner still loading)
				code = fmt.Sprintf("%s %s %s %s %d", fields[1], fields[2], fields[4], fields[5], hi-lo)
			case len(fields) == 5 && fields[1] == "r-xp" && hi-lo >= 1<<20:
				private = true
			}
		}
		if code != "" && private {
			code += " private"
		}
		if code != "" {
			mapped[pid] = code
		}
	}
	return mapped
}

// TestMachineCodeShared: the runners of a run alive at the same moment
// (MainProcess's, its children's, spares) map the module's machine code
// from one file of the cache's modules folder (read and execute,
// private, the whole file) in place of wazero's copy; the file holds the
// code, named by its CRC-32 and length. A file damaged since is not executed: the next
// runner writes it again, and the guests run as before. Without
// --share-code nothing is written.
func TestMachineCodeShared(t *testing.T) {
	cache := copyCache(t)
	var st unix.Statfs_t
	if err := unix.Statfs(cache, &st); err == nil && st.Flags&unix.ST_NOEXEC != 0 {
		t.Skipf("%s is on a file system mounted noexec: no code can be mapped from it", cache)
	}
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
		if f[0] != "r-xp" || f[1] != "00000000" || f[3] != files[0] || f[4] != fmt.Sprint(len(code)) || len(f) > 5 {
			t.Errorf("runner %d maps %q, want the whole of %s (%d bytes), read and execute, private, and no copy of its own", pid, m, files[0], len(code))
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
