//go:build !wasip1

package mp

// host is the sandbox host module. Outside wasip1 there is none: every
// call fails with an error that wraps ErrHost, so the package builds and
// its portable parts can be tested on any platform.
var host abi = noSandbox{}

// noSandbox is the sandbox host module of platforms that have none.
type noSandbox struct{}

var _ abi = noSandbox{}

func (noSandbox) procNew(string, []byte, string, string, bool, *int32) errno {
	return errnoNoSandbox
}
func (noSandbox) procStart(int32) errno                 { return errnoNoSandbox }
func (noSandbox) procJoin(int32, int64) errno           { return errnoNoSandbox }
func (noSandbox) procTerminate(int32) errno             { return errnoNoSandbox }
func (noSandbox) procKill(int32) errno                  { return errnoNoSandbox }
func (noSandbox) procInfo(int32, *[infoSize]byte) errno { return errnoNoSandbox }
func (noSandbox) procName(int32, []byte, *uint32) errno { return errnoNoSandbox }
func (noSandbox) procSetName(int32, string) errno       { return errnoNoSandbox }
func (noSandbox) procSetDaemon(int32, bool) errno       { return errnoNoSandbox }
func (noSandbox) procSelf(*int32) errno                 { return errnoNoSandbox }
func (noSandbox) procParent(*int32) errno               { return errnoNoSandbox }
func (noSandbox) procChildren([]int32, *uint32) errno   { return errnoNoSandbox }
func (noSandbox) procTarget([]byte, *uint32) errno      { return errnoNoSandbox }
func (noSandbox) procArgs([]byte, *uint32) errno        { return errnoNoSandbox }
func (noSandbox) procSetArgs(int32, []byte) errno       { return errnoNoSandbox }
