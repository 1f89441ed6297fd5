package trace

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// arg is one entry of an event's args, written in order.
type arg struct {
	key  string
	kind argKind
	s    string
	n    int64
	list []string
}

type argKind uint8

const (
	argNone   argKind = iota // left out
	argString                // s
	argInt                   // n
	argBool                  // n != 0
	argList                  // list, as an array of strings
)

// text is a string arg, written even when empty.
func text(key, s string) arg { return arg{key: key, kind: argString, s: s} }

// str is a string arg left out when s is empty.
func str(key, s string) arg {
	if s == "" {
		return arg{}
	}
	return text(key, s)
}

// integer is a number arg, written even when 0.
func integer[T int | int32 | int64](key string, n T) arg {
	return arg{key: key, kind: argInt, n: int64(n)}
}

// num is a number arg left out when n is 0.
func num[T int | int32 | int64](key string, n T) arg {
	if n == 0 {
		return arg{}
	}
	return integer(key, n)
}

// flag is a bool arg left out when false.
func flag(key string, b bool) arg {
	if !b {
		return arg{}
	}
	return arg{key: key, kind: argBool, n: 1}
}

// encode writes the trace. It writes JSON by hand, to keep each event's
// keys in a readable order and timestamps exact to the nanosecond, and to
// stay fast on a log of 250,000 events.
func (b *builder) encode(w io.Writer) error {
	var err error
	buf := make([]byte, 0, 64<<10)
	flush := func() {
		if err == nil {
			_, err = w.Write(buf)
		}
		buf = buf[:0]
	}
	buf = append(buf, `{"traceEvents":[`...)
	sep := "\n"
	for _, list := range [][]*entry{b.metadata(), b.entries()} {
		for _, e := range list {
			buf = append(buf, sep...)
			sep = ",\n"
			buf = e.appendJSON(buf)
			if len(buf) > 60<<10 {
				flush()
			}
		}
	}
	buf = append(buf, "\n],\n"+`"displayTimeUnit":"ms",`+"\n"+`"otherData":`...)
	buf = appendArgs(buf, b.otherData())
	buf = append(buf, "}\n"...)
	flush()
	if err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}

// appendJSON appends the event as one JSON object.
func (e *entry) appendJSON(buf []byte) []byte {
	buf = append(buf, `{"name":`...)
	buf = appendString(buf, e.name)
	if e.cat != "" {
		buf = append(buf, `,"cat":`...)
		buf = appendString(buf, e.cat)
	}
	buf = append(buf, `,"ph":"`...)
	buf = append(buf, e.ph, '"')
	buf = append(buf, `,"ts":`...)
	buf = appendTime(buf, e.ts)
	if e.ph == 'X' {
		buf = append(buf, `,"dur":`...)
		buf = appendTime(buf, e.dur)
	}
	buf = append(buf, `,"pid":`...)
	buf = strconv.AppendInt(buf, tracePID, 10)
	buf = append(buf, `,"tid":`...)
	buf = strconv.AppendInt(buf, int64(e.tid), 10)
	if e.ph == 's' || e.ph == 'f' {
		buf = append(buf, `,"id":`...)
		buf = strconv.AppendInt(buf, int64(e.id), 10)
	}
	if e.ph == 'f' {
		buf = append(buf, `,"bp":"e"`...)
	}
	if e.scope != 0 {
		buf = append(buf, `,"s":"`...)
		buf = append(buf, e.scope, '"')
	}
	args := e.args
	if e.call != nil {
		var scratch [10]arg
		args = e.call.args(e.part, scratch[:0])
	}
	if len(args) > 0 {
		buf = append(buf, `,"args":`...)
		buf = appendArgs(buf, args)
	}
	return append(buf, '}')
}

// appendArgs appends args as a JSON object, leaving out those of kind
// argNone.
func appendArgs(buf []byte, args []arg) []byte {
	buf = append(buf, '{')
	first := true
	for _, a := range args {
		if a.kind == argNone {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendString(buf, a.key)
		buf = append(buf, ':')
		switch a.kind {
		case argString:
			buf = appendString(buf, a.s)
		case argInt:
			buf = strconv.AppendInt(buf, a.n, 10)
		case argBool:
			buf = strconv.AppendBool(buf, a.n != 0)
		case argList:
			buf = append(buf, '[')
			for i, s := range a.list {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = appendString(buf, s)
			}
			buf = append(buf, ']')
		}
	}
	return append(buf, '}')
}

// appendTime appends ns as microseconds: 1500 as 1.5, 2000 as 2.
func appendTime(buf []byte, ns int64) []byte {
	buf = strconv.AppendInt(buf, ns/1000, 10)
	frac := ns % 1000
	if frac == 0 {
		return buf
	}
	digits := [3]byte{'0' + byte(frac/100), '0' + byte(frac/10%10), '0' + byte(frac%10)}
	n := 3
	for digits[n-1] == '0' {
		n--
	}
	buf = append(buf, '.')
	return append(buf, digits[:n]...)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string. Bytes that are not UTF-8 (a
// guest may print anything) become U+FFFD, so that the file stays valid
// JSON; U+2028 and U+2029 are escaped for viewers that evaluate it as
// JavaScript.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
