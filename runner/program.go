package runner

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ProgramName is the runner binary's file name: cmd/sandbox-runner,
// installed beside the sandbox binary.
const ProgramName = "sandbox-runner"

// Stamp names the source a build was made of (the Makefile sets it, with
// -ldflags -X, to a hash of the Go source under cmd, host, runner,
// hostfuncs and internal, the SDK's, go.mod and go.sum): the sandbox
// binary starts runners from a runner binary only of the same source
// (Command). Empty for a build without it.
var Stamp string

// stampFlag is Stamp's -ldflags -X name, as build information records it.
const stampFlag = "github.com/sandbox-dev/sandbox/runner.Stamp="

// Command returns the command line a host at exe (the sandbox binary)
// starts runners with, up to their flags: the runner binary beside it
// (ProgramName) when it is of the very same build, else exe itself, in
// its hidden runner mode (Mode); why says why not the runner binary (nil
// when it is used, or absent).
//
// Both run the same runner code. The runner binary leaves out the
// packages only the command line uses (the grading's expressions and
// their protobuf descriptors, YAML, HTML templates, progress bars), whose
// initialization every runner of the sandbox binary runs before its
// first line: a runner starts in about 2 ms less CPU time and keeps
// about 0.7 MiB less memory. A runner binary of another build would
// speak another protocol: "the same build" is every build setting, the
// Go version and the main module alike, every module the runner binary
// holds at the version and sum the sandbox binary holds it, and a source
// known to be the same (sameBuild). A stamped build also tells the runner
// binary its stamp (--stamp), and the runner binary refuses to run under
// another: one replaced during the run fails its runners rather than run
// them.
func Command(exe string) (argv []string, why error) {
	path := filepath.Join(filepath.Dir(exe), ProgramName)
	fi, err := os.Stat(path)
	if err != nil {
		return []string{exe, Mode}, nil
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return []string{exe, Mode}, fmt.Errorf("%s is not an executable file", path)
	}
	own, ok := debug.ReadBuildInfo()
	if !ok {
		return []string{exe, Mode}, errors.New("this binary holds no build information")
	}
	other, err := buildinfo.ReadFile(path)
	if err != nil {
		return []string{exe, Mode}, fmt.Errorf("%s: %w", path, err)
	}
	if err := sameBuild(own, other); err != nil {
		return []string{exe, Mode}, fmt.Errorf("%s is of another build: %w", path, err)
	}
	argv = []string{path, Mode}
	if Stamp != "" {
		argv = append(argv, "--stamp", Stamp)
	}
	return argv, nil
}

// sameBuild says whether other, the runner binary's build information,
// is of the build own is (nil), or what differs. The source is known to
// be the same when both carry this build's Stamp (a build with -trimpath
// records no -ldflags), or are of one clean checkout of a revision, or of
// one version of the module (go install of a version).
func sameBuild(own, other *debug.BuildInfo) error {
	switch {
	case own.GoVersion != other.GoVersion:
		return fmt.Errorf("Go %s, not %s", other.GoVersion, own.GoVersion)
	case own.Main.Path != other.Main.Path || own.Main.Version != other.Main.Version || own.Main.Sum != other.Main.Sum:
		return fmt.Errorf("module %s %s, not %s %s", other.Main.Path, other.Main.Version, own.Main.Path, own.Main.Version)
	}
	settings := map[string]string{}
	for _, s := range own.Settings {
		settings[s.Key] = s.Value
	}
	if len(other.Settings) != len(own.Settings) {
		return fmt.Errorf("%d build settings, not %d", len(other.Settings), len(own.Settings))
	}
	for _, s := range other.Settings {
		if v, ok := settings[s.Key]; !ok || v != s.Value {
			return fmt.Errorf("build setting %s=%q, not %q", s.Key, s.Value, v)
		}
	}
	stamped := Stamp != "" && strings.Contains(settings["-ldflags"], stampFlag+Stamp)
	clean := settings["vcs.modified"] == "false" && settings["vcs.revision"] != ""
	released := own.Main.Version != "" && own.Main.Version != "(devel)" && own.Main.Sum != ""
	if !stamped && !clean && !released {
		return errors.New("neither a stamp, a clean checkout nor a version says the source is the same")
	}
	deps := map[string]debug.Module{}
	for _, d := range own.Deps {
		deps[d.Path] = *d
	}
	for _, d := range other.Deps {
		m, ok := deps[d.Path]
		if !ok || m.Version != d.Version || m.Sum != d.Sum || !sameReplace(m.Replace, d.Replace) {
			return fmt.Errorf("module %s %s, not as this binary holds it", d.Path, d.Version)
		}
	}
	return nil
}

// sameReplace says a and b replace a module alike (or neither does).
func sameReplace(a, b *debug.Module) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Path == b.Path && a.Version == b.Version && a.Sum == b.Sum
}
