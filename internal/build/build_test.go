package build

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The go command of the builds below runs under this test binary,
// re-run in ExecMode (the default Config.Wrapper).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ExecMode {
		os.Exit(ExecMain(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

const mainGo = `package main

import (
	"fmt"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

func worker(n int) { fmt.Println("worker", n, mp.CurrentProcess().Name()) }

func main() {
	mp.Register(worker)
	mp.Main(func() {
		p := mp.NewProcess(worker, mp.Args(3))
		p.Start()
		p.Join()
	})
}
`

// badGo fails to compile at line 6, column 2.
const badGo = `package main

import "fmt"

func main() {
	foo()
	fmt.Println("unreachable")
}
`

// sharedCache is the build cache of the tests that build: the standard
// library is compiled for wasm once, not once per test (nor per run: it
// stays in the temp dir).
func sharedCache(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "sandbox-test-gobuild")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFiles writes files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuild(t *testing.T) {
	cache := sharedCache(t)
	tests := []struct {
		name    string
		files   map[string]string
		prepare func(t *testing.T, dir string) // more set-up of the folder
		sub     string                         // Dir is this path in the folder
		cfg     Config                         // Dir, Out and CacheDir are set by the test
		cold    bool                           // a build cache of its own, empty
		skipped []string
		wantErr error  // errors.Is; nil: success
		wantMsg string // in the CompileError's message
	}{{
		name:  "main.go alone",
		files: map[string]string{"main.go": mainGo},
	}, {
		name: "own go.mod requiring another version of the SDK",
		files: map[string]string{
			"main.go": strings.Replace(mainGo, `"fmt"`, "\"fmt\"\n\n\t\"example.com/student/util\"", 1) +
				"\nvar _ = util.Twice(2)\n",
			"util/util.go": "package util\n\nfunc Twice(n int) int { return 2 * n }\n",
			"go.mod": "module example.com/student\n\ngo 1.23\n\nrequire github.com/sandbox-dev/sandbox v1.2.3\n\n" +
				"replace github.com/sandbox-dev/sandbox v1.2.3 => /nowhere\n",
		},
	}, {
		name:  "symbolic links are not followed",
		files: map[string]string{"main.go": mainGo},
		prepare: func(t *testing.T, dir string) {
			// Followed, either would break the build: a second main,
			// a folder of another package.
			outside := t.TempDir()
			writeFiles(t, outside, map[string]string{"other.go": "package main\n\nfunc main() {}\n", "lib/lib.go": "package lib\n\nbroken"})
			for _, l := range [][2]string{{"other.go", "extra.go"}, {"lib", "lib"}} {
				if err := os.Symlink(filepath.Join(outside, l[0]), filepath.Join(dir, l[1])); err != nil {
					t.Fatal(err)
				}
			}
		},
		skipped: []string{"extra.go", "lib"},
	}, {
		name:    "compile error",
		files:   map[string]string{"main.go": badGo},
		wantErr: (*CompileError)(nil),
		wantMsg: "main.go:6:2: undefined: foo",
	}, {
		name:    "no Go files",
		files:   map[string]string{"README": "nothing to build\n"},
		wantErr: (*CompileError)(nil),
		wantMsg: "no Go files in " + os.TempDir(),
	}, {
		name:    "malformed go.mod",
		files:   map[string]string{"main.go": badGo, "go.mod": "module m\n\ngo 1.2x\n"},
		wantErr: (*CompileError)(nil),
		wantMsg: "go.mod:3: invalid go version '1.2x'",
	}, {
		name:    "time limit before the build starts",
		files:   map[string]string{"main.go": mainGo},
		cfg:     Config{Timeout: time.Nanosecond},
		wantErr: ErrTimeout,
		wantMsg: "the build took longer than its time limit (1ns)",
	}, {
		name:    "time limit while compiling",
		files:   map[string]string{"main.go": mainGo},
		cfg:     Config{Timeout: 500 * time.Millisecond},
		cold:    true,
		wantErr: ErrTimeout,
		wantMsg: "the build took longer than its time limit (500ms)",
	}, {
		// The go command cannot even start: it faults.
		name:    "memory limit of the go command",
		files:   map[string]string{"main.go": mainGo},
		cfg:     Config{MemoryMiB: 16},
		wantErr: ErrMemory,
		wantMsg: "the build needed more memory than its limit (16 MiB)",
	}, {
		// The go command starts; the compiles of the standard library
		// say "fatal error: runtime: out of memory".
		name:    "memory limit of the compiler",
		files:   map[string]string{"main.go": mainGo},
		cfg:     Config{MemoryMiB: 100},
		cold:    true,
		wantErr: ErrMemory,
		wantMsg: "the build needed more memory than its limit (100 MiB)",
	}, {
		name:  "folder too large",
		files: map[string]string{"main.go": mainGo},
		prepare: func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "main.go"), MaxSourceBytes+1); err != nil {
				t.Fatal(err)
			}
		},
		wantErr: ErrTooLarge,
		wantMsg: "the folder is too large to build: more than 16 MiB or 1000 files",
	}, {
		name:    "not a directory",
		files:   map[string]string{"main.go": mainGo},
		sub:     "main.go",
		wantErr: ErrNoDir,
		wantMsg: "main.go is not a directory",
	}, {
		name:    "no go command",
		files:   map[string]string{"main.go": mainGo},
		cfg:     Config{GoCmd: "/nonexistent/go"},
		wantErr: ErrNoToolchain,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			cfg := tt.cfg
			cfg.Dir, cfg.Out, cfg.CacheDir = filepath.Join(dir, tt.sub), filepath.Join(t.TempDir(), "out.wasm"), cache
			if tt.cold {
				cfg.CacheDir = t.TempDir()
			}
			res, err := Build(context.Background(), cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				checkWasm(t, cfg.Out)
				if strings.Join(res.Skipped, " ") != strings.Join(tt.skipped, " ") {
					t.Errorf("Skipped = %q, want %q", res.Skipped, tt.skipped)
				}
				t.Logf("built in %v", res.Duration)
				return
			}
			t.Logf("Build: %v", err)
			if ce := (*CompileError)(nil); errors.As(err, &ce) && ce.Output != ce.Msg {
				first, _, _ := strings.Cut(ce.Output, "\n")
				t.Logf("output: %d bytes, first line %q", len(ce.Output), first)
			}
			checkFailure(t, err, tt.wantErr, tt.wantMsg)
			if _, err := os.Stat(cfg.Out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("failed build left %s (stat: %v)", cfg.Out, err)
			}
		})
	}
}

// checkWasm checks that file is a WebAssembly module.
func checkWasm(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Errorf("%s starts with %q, want \\x00asm", file, b[:min(len(b), 8)])
	}
}

// checkFailure checks that err is want with msg in its message (want
// (*CompileError)(nil): a CompileError of the compiler's), that it is a
// CompileError exactly when it is the program's failure, and that its
// message names no path of the build's own.
func checkFailure(t *testing.T, err, want error, msg string) {
	t.Helper()
	var ce *CompileError
	isCompile := errors.As(err, &ce)
	switch {
	case err == nil:
		t.Fatalf("Build succeeded, want %v", want)
	case want == (*CompileError)(nil):
		if !isCompile || ce.Err != nil {
			t.Fatalf("Build: %v (%T), want a CompileError of the compiler's", err, err)
		}
	case !errors.Is(err, want):
		t.Fatalf("Build: %v (%T), want %v", err, err, want)
	}
	if wantCompile := want != ErrNoToolchain && want != ErrNoDir; isCompile != wantCompile {
		t.Errorf("Build: %v (%T): CompileError %v, want %v", err, err, isCompile, wantCompile)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("message:\n%s\nwant it to contain %q", err, msg)
	}
	for _, bad := range []string{"sandbox-build-", "# submission", "./main.go"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("message:\n%s\nnames %q", err, bad)
		}
	}
}

// TestGoDirective keeps the go line of the SDK's module and of a written
// go.mod the repository's.
func TestGoDirective(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "go "); ok {
			if v != goDirective {
				t.Errorf("goDirective = %q, the repository's go.mod says go %s", goDirective, v)
			}
			return
		}
	}
	t.Fatal("no go line in go.mod")
}
