package host

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/sandbox-dev/sandbox/internal/wire"
)

// maxPartial is the longest unfinished line kept back in prefix mode; a
// longer one is written out in pieces, each with its label.
const maxPartial = 64 << 10

// output writes what the processes print to the host's stdout and stderr.
// Without prefixes the bytes pass through untouched, in the order each
// process wrote them. With prefixes every line is labelled with its
// process's name and pid; unfinished lines are held back until they end,
// so lines of different processes never mix.
type output struct {
	mu      sync.Mutex
	w       [3]io.Writer // indexed by stream
	prefix  bool
	partial map[*proc]*[3][]byte
}

func newOutput(stdout, stderr io.Writer, prefix bool) *output {
	return &output{w: [3]io.Writer{nil, stdout, stderr}, prefix: prefix, partial: map[*proc]*[3][]byte{}}
}

func (o *output) write(s *Supervisor, p *proc, stream int, data []byte) {
	if stream != wire.Stdout && stream != wire.Stderr {
		return
	}
	if !o.prefix {
		o.mu.Lock()
		o.w[stream].Write(data)
		o.mu.Unlock()
		return
	}
	label := s.label(p)
	o.mu.Lock()
	defer o.mu.Unlock()
	part := o.partial[p]
	if part == nil {
		part = new([3][]byte)
		o.partial[p] = part
	}
	buf := append(part[stream], data...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		out.WriteString(label)
		out.Write(buf[:i+1])
		buf = buf[i+1:]
	}
	for len(buf) > maxPartial {
		out.WriteString(label)
		out.Write(buf[:maxPartial])
		out.WriteByte('\n')
		buf = buf[maxPartial:]
	}
	part[stream] = append([]byte(nil), buf...)
	if out.Len() > 0 {
		o.w[stream].Write(out.Bytes())
	}
}

// flush writes out p's unfinished lines (prefix mode), ending them.
func (o *output) flush(label string, p *proc) {
	if !o.prefix {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	part := o.partial[p]
	if part == nil {
		return
	}
	for stream := wire.Stdout; stream <= wire.Stderr; stream++ {
		if len(part[stream]) > 0 {
			fmt.Fprintf(o.w[stream], "%s%s\n", label, part[stream])
			part[stream] = nil
		}
	}
	delete(o.partial, p)
}

func (s *Supervisor) label(p *proc) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return labelOf(p.name, p.pid)
}

func labelOf(name string, pid int) string {
	return fmt.Sprintf("[%s %d] ", name, pid)
}
