//go:build !wasip1

package mp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fakeHost is an in-memory sandbox host module for one run, following
// docs/ABI.md closely enough to test the SDK: names and identities, the
// creator and daemon rules, states, the buffer convention. Processes do
// not run: a test plays a child by setting self, and ends a started
// process with stop (Join of a started process stops it with its exit
// field, or 0).
type fakeHost struct {
	self  int32
	procs []*fakeProc // by handle-1
	pid   int32       // last pid given out
	calls []string    // one line per call, for tests that check traffic

	objects map[int32]*fakeObject // shared objects, by handle (fake_ipc_test.go)
}

type fakeProc struct {
	target, name, class string
	args                []byte
	daemon              bool
	state               procState
	exitCode            int32
	exitOnJoin          int32
	pid                 int32
	creator             int32
	identity            []int
	counter             int
}

var _ abi = (*fakeHost)(nil)

// newFakeHost returns a host whose only process is MainProcess (handle 1,
// pid 100), which is the caller.
func newFakeHost() *fakeHost {
	f := &fakeHost{pid: 100}
	f.procs = append(f.procs, &fakeProc{name: "MainProcess", state: stateStarted, pid: 100})
	f.self = 1
	return f
}

// useFake installs a fresh fake host and SDK state for the test, and
// restores the previous ones after it.
func useFake(t *testing.T) *fakeHost {
	t.Helper()
	oldHost, oldState, oldStderr := host, st, stderr
	f := newFakeHost()
	host, st = f, newState()
	t.Cleanup(func() { host, st, stderr = oldHost, oldState, oldStderr })
	return f
}

// becomeChild makes the fake's caller the process h, as in that process's
// runner, with fresh SDK state holding the same registrations.
func (f *fakeHost) becomeChild(t *testing.T, h int32) {
	t.Helper()
	f.self = h
	fresh := newState()
	fresh.funcs, fresh.classes = st.funcs, st.classes
	st = fresh
}

func (f *fakeHost) get(h int32) *fakeProc {
	if h < 1 || int(h) > len(f.procs) {
		return nil
	}
	return f.procs[h-1]
}

func (f *fakeHost) log(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// childOfCaller returns process h if the caller created it.
func (f *fakeHost) childOfCaller(h int32) (*fakeProc, errno) {
	p := f.get(h)
	switch {
	case p == nil:
		return nil, errnoBadHandle
	case p.creator != f.self:
		return nil, errnoPerm
	}
	return p, errnoOK
}

func (f *fakeHost) procNew(target string, args []byte, name, class string, daemon bool, handle *int32) errno {
	f.log("proc_new %s %s", target, args)
	if target == "" || !utf8.ValidString(name) {
		return errnoInvalid
	}
	creator := f.get(f.self)
	creator.counter++
	id := append(append([]int(nil), creator.identity...), creator.counter)
	if class == "" {
		class = "Process"
	}
	if name == "" {
		parts := make([]string, len(id))
		for i, n := range id {
			parts[i] = strconv.Itoa(n)
		}
		name = class + "-" + strings.Join(parts, ":")
	}
	f.procs = append(f.procs, &fakeProc{
		target: target, args: bytes.Clone(args), name: name, class: class,
		daemon: daemon, creator: f.self, identity: id,
	})
	*handle = int32(len(f.procs))
	return errnoOK
}

func (f *fakeHost) procStart(h int32) errno {
	f.log("proc_start %d", h)
	p, e := f.childOfCaller(h)
	switch {
	case e != errnoOK:
		return e
	case f.get(f.self).daemon:
		return errnoPerm
	case p.state != stateInitial:
		return errnoState
	}
	f.pid++
	p.state, p.pid = stateStarted, f.pid
	f.inherit(f.self, h)
	return errnoOK
}

// stop ends process h with code.
func (f *fakeHost) stop(h int32, code int32) {
	p := f.get(h)
	p.state, p.exitCode = stateStopped, code
}

func (f *fakeHost) procJoin(h int32, timeoutNs int64) errno {
	f.log("proc_join %d %d", h, timeoutNs)
	p, e := f.childOfCaller(h)
	switch {
	case e != errnoOK:
		return e
	case p.state == stateInitial:
		return errnoState
	case p.state == stateStarted && timeoutNs >= 0:
		return errnoTimedOut
	case p.state == stateStarted:
		f.stop(h, p.exitOnJoin)
	}
	return errnoOK
}

func (f *fakeHost) signal(h int32, code int32) errno {
	p, e := f.childOfCaller(h)
	switch {
	case e != errnoOK:
		return e
	case p.state == stateInitial:
		return errnoState
	case p.state == stateStarted:
		f.stop(h, code)
	}
	return errnoOK
}

func (f *fakeHost) procTerminate(h int32) errno { return f.signal(h, -15) }
func (f *fakeHost) procKill(h int32) errno      { return f.signal(h, -9) }

func (f *fakeHost) procInfo(h int32, rec *[infoSize]byte) errno {
	p := f.get(h)
	if p == nil {
		return errnoBadHandle
	}
	i := procInfo{state: p.state, exitCode: p.exitCode, pid: p.pid, creator: p.creator}
	if c := f.get(p.creator); c != nil {
		i.ppid = c.pid
	}
	if p.daemon {
		i.flags |= flagDaemon
	}
	*rec = encodeInfo(i)
	return errnoOK
}

// filled is fill for the calls that return the size.
func filled(data, buf []byte) (uint32, errno) {
	var size uint32
	e := fill(data, buf, &size)
	return size, e
}

// fill is the buffer convention.
func fill[T any](data []T, buf []T, size *uint32) errno {
	*size = uint32(len(data))
	if len(buf) < len(data) {
		return errnoTooSmall
	}
	copy(buf, data)
	return errnoOK
}

func (f *fakeHost) procName(h int32, buf []byte, size *uint32) errno {
	p := f.get(h)
	if p == nil {
		return errnoBadHandle
	}
	return fill([]byte(p.name), buf, size)
}

func (f *fakeHost) procSetName(h int32, name string) errno {
	p := f.get(h)
	switch {
	case p == nil:
		return errnoBadHandle
	case name == "":
		return errnoInvalid
	case h != f.self && p.creator != f.self:
		return errnoPerm
	}
	p.name = name
	return errnoOK
}

func (f *fakeHost) procSetDaemon(h int32, daemon bool) errno {
	p, e := f.childOfCaller(h)
	switch {
	case e != errnoOK:
		return e
	case p.state != stateInitial:
		return errnoState
	}
	p.daemon = daemon
	return errnoOK
}

func (f *fakeHost) procSelf(h *int32) errno {
	*h = f.self
	return errnoOK
}

func (f *fakeHost) procParent(h *int32) errno {
	*h = f.get(f.self).creator
	return errnoOK
}

func (f *fakeHost) procChildren(buf []int32, count *uint32) errno {
	var hs []int32
	for i, p := range f.procs {
		if p.creator == f.self && p.state == stateStarted {
			hs = append(hs, int32(i+1))
		}
	}
	return fill(hs, buf, count)
}

func (f *fakeHost) procTarget(buf []byte, size *uint32) errno {
	return fill([]byte(f.get(f.self).target), buf, size)
}

func (f *fakeHost) procArgs(buf []byte, size *uint32) errno {
	return fill(f.get(f.self).args, buf, size)
}

func (f *fakeHost) procSetArgs(h int32, args []byte) errno {
	f.log("proc_set_args %d %s", h, args)
	p, e := f.childOfCaller(h)
	switch {
	case e != errnoOK:
		return e
	case p.state != stateInitial:
		return errnoState
	}
	p.args = bytes.Clone(args)
	return errnoOK
}
