package runner

import (
	"errors"
	"fmt"
)

// maxLocals bounds the locals one function may declare, as other engines
// do (wasmtime: 50,000); compiled Go functions declare a few dozen.
const maxLocals = 50000

// prescan reads the structure of a module before wazero decodes it, and
// refuses one whose declared counts and sizes do not fit in the bytes that
// follow them. wazero (v1.12) allocates what a module declares before it
// reads it, so 15 bytes that declare 2^32 imports end the process with
// "fatal error: out of memory", which no recover catches; every entry of a
// vector takes at least one byte, so no valid module declares more entries
// than it has bytes left. Only the parts wazero allocates by are read;
// what prescan does not know it leaves to wazero's own checks.
func prescan(bin []byte) error {
	r := &scanner{b: bin, off: 8}
	for r.left() > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil {
			return r.err
		}
		if int64(size) > int64(r.left()) {
			return fmt.Errorf("section %d declares %d bytes, %d are left", id, size, r.left())
		}
		s := &scanner{b: bin[:r.off+int(size)], off: r.off}
		scanSection(s, id)
		if s.err != nil {
			return fmt.Errorf("section %d at byte %d: %w", id, r.off, s.err)
		}
		r.off += int(size)
	}
	return r.err
}

func scanSection(s *scanner, id byte) {
	switch id {
	case 0: // custom: wazero decodes the "name" section
		if string(s.name()) == "name" {
			scanNames(s)
		}
	case 1: // types
		for n := s.count(); n > 0 && s.err == nil; n-- {
			s.byte() // 0x60
			s.skip(s.count())
			s.skip(s.count())
		}
	case 2: // imports
		for n := s.count(); n > 0 && s.err == nil; n-- {
			s.name()
			s.name()
			switch s.byte() {
			case 0:
				s.u32()
			case 1:
				s.byte()
				s.limits()
			case 2:
				s.limits()
			case 3:
				s.skip(2)
			}
		}
	case 3, 4, 5, 6, 9: // functions, tables, memories, globals, elements
		s.count()
	case 7: // exports
		for n := s.count(); n > 0 && s.err == nil; n-- {
			s.name()
			s.byte()
			s.u32()
		}
	case 10: // code
		for n := s.count(); n > 0 && s.err == nil; n-- {
			size := s.u32()
			if s.err == nil && int64(size) > int64(s.left()) {
				s.fail("a function body declares %d bytes, %d are left", size, s.left())
				return
			}
			body := &scanner{b: s.b[:s.off+int(size)], off: s.off}
			total := uint64(0)
			for k := body.count(); k > 0 && body.err == nil; k-- {
				total += uint64(body.u32())
				body.byte()
				if total > maxLocals {
					s.fail("a function declares more than %d locals", maxLocals)
					return
				}
			}
			s.err = body.err
			s.off += int(size)
		}
	case 11: // data: each segment's bytes follow its own length
		for n := s.count(); n > 0 && s.err == nil; n-- {
			switch s.u32() {
			case 0:
				if !s.constExpr() {
					return
				}
			case 1:
			case 2:
				s.u32()
				if !s.constExpr() {
					return
				}
			default:
				return // left to wazero
			}
			s.skip(s.count())
		}
	}
}

// scanNames reads the subsections of the "name" section wazero decodes.
func scanNames(s *scanner) {
	for s.left() > 0 && s.err == nil {
		id := s.byte()
		size := s.u32()
		if s.err == nil && int64(size) > int64(s.left()) {
			s.fail("a name subsection declares %d bytes, %d are left", size, s.left())
			return
		}
		sub := &scanner{b: s.b[:s.off+int(size)], off: s.off}
		switch id {
		case 0:
			sub.name()
		case 1:
			sub.nameMap()
		case 2:
			for n := sub.count(); n > 0 && sub.err == nil; n-- {
				sub.u32()
				sub.nameMap()
			}
		}
		s.err = sub.err
		s.off += int(size)
	}
}

// scanner reads LEB128 numbers and vectors, with the first error kept.
type scanner struct {
	b   []byte
	off int
	err error
}

var errShort = errors.New("unexpected end")

func (s *scanner) left() int { return len(s.b) - s.off }

func (s *scanner) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *scanner) byte() byte {
	if s.err != nil || s.left() < 1 {
		s.fail("%w", errShort)
		return 0
	}
	s.off++
	return s.b[s.off-1]
}

func (s *scanner) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := s.byte()
		if s.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return uint32(v)
		}
	}
	s.fail("a number longer than 5 bytes")
	return 0
}

func (s *scanner) skip(n int) {
	if s.err == nil && n > s.left() {
		s.fail("%d bytes declared, %d are left", n, s.left())
		return
	}
	if s.err == nil {
		s.off += n
	}
}

// count reads a vector's length: every entry takes at least one byte.
func (s *scanner) count() int {
	n := s.u32()
	if s.err == nil && int64(n) > int64(s.left()) {
		s.fail("%d entries declared, %d bytes are left", n, s.left())
		return 0
	}
	return int(n)
}

func (s *scanner) name() []byte {
	n := s.count()
	if s.err != nil {
		return nil
	}
	s.off += n
	return s.b[s.off-n : s.off]
}

func (s *scanner) nameMap() {
	for n := s.count(); n > 0 && s.err == nil; n-- {
		s.u32()
		s.name()
	}
}

func (s *scanner) limits() {
	flags := s.byte()
	s.u32()
	if flags&1 != 0 {
		s.u32()
	}
}

// constExpr skips a constant expression; false for one it does not know
// (left to wazero).
func (s *scanner) constExpr() bool {
	for s.err == nil {
		switch op := s.byte(); op {
		case 0x0b: // end
			return true
		case 0x41, 0x42: // i32.const, i64.const (signed LEB128)
			for s.err == nil && s.byte()&0x80 != 0 {
			}
		case 0x43:
			s.skip(4)
		case 0x44:
			s.skip(8)
		case 0x23, 0xd2: // global.get, ref.func
			s.u32()
		case 0xd0: // ref.null
			s.byte()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constant arithmetic
		default:
			return false
		}
	}
	return false
}
