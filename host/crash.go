package host

import "bytes"

// A Go guest that crashes prints its reason on stderr, one line, then a
// dump: "panic: index out of range [5] with length 3" (a panic the SDK
// caught, exit code 1, or one it could not, in another goroutine, exit
// code 2), "fatal error: all goroutines are asleep - deadlock!". The host
// keeps that first line, and only it, as the process's error: the verdict
// of a run whose MainProcess ended so is runtime_error, explained by the
// line and not by the dump. Only whole lines of stderr that start with one
// of these prefixes count.
var crashPrefixes = [][]byte{[]byte("panic: "), []byte("fatal error: ")}

// maxCrashLine bounds the part of a stderr line kept while looking for a
// crash line; the line reported is cut there.
const maxCrashLine = 512

// crashScanner finds the first crash line in a process's stderr. It is
// used by the process's serve goroutine only, until it has found one.
type crashScanner struct {
	line  []byte // the start of the current line (at most maxCrashLine bytes)
	found string
}

// scan reads the next bytes of stderr.
func (c *crashScanner) scan(data []byte) {
	for len(data) > 0 && c.found == "" {
		i := bytes.IndexByte(data, '\n')
		part := data
		if i >= 0 {
			part = data[:i]
		}
		if room := maxCrashLine - len(c.line); room > 0 {
			c.line = append(c.line, part[:min(room, len(part))]...)
		}
		if i < 0 {
			return
		}
		c.endLine()
		data = data[i+1:]
	}
}

// endLine judges the line gathered and starts the next.
func (c *crashScanner) endLine() {
	for _, p := range crashPrefixes {
		if bytes.HasPrefix(c.line, p) {
			c.found = string(bytes.TrimRight(c.line, "\r"))
			break
		}
	}
	c.line = c.line[:0]
}
