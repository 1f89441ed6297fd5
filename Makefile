# Build the CLI and every guest; run the examples; run the tests.
# Everything the tests need is built here: `make test` on a fresh clone is
# enough.

GO       ?= go
BIN      := bin/sandbox
RUNNER   := bin/sandbox-runner
WASMENV  := GOOS=wasip1 GOARCH=wasm

# Every folder of guests/ with a main package is an example guest, built to
# guests/<name>.wasm. internal/testguests/<name> are guests for the tests.
EXAMPLES   := $(filter-out mp,$(sort $(patsubst guests/%/main.go,%,$(wildcard guests/*/main.go))))
GUESTS     := $(EXAMPLES:%=guests/%.wasm)
TESTGUESTS := $(patsubst %/main.go,%.wasm,$(wildcard internal/testguests/*/main.go))
# What every guest may import: the SDK and the guests' shared packages.
SDK        := $(wildcard guests/mp/*.go) $(shell find guests/internal -name '*.go' 2>/dev/null)
HOSTSRC    := $(shell find cmd host runner hostfuncs internal -name '*.go' -not -path 'internal/testguests/*') go.mod go.sum
# Both binaries carry a stamp of the source they are built of: the sandbox
# binary starts runners from the runner binary beside it only when it
# carries the same (runner.Command), else from itself. (Expanded where a
# build first uses it, once: other targets hash nothing, and both binaries
# get the stamp of one hash of the source.)
SHA256      = $(eval SHA256 := $(or $(shell command -v sha256sum 2>/dev/null),$(shell command -v shasum >/dev/null 2>&1 && echo shasum -a 256)))$(SHA256)
STAMP       = $(eval STAMP := $(if $(SHA256),$(shell cat $(sort $(HOSTSRC) $(SDK)) guests/sdk.go | $(SHA256) | cut -c1-16),$(error neither sha256sum nor shasum found: needed for the build stamp)))$(STAMP)
STAMPFLAGS  = -X github.com/sandbox-dev/sandbox/runner.Stamp=$(STAMP)

.PHONY: all build guests testguests demo test hostile vet bench profile clean screenshots
.SECONDEXPANSION:

all: build guests

build: $(BIN) $(RUNNER)

# Both binaries are built without cgo (NOCGO): static, they start without
# the dynamic loader, and go-landlock's system call on every thread of a
# runner is Go's own (syscall.AllThreadsSyscall), not libpsx's, which
# spins on sched_yield until each thread has taken its signal (README,
# How it works). Both the same way: a runner binary must be of the sandbox
# binary's very build settings (runner.Command).
NOCGO := CGO_ENABLED=0

$(BIN): $(HOSTSRC) $(SDK) guests/sdk.go
	$(NOCGO) $(GO) build -ldflags '$(STAMPFLAGS)' -o $@ ./cmd/sandbox

# The runner binary: what the sandbox binary starts for each guest process
# (the same runner code without the command line's packages: it starts
# sooner). Rebuilt whenever the sandbox binary is, to carry its stamp.
$(RUNNER): $(HOSTSRC) $(SDK) guests/sdk.go
	$(NOCGO) $(GO) build -ldflags '$(STAMPFLAGS)' -o $@ ./cmd/sandbox-runner

guests: $(GUESTS)

testguests: $(TESTGUESTS)

guests/%.wasm: $$(wildcard guests/%/*.go) $(SDK) go.mod
	$(WASMENV) $(GO) build -o $@ ./guests/$*

internal/testguests/%.wasm: $$(wildcard internal/testguests/%/*.go) $(SDK) go.mod
	$(WASMENV) $(GO) build -o $@ ./internal/testguests/$*

# Run every example, one after another, each under a header line. With
# TRACE=1, each run also writes its event log, Chrome trace and timeline
# into out/ (out/NAME.events.jsonl, out/NAME.trace.json, out/NAME.html).
TRACE ?=
demo: build guests
	@$(if $(TRACE),mkdir -p out;) for g in $(EXAMPLES); do \
		echo "=== sandbox run guests/$$g.wasm"; \
		$(BIN) run $(if $(TRACE),--events out/$$g.events.jsonl --trace out/$$g.trace.json --timeline out/$$g.html) guests/$$g.wasm || echo "=== exit status $$?"; \
	done$(if $(TRACE),; echo "=== in out/: event logs (NAME.events.jsonl) and traces (NAME.trace.json) and timelines (NAME.html)")

# The README's screenshots of timelines, drawn from real runs in headless
# Chromium (internal/timeline's TestScreenshot): docs/timeline-NAME.png.
SCREENSHOTS := communicating_with_pipe processes_barrier
screenshots: build guests chromium
	@mkdir -p out
	@for g in $(SCREENSHOTS); do \
		$(BIN) run --events $(CURDIR)/out/$$g.events.jsonl guests/$$g.wasm >/dev/null && \
		$(GO) test -count=1 -run '^TestScreenshot$$' ./internal/timeline -args \
			-events $(CURDIR)/out/$$g.events.jsonl -png $(CURDIR)/docs/timeline-$$g.png -width 1200 || exit 1; \
	done
	@# The grading report: a class of the reference guests ("reference") and
	@# the wrong submissions of grading/wrong, each with the reference's
	@# modules for its other exercises, graded by grading/chapter3.yaml.
	@rm -rf out/class out/class-report && mkdir -p out/class/reference
	@for g in $(EXAMPLES); do cp guests/$$g.wasm out/class/reference/; done
	@for w in grading/wrong/*/; do s=$$(basename $$w); mkdir -p out/class/$$s; cp -r $$w* out/class/$$s/; \
		for g in $(EXAMPLES); do [ -d out/class/$$s/$$g ] || cp guests/$$g.wasm out/class/$$s/; done; done
	$(BIN) grade --spec grading/chapter3.yaml --out out/class-report --progress=false out/class >/dev/null
	$(GO) test -count=1 -run '^TestScreenshotReport$$' ./internal/grade -args \
		-report $(CURDIR)/out/class-report/report.html -report-png $(CURDIR)/docs/grading-report.png -open open_pipe_end/communicating_with_pipe

vet:
	$(GO) vet ./...
	$(WASMENV) $(GO) vet ./guests/... ./internal/testguests/...
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)

# The host, the runner and everything they use run under the race
# detector (host tests start real runners from the race-built test binary).
# The CLI's end-to-end tests run without it: they re-run the same host code
# in subprocesses, where the detector makes every compile several times slower.
test: build guests testguests vet chromium perf
	$(GO) test -race -count=1 ./host/... ./runner/... ./hostfuncs/... ./internal/...
	$(GO) test -count=1 ./cmd/... ./guests/... ./bench/...

# $(call debian,COMMAND,PACKAGE,WHAT SKIPS): install Debian's PACKAGE
# when COMMAND is absent (as root, or with a sudo that asks no password).
# A failed install is reported, not fatal: what needs it then skips.
debian = command -v $(1) >/dev/null 2>&1 || { \
		APT="$$(test "$$(id -u)" = 0 || echo sudo -n) env DEBIAN_FRONTEND=noninteractive apt-get"; \
		$$APT install -y $(2) || { $$APT update && $$APT install -y $(2); }; \
	} || echo "make $@: could not install Debian's $(2) package; $(3)"

# The browser tests of internal/timeline drive Debian's chromium.
.PHONY: chromium
chromium:
	@$(call debian,chromium,chromium,the browser tests of internal/timeline will be skipped)

# bench -profile (make profile) and its test (bench's TestProfileRun)
# sample every CPU with Linux perf (Debian's linux-perf); that test also
# skips where perf may not sample (a container that denies
# perf_event_open).
.PHONY: perf
perf:
	@$(call debian,perf,linux-perf,bench's TestProfileRun will be skipped)

# The hostile-guest suite (run once by `make test`) seven times over: 259
# runs of `sandbox run` (37 cases) that each must end with their verdict,
# within their bound, leaving no runner behind and the host's memory
# bounded; then 210 hostile runs in one host process (7 cases, 30 rounds),
# whose open files, goroutines and heap must come back to where they were
# after every round.
hostile: build guests testguests
	$(GO) test -count=7 -run '^TestHostile$$' ./cmd/sandbox
	HOSTILE_ROUNDS=30 $(GO) test -count=1 -v -run '^TestRepeatedRunsLeakNothing$$' ./host

bench: build guests testguests
	$(GO) run ./bench $(BENCHFLAGS)

# Where one operation's CPU goes, by layer (guest, runner, kernel, host,
# CPython), for the shapes that are one program's run (bench/README.md).
profile: build testguests perf
	$(GO) run ./bench -profile $(BENCHFLAGS)

clean:
	rm -rf bin $(GUESTS) $(TESTGUESTS)
