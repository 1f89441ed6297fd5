package runner

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// mergeGap is the widest gap between two data segments that mergeData
// fills with zeros to make them one: past it, a new segment starts.
const mergeGap = 4096

// mergeData returns a module that behaves as bin and loads faster: its
// active data segments merged into a few. A Go module has one segment per
// run of data (41,000 in a guest of the chapter), and wazero decodes,
// keeps and applies each on its own at every compile and instantiation;
// merged, the same bytes are a handful of segments (measured: compile of a
// cached module 63 -> 48 ms, instantiate 5 -> 1 ms).
//
// The rewrite changes nothing a guest can observe: memory starts zeroed
// and only the data segments write to it at instantiation, so segments
// that do not overlap leave the same bytes in any order, and the gaps
// between them filled with zeros change nothing. It is made only where
// that holds: every segment active in memory 0 at a constant offset, no
// two overlapping, and no data count section (without one, no instruction
// may name a segment by its index, so renumbering them is invisible). Anything else, including a module
// that is not valid, comes back unchanged (ok false): the rewrite is an
// optimisation, never a check.
func mergeData(bin []byte) (out []byte, ok bool) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return bin, false
	}
	r := &scanner{b: bin, off: 8}
	dataStart, dataEnd := -1, -1 // the data section's id byte, and its end
	var content []byte
	for r.left() > 0 {
		start := r.off
		id := r.byte()
		size := r.u32()
		if r.err != nil || int64(size) > int64(r.left()) {
			return bin, false
		}
		switch id {
		case 12: // data count: memory.init or data.drop may name segments
			return bin, false
		case 11:
			dataStart, dataEnd = start, r.off+int(size)
			content = bin[r.off:dataEnd]
		}
		r.off += int(size)
	}
	if dataStart < 0 {
		return bin, false
	}
	merged, ok := mergeSegments(content)
	if !ok {
		return bin, false
	}
	out = make([]byte, 0, len(bin))
	out = append(out, bin[:dataStart]...)
	out = append(out, 11)
	out = binary.AppendUvarint(out, uint64(len(merged)))
	out = append(out, merged...)
	out = append(out, bin[dataEnd:]...)
	return out, true
}

// segment is an active data segment of memory 0 at a constant offset.
type segment struct {
	offset uint32
	data   []byte
}

// mergeSegments rewrites a data section's content (its vector of
// segments), or says it cannot (see mergeData).
func mergeSegments(content []byte) ([]byte, bool) {
	s := &scanner{b: content}
	n := s.count()
	segs := make([]segment, 0, n)
	for ; n > 0 && s.err == nil; n-- {
		if s.u32() != 0 || s.byte() != 0x41 { // active, memory 0; i32.const
			return nil, false
		}
		off := uint32(s.s32())
		if s.byte() != 0x0b { // end
			return nil, false
		}
		size := s.count()
		if s.err != nil {
			return nil, false
		}
		data := s.b[s.off : s.off+size]
		s.skip(size)
		segs = append(segs, segment{off, data})
	}
	if s.err != nil || s.left() != 0 || len(segs) < 2 {
		return nil, false
	}
	// Go writes its sections' data out of address order: sort, then
	// refuse any overlap (there, the order of the segments matters).
	slices.SortStableFunc(segs, func(a, b segment) int { return cmp.Compare(a.offset, b.offset) })
	for i := 1; i < len(segs); i++ {
		if uint64(segs[i-1].offset)+uint64(len(segs[i-1].data)) > uint64(segs[i].offset) {
			return nil, false
		}
	}
	var runs []segment
	for _, g := range segs {
		if k := len(runs) - 1; k >= 0 {
			last := &runs[k]
			lastEnd := uint64(last.offset) + uint64(len(last.data))
			if uint64(g.offset)-lastEnd <= mergeGap {
				last.data = append(last.data, make([]byte, uint64(g.offset)-lastEnd)...)
				last.data = append(last.data, g.data...)
				continue
			}
		}
		runs = append(runs, segment{g.offset, append([]byte(nil), g.data...)})
	}
	out := binary.AppendUvarint(nil, uint64(len(runs)))
	for _, g := range runs {
		out = append(out, 0, 0x41)
		out = appendSleb(out, int64(int32(g.offset)))
		out = append(out, 0x0b)
		out = binary.AppendUvarint(out, uint64(len(g.data)))
		out = append(out, g.data...)
	}
	return out, true
}

// s32 reads a signed LEB128 number of at most 32 bits.
func (s *scanner) s32() int32 {
	var v int64
	shift := 0
	for {
		c := s.byte()
		if s.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return int32(v)
		}
		if shift >= 35 {
			s.fail("a number longer than 5 bytes")
			return 0
		}
	}
}

// appendSleb appends v as signed LEB128.
func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
