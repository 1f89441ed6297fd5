//go:build !wasip1

package mp

import (
	"testing"
	"time"
)

// The expected texts below were printed by CPython 3.11.7 (fork start
// method, Linux) for the same situations.
func TestFormatRepr(t *testing.T) {
	tests := []struct {
		name  string
		class string
		pname string
		view  view
		info  procInfo
		want  string
	}{
		{
			name: "main", class: mainClass, pname: "MainProcess", view: viewSelf,
			info: procInfo{state: stateStarted, pid: 2570},
			want: "<_MainProcess name='MainProcess' parent=None started>",
		},
		{
			name: "initial daemon", class: "Process", pname: "Process-1", view: viewChild,
			info: procInfo{state: stateInitial, ppid: 2570, creator: 1, flags: flagDaemon},
			want: "<Process name='Process-1' parent=2570 initial daemon>",
		},
		{
			name: "initial", class: "MyProc", pname: "MyProc-2", view: viewChild,
			info: procInfo{state: stateInitial, ppid: 2570, creator: 1},
			want: "<MyProc name='MyProc-2' parent=2570 initial>",
		},
		{
			name: "started daemon", class: "Process", pname: "Process-1", view: viewChild,
			info: procInfo{state: stateStarted, pid: 2611, ppid: 2570, creator: 1, flags: flagDaemon},
			want: "<Process name='Process-1' pid=2611 parent=2570 started daemon>",
		},
		{
			name: "stopped exit 3 daemon", class: "Process", pname: "Process-1", view: viewChild,
			info: procInfo{state: stateStopped, exitCode: 3, pid: 2611, ppid: 2570, creator: 1, flags: flagDaemon},
			want: "<Process name='Process-1' pid=2611 parent=2570 stopped exitcode=3 daemon>",
		},
		{
			name: "stopped exit 0", class: "MyProc", pname: "MyProc-2", view: viewChild,
			info: procInfo{state: stateStopped, pid: 2612, ppid: 2570, creator: 1},
			want: "<MyProc name='MyProc-2' pid=2612 parent=2570 stopped exitcode=0>",
		},
		{
			name: "stopped exit 1", class: "Process", pname: "Process-3", view: viewChild,
			info: procInfo{state: stateStopped, exitCode: 1, pid: 2613, ppid: 2570, creator: 1},
			want: "<Process name='Process-3' pid=2613 parent=2570 stopped exitcode=1>",
		},
		{
			name: "terminated", class: "Process", pname: "Process-4", view: viewChild,
			info: procInfo{state: stateStopped, exitCode: -15, pid: 2614, ppid: 2570, creator: 1},
			want: "<Process name='Process-4' pid=2614 parent=2570 stopped exitcode=-SIGTERM>",
		},
		{
			name: "killed", class: "Process", pname: "Process-4", view: viewChild,
			info: procInfo{state: stateStopped, exitCode: -9, pid: 2614, ppid: 2570, creator: 1},
			want: "<Process name='Process-4' pid=2614 parent=2570 stopped exitcode=-SIGKILL>",
		},
		{
			name: "unnamed signal", class: "Process", pname: "Process-4", view: viewChild,
			info: procInfo{state: stateStopped, exitCode: -40, pid: 2614, ppid: 2570, creator: 1},
			want: "<Process name='Process-4' pid=2614 parent=2570 stopped exitcode=-40>",
		},
		{
			name: "current in child", class: "Process", pname: "Process-1", view: viewSelf,
			info: procInfo{state: stateStarted, pid: 2611, ppid: 2570, creator: 1, flags: flagDaemon},
			want: "<Process name='Process-1' parent=2570 started daemon>",
		},
		{
			name: "current class in child", class: "MyProc", pname: "MyProc-2", view: viewSelf,
			info: procInfo{state: stateStarted, pid: 2612, ppid: 2570, creator: 1},
			want: "<MyProc name='MyProc-2' parent=2570 started>",
		},
		{
			name: "created by a child", class: "Process", pname: "Process-1:1", view: viewChild,
			info: procInfo{state: stateInitial, ppid: 2611, creator: 2, flags: flagDaemon},
			want: "<Process name='Process-1:1' parent=2611 initial daemon>",
		},
		{
			name: "parent", class: parentClass, pname: "MainProcess", view: viewParent,
			info: procInfo{state: stateStarted, pid: 2570},
			want: "<_ParentProcess name='MainProcess' parent=None unknown>",
		},
		{
			name: "daemon parent", class: parentClass, pname: "Process-1", view: viewParent,
			info: procInfo{state: stateStarted, pid: 2611, ppid: 2570, creator: 1, flags: flagDaemon},
			want: "<_ParentProcess name='Process-1' parent=None unknown>",
		},
		{
			name: "quoted name", class: "Process", pname: "it's", view: viewChild,
			info: procInfo{state: stateInitial, ppid: 7, creator: 1},
			want: `<Process name="it's" parent=7 initial>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatRepr(tt.class, tt.pname, tt.view, tt.info); got != tt.want {
				t.Errorf("formatRepr = %s\nwant          %s", got, tt.want)
			}
		})
	}
}

// Expected values printed by CPython 3.11.7's repr().
func TestPyRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Process-1", `'Process-1'`},
		{"", `''`},
		{"it's", `"it's"`},
		{`say "hi"`, `'say "hi"'`},
		{`both ' and "`, `'both \' and "'`},
		{`back\slash`, `'back\\slash'`},
		{"tab\tnl\nret\r", `'tab\tnl\nret\r'`},
		{"\x00\x1b\x7f", `'\x00\x1b\x7f'`},
		{"caf\u00e9", "'caf\u00e9'"},
		{"\u00a0nbsp", `'\xa0nbsp'`},
		{"zw\u200bsp", `'zw\u200bsp'`},
		{"emoji\U0001F600", "'emoji\U0001F600'"},
		{"\U000E0001tag", `'\U000e0001tag'`},
		{"\u0085", `'\x85'`},
		{"\u2028", `'\u2028'`},
		{"\ud7ff", `'\ud7ff'`},
		{"\ufeff", `'\ufeff'`},
		{"\U0010ffff", `'\U0010ffff'`},
		{"bad\xffbyte", `'bad\udcffbyte'`},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.in); got != tt.want {
			t.Errorf("pyRepr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestExitCodeName(t *testing.T) {
	tests := map[int]string{
		0: "0", 1: "1", 255: "255", -1: "-SIGHUP", -6: "-SIGABRT", -9: "-SIGKILL",
		-15: "-SIGTERM", -17: "-SIGCHLD", -29: "-SIGPOLL", -32: "-32", -34: "-SIGRTMIN",
		-64: "-SIGRTMAX", -65: "-65",
	}
	for code, want := range tests {
		if got := exitCodeName(code); got != want {
			t.Errorf("exitCodeName(%d) = %s, want %s", code, got, want)
		}
	}
}

// TestString checks the repr of real Process values against the fake
// host, from MainProcess and from a child.
func TestString(t *testing.T) {
	f := useFake(t)
	Register(noop, sleepy)

	if got, want := CurrentProcess().String(), "<_MainProcess name='MainProcess' parent=None started>"; got != want {
		t.Errorf("main: %s, want %s", got, want)
	}
	p := NewProcess(noop)
	d := NewProcess(sleepy, Args(time.Minute), Daemon(true))
	checks := []struct {
		p    *Process
		want string
	}{
		{p, "<Process name='Process-1' parent=100 initial>"},
		{d, "<Process name='Process-2' parent=100 initial daemon>"},
	}
	for _, c := range checks {
		if got := c.p.String(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	mustOK(t, p.Start())
	mustOK(t, d.Start())
	if got, want := p.String(), "<Process name='Process-1' pid=101 parent=100 started>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	mustOK(t, p.Join())
	mustOK(t, d.Terminate())
	if got, want := p.String(), "<Process name='Process-1' pid=101 parent=100 stopped exitcode=0>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := d.String(), "<Process name='Process-2' pid=102 parent=100 stopped exitcode=-SIGTERM daemon>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := (*Process)(nil).String(), "<Process uninitialized>"; got != want {
		t.Errorf("nil: %s, want %s", got, want)
	}

	// In Process-1's runner.
	f.becomeChild(t, p.Handle())
	f.stop(p.Handle(), 0)
	f.get(p.Handle()).state = stateStarted
	if got, want := CurrentProcess().String(), "<Process name='Process-1' parent=100 started>"; got != want {
		t.Errorf("child current: %s, want %s", got, want)
	}
	if got, want := ParentProcess().String(), "<_ParentProcess name='MainProcess' parent=None unknown>"; got != want {
		t.Errorf("child parent: %s, want %s", got, want)
	}
	q := NewProcess(noop)
	if got, want := q.String(), "<Process name='Process-1:1' parent=101 initial>"; got != want {
		t.Errorf("grandchild: %s, want %s", got, want)
	}
}
