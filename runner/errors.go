package runner

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnreadable wraps the error of a module file that cannot be read.
var ErrUnreadable = errors.New("cannot read module")

// ModuleError says why a module cannot run in the sandbox: it is not
// WebAssembly, is malformed, imports what the sandbox does not offer, or
// has no _start.
type ModuleError struct {
	Path   string
	Reason string
	// Missing lists the imports ("module.name") the sandbox does not offer.
	Missing []string
}

// Error says what is wrong with the module, naming missing imports.
func (e *ModuleError) Error() string {
	if len(e.Missing) > 0 {
		return fmt.Sprintf("%s: %s: %s", e.Path, e.Reason, strings.Join(e.Missing, ", "))
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}
