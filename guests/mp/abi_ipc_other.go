//go:build !wasip1

package mp

// The shared objects of platforms that have no sandbox: every call fails
// with an error that wraps ErrHost.

func (noSandbox) pipeNew(bool, *int32, *int32) errno            { return errnoNoSandbox }
func (noSandbox) connSend(int32, []byte) errno                  { return errnoNoSandbox }
func (noSandbox) connRecv(int32, int64, []byte) (uint32, errno) { return 0, errnoNoSandbox }
func (noSandbox) connPoll(int32, int64) (bool, errno)           { return false, errnoNoSandbox }
func (noSandbox) connClose(int32) errno                         { return errnoNoSandbox }
func (noSandbox) queueNew(int32, bool, *int32) errno            { return errnoNoSandbox }
func (noSandbox) queuePut(int32, []byte, int64) errno           { return errnoNoSandbox }
func (noSandbox) queuePost(int32, []byte, int64) errno          { return errnoNoSandbox }
func (noSandbox) queueGet(int32, int64, []byte) (uint32, errno) { return 0, errnoNoSandbox }
func (noSandbox) queueInfo(int32) ([3]int32, errno)             { return [3]int32{}, errnoNoSandbox }
func (noSandbox) queueClose(int32) errno                        { return errnoNoSandbox }
func (noSandbox) queueTaskDone(int32) errno                     { return errnoNoSandbox }
func (noSandbox) queueJoin(int32, int64) errno                  { return errnoNoSandbox }
func (noSandbox) barrierNew(int32, int64, bool, *int32) errno   { return errnoNoSandbox }
func (noSandbox) barrierWait(int32, int64) (int32, bool, errno) { return 0, false, errnoNoSandbox }
func (noSandbox) barrierActionDone(int32, bool) errno           { return errnoNoSandbox }
func (noSandbox) barrierAbort(int32) errno                      { return errnoNoSandbox }
func (noSandbox) barrierReset(int32) errno                      { return errnoNoSandbox }
func (noSandbox) barrierInfo(int32) ([3]int32, errno)           { return [3]int32{}, errnoNoSandbox }
func (noSandbox) lockNew(int32, int32, *int32) errno            { return errnoNoSandbox }
func (noSandbox) lockAcquire(int32, int64) (bool, errno)        { return false, errnoNoSandbox }
func (noSandbox) lockRelease(int32) errno                       { return errnoNoSandbox }
func (noSandbox) lockInfo(int32) ([3]int32, errno)              { return [3]int32{}, errnoNoSandbox }
func (noSandbox) eventNew(*int32) errno                         { return errnoNoSandbox }
func (noSandbox) eventSet(int32) errno                          { return errnoNoSandbox }
func (noSandbox) eventClear(int32) errno                        { return errnoNoSandbox }
func (noSandbox) eventIsSet(int32) (bool, errno)                { return false, errnoNoSandbox }
func (noSandbox) eventWait(int32, int64) (bool, errno)          { return false, errnoNoSandbox }
func (noSandbox) condNew(int32, *int32) errno                   { return errnoNoSandbox }
func (noSandbox) condWait(int32, int64) (bool, errno)           { return false, errnoNoSandbox }
func (noSandbox) condNotify(int32, int32) errno                 { return errnoNoSandbox }
func (noSandbox) condNotifyAll(int32) errno                     { return errnoNoSandbox }
func (noSandbox) nsNew(int32, *int32) errno                     { return errnoNoSandbox }
func (noSandbox) nsSet(int32, string, []byte) errno             { return errnoNoSandbox }
func (noSandbox) nsGet(int32, string, []byte, *uint32) errno    { return errnoNoSandbox }
func (noSandbox) nsDelete(int32, string) errno                  { return errnoNoSandbox }
func (noSandbox) nsItems(int32, []byte, *uint32) errno          { return errnoNoSandbox }
func (noSandbox) nsLen(int32, *int32) errno                     { return errnoNoSandbox }
func (noSandbox) listAppend(int32, []byte) errno                { return errnoNoSandbox }
func (noSandbox) listGet(int32, int32, []byte, *uint32) errno   { return errnoNoSandbox }
func (noSandbox) listSet(int32, int32, []byte) errno            { return errnoNoSandbox }
func (noSandbox) listPop(int32, int32, []byte, *uint32) errno   { return errnoNoSandbox }
