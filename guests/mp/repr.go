package mp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Class names CPython shows for the current process of the main program
// and for the object parent_process() returns.
const (
	mainClass   = "_MainProcess"
	parentClass = "_ParentProcess"
)

// view is how the calling process relates to the process of a repr; it
// decides what CPython can know, and so what the repr shows.
type view int

const (
	viewChild  view = iota // the caller created it: full state
	viewSelf               // the caller itself: always "started", no pid
	viewParent             // the caller's creator: "unknown", parent=None
	viewOther              // anything else: "unknown"
)

// String returns CPython 3.11's repr of the process:
//
//	<Process name='Process-1' parent=123 initial>
//	<Process name='Process-1' pid=456 parent=123 started daemon>
//	<Process name='Process-1' pid=456 parent=123 stopped exitcode=-SIGTERM>
//	<Worker name='Worker-2' pid=457 parent=123 stopped exitcode=0>
//	<_MainProcess name='MainProcess' parent=None started>
//
// As in CPython, the current process shows no pid, and ParentProcess()
// shows as <_ParentProcess name='MainProcess' parent=None unknown>.
func (p *Process) String() string {
	if p == nil || p.handle == 0 {
		return "<Process uninitialized>"
	}
	info, err := p.info()
	if err != nil {
		return fmt.Sprintf("<%s handle=%d error=%q>", p.class, p.handle, err.Error())
	}
	name, err := p.name()
	if err != nil {
		return fmt.Sprintf("<%s handle=%d error=%q>", p.class, p.handle, err.Error())
	}
	v := viewOther
	if self, parent, err := st.ids(); err == nil {
		switch {
		case p.handle == self:
			v = viewSelf
		case p.handle == parent:
			v = viewParent
		case info.creator == self:
			v = viewChild
		}
	}
	return formatRepr(p.class, name, v, info)
}

// formatRepr is BaseProcess.__repr__ of CPython 3.11
// (Lib/multiprocessing/process.py).
func formatRepr(class, name string, v view, info procInfo) string {
	var status string
	stopped := false
	switch v {
	case viewSelf:
		status = "started"
	case viewParent, viewOther:
		status = "unknown"
	default:
		switch info.state {
		case stateInitial:
			status = "initial"
		case stateStarted:
			status = "started"
		default:
			status = "stopped"
			stopped = true
		}
	}

	var b strings.Builder
	b.WriteString("<")
	b.WriteString(class)
	b.WriteString(" name=")
	b.WriteString(pyRepr(name))
	// CPython shows the pid only through the Popen object, which only the
	// creator holds, and only once started.
	if v == viewChild && info.state != stateInitial {
		fmt.Fprintf(&b, " pid=%d", info.pid)
	}
	// _MainProcess and _ParentProcess have _parent_pid None.
	if v == viewParent || info.creator == 0 {
		b.WriteString(" parent=None")
	} else {
		fmt.Fprintf(&b, " parent=%d", info.ppid)
	}
	b.WriteString(" ")
	b.WriteString(status)
	if stopped {
		b.WriteString(" exitcode=")
		b.WriteString(exitCodeName(int(info.exitCode)))
	}
	// _ParentProcess has an empty config, so never shows as a daemon.
	if info.daemon() && v != viewParent {
		b.WriteString(" daemon")
	}
	b.WriteString(">")
	return b.String()
}

// exitCodeName is CPython's _exitcode_to_name: -N becomes -SIGNAME for the
// signals of Linux, anything else its number.
func exitCodeName(code int) string {
	if code < 0 && -code < len(signalNames) && signalNames[-code] != "" {
		return "-" + signalNames[-code]
	}
	return strconv.Itoa(code)
}

// signalNames are the names CPython 3.11 on Linux gives signal numbers
// (the SIG* names of the signal module without "_"; of two names for one
// number, the one that module defines last).
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGPOLL", 30: "SIGPWR",
	31: "SIGSYS", 34: "SIGRTMIN", 64: "SIGRTMAX",
}

// pyRepr is Python 3's repr of a str: single quotes unless the text holds
// a single quote and no double quote; backslash escapes for the quote, the
// backslash, \t \n \r, and \xhh, \uhhhh or \Uhhhhhhhh for characters that
// are not printable.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// Not UTF-8 (the host refuses such names): show the byte as
			// Python's surrogateescape would.
			fmt.Fprintf(&b, `\udc%02x`, s[i])
			i++
			continue
		}
		i += n
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r): // Python's isprintable: L, M, N, P, S and ' '
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}
