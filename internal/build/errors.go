package build

import "errors"

// Limits and refusals a CompileError wraps: the build reached a limit, or
// the folder cannot be built at all.
var (
	// ErrTimeout: the build took longer than Config.Timeout.
	ErrTimeout = errors.New("build: time limit reached")
	// ErrMemory: the toolchain needed more memory than Config.MemoryMiB.
	ErrMemory = errors.New("build: memory limit reached")
	// ErrTooLarge: the folder holds more than MaxSourceBytes or
	// MaxSourceFiles.
	ErrTooLarge = errors.New("build: folder too large")
)

// Errors of the sandbox or of the command line, not of the program built.
var (
	// ErrNoToolchain: the go command was not found.
	ErrNoToolchain = errors.New("no Go toolchain")
	// ErrNoDir: Config.Dir does not exist, cannot be read, or is not a
	// directory.
	ErrNoDir = errors.New("no folder to build")
)

// CompileError is a build that failed because of the program: the
// compiler's errors, or a limit the build reached. Msg is what the
// program's author is shown.
type CompileError struct {
	// Msg is the compiler's output, with the build's own paths removed so
	// that files are named as in the folder ("main.go:12:3: undefined:
	// foo"), or a sentence saying which limit was reached.
	Msg string
	// Err is ErrTimeout, ErrMemory or ErrTooLarge, or nil for the
	// compiler's errors.
	Err error
	// Output is what the go command printed, cleaned as Msg is (at most
	// 1 MiB): Msg itself for the compiler's errors; for a limit reached,
	// what it printed before (at the memory limit, the runtime's fatal
	// errors and stacks), for logs rather than for the program's author.
	Output string
}

func (e *CompileError) Error() string { return e.Msg }

func (e *CompileError) Unwrap() error { return e.Err }
