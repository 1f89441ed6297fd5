package runner

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"slices"
	"strings"
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
// may name a segment by its index, so renumbering them is invisible).
// Where memory images apply (linearImages) and every run lies inside the
// initial memory, the runs go to a memory image instead of a data
// section (see below). Anything else, including a module that is not
// valid or that carries a memory image section of its own, comes back
// unchanged (ok false): the rewrite is an optimisation, never a check.
func mergeData(bin []byte) (out []byte, ok bool) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return bin, false
	}
	r := &scanner{b: bin, off: 8}
	dataStart, dataEnd := -1, -1 // the data section's id byte, and its end
	var content, memory []byte
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
		case 5:
			memory = bin[r.off : r.off+int(size)]
		case 0:
			if name, _ := customName(bin[r.off : r.off+int(size)]); name == imageSection {
				return bin, false // runners apply only the host's (trustedImage): left alone
			}
		}
		r.off += int(size)
	}
	if dataStart < 0 {
		return bin, false
	}
	runs, ok := mergeSegments(content, mergeGap)
	if !ok {
		return bin, false
	}
	out = make([]byte, 0, len(bin)+len(content)+imageAlign)
	out = append(out, bin[:dataStart]...)
	if linearImages && fitsInitial(runs, memory) {
		// The image: no data section; the bytes, as few runs as gaps of
		// up to imageAlign make them, in a custom section at the end.
		// Empty segments write nothing: they go (fitsInitial checked
		// their bounds, the only thing they could fail on).
		wide, _ := mergeSegments(content, imageAlign)
		wide = slices.DeleteFunc(wide, func(s segment) bool { return len(s.data) == 0 })
		img := appendImage(slices.Clone(out), bin[dataEnd:], wide)
		// Only an image that reads back as written (not too many runs,
		// a module under 4 GiB): else the data section, merged.
		if len(wide) > 0 && len(memoryImage(img)) == len(wide) {
			return img, true
		}
	}
	out = appendSection(out, 11, encodeSegments(runs))
	out = append(out, bin[dataEnd:]...)
	return out, true
}

// appendSection appends a section: its id, its size and its content.
func appendSection(out []byte, id byte, content []byte) []byte {
	out = binary.AppendUvarint(append(out, id), uint64(len(content)))
	return append(out, content...)
}

// A module's memory image (the "sandbox.memory" custom section).
//
// Where the runner can give a guest memory that starts as a copy-on-write
// mapping of a file (linearmem_linux.go), the rewrite goes one step
// further than merging: it removes the data section and puts the runs'
// bytes in a custom section at the end of the module (which wazero
// skips), each at a file offset congruent to its memory offset modulo
// imageAlign. The runner then maps them from the module file into each
// new instance's memory instead of wazero copying them: no copy at each
// instantiation, and the pages a guest only reads (most of a Go guest's
// data: type descriptors, the function table, strings) stay one copy in
// the page cache for every process of the module.
//
// Section: name "sandbox.memory"; a count (u32, little-endian); per run
// its memory offset, length and file offset (u32 each); zeros; the runs'
// bytes. Nothing a guest can observe changes: the memory starts with the
// same bytes, and the rewrite is made only where every run lies inside
// the module's initial memory, so that no instantiation could have
// failed on a data segment out of bounds.
const (
	imageSection = "sandbox.memory"
	// imageAlign is the alignment of a run's file offset (to its memory
	// offset), and the smallest gap between runs: WebAssembly's page, a
	// multiple of the system's page on any Linux, so that no two runs
	// share a system page.
	imageAlign = 64 << 10
	// maxImageRuns bounds the runs a section may name.
	maxImageRuns = 1 << 10
)

// imageRun is one run of a memory image: length bytes at file offset
// fileOff of the module, to go to memory offset memOff.
type imageRun struct {
	memOff, length, fileOff uint32
}

// fitsInitial says every run lies inside the initial size of the one
// memory the module defines (memory: its memory section's content).
func fitsInitial(runs []segment, memory []byte) bool {
	s := &scanner{b: memory}
	if s.u32() != 1 {
		return false
	}
	flags := s.byte()
	if flags > 1 { // shared or 64-bit: left alone
		return false
	}
	minPages := uint64(s.u32())
	if s.err != nil {
		return false
	}
	for _, r := range runs {
		if uint64(r.offset)+uint64(len(r.data)) > minPages*imageAlign {
			return false
		}
	}
	return true
}

// appendImage appends to out (a module up to where its data section
// was) rest (the sections after it) and the custom section holding runs.
func appendImage(out, rest []byte, runs []segment) []byte {
	out = append(out, rest...)
	pos := len(out)
	// id, a size of 5 bytes, the name, the table
	start := pos + 1 + 5 + 1 + len(imageSection) + 4 + 12*len(runs)
	table := make([]imageRun, len(runs))
	end := start
	for i, r := range runs {
		fileOff := alignUp(end, imageAlign) + int(r.offset%imageAlign)
		table[i] = imageRun{r.offset, uint32(len(r.data)), uint32(fileOff)}
		end = fileOff + len(r.data)
	}
	// Zeros to the end of the last run's imageAlign block: whatever the
	// system's page, a run's last page lies inside the file (a mapping
	// past the end of a file faults).
	end = alignUp(end, imageAlign)
	if end > math.MaxUint32 {
		return out // no image: memoryImage finds none
	}
	out = append(out, 0)
	size := uint32(end - (pos + 6))
	out = append(out, byte(size)|0x80, byte(size>>7)|0x80, byte(size>>14)|0x80, byte(size>>21)|0x80, byte(size>>28))
	out = append(out, byte(len(imageSection)))
	out = append(out, imageSection...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(runs)))
	for _, t := range table {
		out = binary.LittleEndian.AppendUint32(out, t.memOff)
		out = binary.LittleEndian.AppendUint32(out, t.length)
		out = binary.LittleEndian.AppendUint32(out, t.fileOff)
	}
	for i, r := range runs {
		out = append(out, make([]byte, int(table[i].fileOff)-len(out))...)
		out = append(out, r.data...)
	}
	return append(out, make([]byte, end-len(out))...)
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// memoryImage returns the runs of a module's memory image, nil when it
// has none or its table breaks the rules appendImage keeps (runs in
// order, not empty, inside the file and 4 GiB of memory, congruent,
// more than imageAlign apart). Nothing else is checked: such a table
// can only copy bytes of the module into the module's own memory, and
// runners apply only the host's rewrites (trustedImage).
func memoryImage(bin []byte) []imageRun {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" || uint64(len(bin)) > math.MaxUint32 {
		return nil
	}
	for id, content := range sections(bin) {
		if id != 0 {
			continue
		}
		name, rest := customName(content)
		if name != imageSection {
			continue
		}
		if len(rest) < 4 {
			return nil
		}
		n := binary.LittleEndian.Uint32(rest)
		if n == 0 || n > maxImageRuns || uint64(len(rest)) < 4+12*uint64(n) {
			return nil
		}
		runs := make([]imageRun, n)
		var lastEnd uint64
		for i := range runs {
			t := rest[4+12*i:]
			run := imageRun{binary.LittleEndian.Uint32(t), binary.LittleEndian.Uint32(t[4:]), binary.LittleEndian.Uint32(t[8:])}
			memEnd := uint64(run.memOff) + uint64(run.length)
			if run.length == 0 || uint64(run.fileOff)+uint64(run.length) > uint64(len(bin)) ||
				run.fileOff%imageAlign != run.memOff%imageAlign || memEnd > 1<<32 ||
				(i > 0 && uint64(run.memOff) < lastEnd+imageAlign) {
				return nil
			}
			runs[i], lastEnd = run, memEnd
		}
		return runs
	}
	return nil
}

// sections yields the id and content of each section of a module (bin
// starts with the 8 bytes of its header), up to the first that does not
// fit.
func sections(bin []byte) iter.Seq2[byte, []byte] {
	return func(yield func(byte, []byte) bool) {
		r := &scanner{b: bin, off: 8}
		for r.left() > 0 {
			id := r.byte()
			size := r.u32()
			if r.err != nil || int64(size) > int64(r.left()) {
				return
			}
			r.off += int(size)
			if !yield(id, bin[r.off-int(size):r.off]) {
				return
			}
		}
	}
}

// hasDebugInfo says a module carries DWARF (custom sections ".debug_*").
func hasDebugInfo(bin []byte) bool {
	for id, content := range sections(bin) {
		if name, _ := customName(content); id == 0 && strings.HasPrefix(name, ".debug_") {
			return true
		}
	}
	return false
}

// customName splits a custom section's content into its name and the
// rest.
func customName(content []byte) (string, []byte) {
	s := &scanner{b: content}
	name := s.name()
	if s.err != nil {
		return "", nil
	}
	return string(name), content[s.off:]
}

// segment is an active data segment of memory 0 at a constant offset.
type segment struct {
	offset uint32
	data   []byte
}

// mergeSegments reads a data section's content (its vector of segments)
// and returns them as runs, in memory order, each made of segments with
// gaps of at most gap between them filled with zeros; or says it cannot
// (see mergeData).
func mergeSegments(content []byte, gap uint64) ([]segment, bool) {
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
			if uint64(g.offset)-lastEnd <= gap {
				last.data = append(last.data, make([]byte, uint64(g.offset)-lastEnd)...)
				last.data = append(last.data, g.data...)
				continue
			}
		}
		runs = append(runs, segment{g.offset, append([]byte(nil), g.data...)})
	}
	return runs, true
}

// encodeSegments is the content of a data section of runs.
func encodeSegments(runs []segment) []byte {
	out := binary.AppendUvarint(nil, uint64(len(runs)))
	for _, g := range runs {
		out = append(out, 0, 0x41)
		out = appendSleb(out, int64(int32(g.offset)))
		out = append(out, 0x0b)
		out = binary.AppendUvarint(out, uint64(len(g.data)))
		out = append(out, g.data...)
	}
	return out
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
