package runner

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestSameBuild: a runner binary is taken for the sandbox binary's own
// build only when everything its build information says is the same and
// the source is known to be (a stamp, or a clean checkout).
func TestSameBuild(t *testing.T) {
	base := func() *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Path:      "github.com/sandbox-dev/sandbox/cmd/sandbox",
			Main:      debug.Module{Path: "github.com/sandbox-dev/sandbox", Version: "(devel)"},
			Deps: []*debug.Module{
				{Path: "github.com/tetratelabs/wazero", Version: "v1.12.0", Sum: "h1:a"},
				{Path: "cel.dev/expr", Version: "v0.1.0", Sum: "h1:b"},
			},
			Settings: []debug.BuildSetting{
				{Key: "-ldflags", Value: "-X github.com/sandbox-dev/sandbox/runner.Stamp=s1"},
				{Key: "GOARCH", Value: "amd64"},
				{Key: "vcs.revision", Value: "abc"},
				{Key: "vcs.modified", Value: "false"},
			},
		}
	}
	tests := []struct {
		name  string
		stamp string
		edit  func(own, runner *debug.BuildInfo)
		want  string // in the error; "" for the same build
	}{
		{"same", "", func(own, r *debug.BuildInfo) {}, ""},
		{"runner holds fewer modules", "", func(own, r *debug.BuildInfo) { r.Deps = r.Deps[:1] }, ""},
		{"another Go", "", func(own, r *debug.BuildInfo) { r.GoVersion = "go1.26.7" }, "Go go1.26.7"},
		{"another main module", "", func(own, r *debug.BuildInfo) { r.Main.Version = "v0.1.0" }, "module github.com/sandbox-dev/sandbox v0.1.0"},
		{"another stamp", "s1", func(own, r *debug.BuildInfo) {
			r.Settings[0].Value = "-X github.com/sandbox-dev/sandbox/runner.Stamp=s2"
		}, "build setting -ldflags"},
		{"another revision", "", func(own, r *debug.BuildInfo) { r.Settings[2].Value = "abd" }, "vcs.revision"},
		{"a setting more", "", func(own, r *debug.BuildInfo) {
			r.Settings = append(r.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
		}, "5 build settings, not 4"},
		{"a setting less", "", func(own, r *debug.BuildInfo) { r.Settings = r.Settings[1:] }, "3 build settings"},
		{"a module at another version", "", func(own, r *debug.BuildInfo) {
			r.Deps[0] = &debug.Module{Path: "github.com/tetratelabs/wazero", Version: "v1.11.0", Sum: "h1:a"}
		}, "module github.com/tetratelabs/wazero v1.11.0"},
		{"a module of another sum", "", func(own, r *debug.BuildInfo) {
			r.Deps[0] = &debug.Module{Path: "github.com/tetratelabs/wazero", Version: "v1.12.0", Sum: "h1:z"}
		}, "module github.com/tetratelabs/wazero"},
		{"a module the sandbox binary lacks", "", func(own, r *debug.BuildInfo) {
			r.Deps = append(r.Deps, &debug.Module{Path: "example.com/other", Version: "v1.0.0"})
		}, "module example.com/other"},
		{"a module replaced", "", func(own, r *debug.BuildInfo) {
			r.Deps[0] = &debug.Module{Path: "github.com/tetratelabs/wazero", Version: "v1.12.0", Sum: "h1:a",
				Replace: &debug.Module{Path: "../wazero", Version: "(devel)"}}
		}, "module github.com/tetratelabs/wazero"},
		{"a dirty checkout, no stamp", "", func(own, r *debug.BuildInfo) {
			own.Settings[3].Value, r.Settings[3].Value = "true", "true"
		}, "neither a stamp"},
		{"no checkout, no stamp", "", func(own, r *debug.BuildInfo) {
			own.Settings, r.Settings = own.Settings[:2], r.Settings[:2]
		}, "neither a stamp"},
		{"a dirty checkout, stamped", "s1", func(own, r *debug.BuildInfo) {
			own.Settings[3].Value, r.Settings[3].Value = "true", "true"
		}, ""},
		{"a dirty checkout, stamped, -trimpath", "s1", func(own, r *debug.BuildInfo) {
			// (-trimpath leaves -ldflags out: the stamp is not seen)
			own.Settings[0], r.Settings[0] = debug.BuildSetting{Key: "-trimpath", Value: "true"}, debug.BuildSetting{Key: "-trimpath", Value: "true"}
			own.Settings[3].Value, r.Settings[3].Value = "true", "true"
		}, "neither a stamp"},
		{"another stamp, -trimpath, a clean checkout", "s1", func(own, r *debug.BuildInfo) {
			// (taken: one revision; were the stamps to differ, the runner refuses --stamp)
			own.Settings[0], r.Settings[0] = debug.BuildSetting{Key: "-trimpath", Value: "true"}, debug.BuildSetting{Key: "-trimpath", Value: "true"}
		}, ""},
		{"a version, no checkout, no stamp", "", func(own, r *debug.BuildInfo) {
			own.Settings, r.Settings = own.Settings[1:2], r.Settings[1:2]
			own.Main = debug.Module{Path: "github.com/sandbox-dev/sandbox", Version: "v1.2.0", Sum: "h1:m"}
			r.Main = own.Main
		}, ""},
	}
	defer func(s string) { Stamp = s }(Stamp)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Stamp = tt.stamp
			own, r := base(), base()
			r.Path = "github.com/sandbox-dev/sandbox/cmd/sandbox-runner"
			tt.edit(own, r)
			err := sameBuild(own, r)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("sameBuild = %v; want the same build", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("sameBuild = %v; want an error with %q", err, tt.want)
			}
		})
	}
}

// TestCommand: with no runner binary beside it, the sandbox binary runs
// its runners itself, and says nothing; with a file there that is not an
// executable Go binary of its build, too, and says why. (The runner
// binary taken: cmd/sandbox's TestRunnerProgram, with real builds.)
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "sandbox")
	self := []string{exe, Mode}
	if got, why := Command(exe); !slices.Equal(got, self) || why != nil {
		t.Errorf("no runner binary: Command = %q, %v; want %q, nil", got, why, self)
	}
	for _, tt := range []struct {
		name string
		perm os.FileMode
		why  string
	}{
		{"a script", 0o755, ProgramName},
		{"not executable", 0o644, "not an executable file"},
	} {
		path := filepath.Join(dir, ProgramName)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), tt.perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tt.perm); err != nil {
			t.Fatal(err)
		}
		if got, why := Command(exe); !slices.Equal(got, self) || why == nil || !strings.Contains(why.Error(), tt.why) {
			t.Errorf("%s as runner binary: Command = %q, %v; want %q and why (%q)", tt.name, got, why, self, tt.why)
		}
	}
}

// TestStampRefused: a runner told another stamp than its build's exits
// at once, saying why.
func TestStampRefused(t *testing.T) {
	defer func(s string) { Stamp = s }(Stamp)
	Stamp = "s1"
	var stderr strings.Builder
	if got := Main([]string{"--stamp", "s2", "--module", "m.wasm"}, &stderr); got != ExitFailed {
		t.Errorf("Main with another stamp = %d, want %d", got, ExitFailed)
	}
	if !strings.Contains(stderr.String(), `not the host's "s2"`) {
		t.Errorf("stderr: %q", stderr.String())
	}
}
