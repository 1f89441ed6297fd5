package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sandbox-dev/sandbox/guests"
	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/pyrepr"
)

// Bounds of the folder a build copies.
const (
	MaxSourceBytes = 16 << 20
	MaxSourceFiles = 1000
)

// The SDK's module as the folder's module requires it.
const (
	sdkModule  = "github.com/sandbox-dev/sandbox"
	sdkVersion = "v0.0.0"
	// goDirective is the go line of the SDK's module and of a go.mod
	// written for a folder without one: the go line of this repository's
	// go.mod (a test keeps them equal).
	goDirective = "1.26.8"
	// mainModule is the module path of a folder without a go.mod.
	mainModule = "submission"
)

// tree is the private module tree of one build:
//
//	root/sdk/go.mod              module github.com/sandbox-dev/sandbox
//	root/sdk/guests/mp/*.go      the SDK
//	root/sdk/internal/abi/*.go   the ABI package it imports
//	root/sdk/internal/pyrepr/*.go  and Python's reprs
//	root/src/                    a copy of the folder; go.mod requires and replaces the SDK
//	root/home, root/tmp          HOME and TMPDIR of the go command
//	root/gopath                  GOPATH and GOMODCACHE, empty
type tree struct {
	root     string // symbolic links resolved, as the go command sees it
	hasGoMod bool   // the folder has a go.mod of its own
}

func newTree(tmp string) (*tree, error) {
	root, err := filepath.EvalSymlinks(tmp)
	if err != nil {
		return nil, err
	}
	t := &tree{root: root}
	for _, d := range []string{"sdk", "src", "home", "tmp", "gopath"} {
		if err := os.Mkdir(t.path(d), 0o755); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *tree) path(elem ...string) string {
	return filepath.Join(append([]string{t.root}, elem...)...)
}

// write writes the SDK and copies dir, returning the entries not copied.
func (t *tree) write(dir string) ([]string, error) {
	if err := t.writeSDK(); err != nil {
		return nil, fmt.Errorf("write the SDK: %w", err)
	}
	c := copier{dst: t.path("src")}
	if err := c.copyDir(dir, "."); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(t.path("src", "go.mod")); err == nil {
		t.hasGoMod = true
		return c.skipped, nil
	}
	mod := fmt.Sprintf("module %s\n\ngo %s\n\nrequire %s %s\n\nreplace %s => ../sdk\n",
		mainModule, goDirective, sdkModule, sdkVersion, sdkModule)
	return c.skipped, os.WriteFile(t.path("src", "go.mod"), []byte(mod), 0o644)
}

func (t *tree) writeSDK() error {
	mod := fmt.Sprintf("module %s\n\ngo %s\n", sdkModule, goDirective)
	if err := os.WriteFile(t.path("sdk", "go.mod"), []byte(mod), 0o644); err != nil {
		return err
	}
	if err := writePackage(guests.SDK, "mp", t.path("sdk", "guests", "mp")); err != nil {
		return err
	}
	if err := writePackage(abi.Source, ".", t.path("sdk", "internal", "abi")); err != nil {
		return err
	}
	return writePackage(pyrepr.Source, ".", t.path("sdk", "internal", "pyrepr"))
}

// writePackage writes the .go files of folder dir of fsys to out, but for
// tests and the file that embeds them (source.go).
func writePackage(fsys fs.ReadDirFS, dir, out string) error {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == "source.go" {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copier copies a folder: regular files and directories only, without
// following symbolic links, within MaxSourceBytes and MaxSourceFiles.
type copier struct {
	dst     string
	bytes   int64
	files   int
	skipped []string
}

// copyDir copies folder src, which is rel in the copy.
func (c *copier) copyDir(src, rel string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(c.dst, rel), 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		name, r := e.Name(), filepath.Join(rel, e.Name())
		switch {
		case strings.HasPrefix(name, "."):
			// .git, editor files: the go command ignores them too.
		case e.Type().IsDir():
			if err := c.copyDir(filepath.Join(src, name), r); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if err := c.copyFile(filepath.Join(src, name), r); err != nil {
				return err
			}
		default:
			c.skipped = append(c.skipped, r)
		}
	}
	return nil
}

// copyFile copies regular file src to rel; a file that was replaced by a
// symbolic link since it was listed is skipped.
func (c *copier) copyFile(src, rel string) error {
	c.files++
	if c.files > MaxSourceFiles {
		return tooLarge()
	}
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		c.skipped = append(c.skipped, rel)
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()
	if info, err := in.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		c.skipped = append(c.skipped, rel)
		return nil
	}
	out, err := os.OpenFile(filepath.Join(c.dst, rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(in, MaxSourceBytes-c.bytes+1))
	c.bytes += n
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if c.bytes > MaxSourceBytes {
		return tooLarge()
	}
	return nil
}

func tooLarge() error {
	return &CompileError{
		Msg: fmt.Sprintf("the folder is too large to build: more than %d MiB or %d files", MaxSourceBytes>>20, MaxSourceFiles),
		Err: ErrTooLarge,
	}
}
