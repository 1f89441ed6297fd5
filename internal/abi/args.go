package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Args holds the values of one call by parameter name: the inputs decoded
// from the wire, then the results a handler sets. The zero value is not
// usable; get one from Decode.
//
// Reading or setting a parameter the import does not have panics: that is
// a bug of the handler, and the tests that run every import find it.
type Args struct {
	Spec *Spec
	vals [MaxParams]value
	set  [MaxParams]bool
}

type value struct {
	n int64
	b []byte
}

// ErrBadCall is returned by Decode for a call whose values do not match
// its import.
var ErrBadCall = errors.New("abi: call does not match its import")

// Decode returns the named values of a call of op whose inputs travel as
// ints and bufs, in the order of the import's parameters (integers, and the
// capacities of buffers, in ints; bytes in bufs). bufs are not copied.
func Decode(op Op, ints []int64, bufs [][]byte) (Args, error) {
	s := Lookup(op)
	if s == nil {
		return Args{}, fmt.Errorf("%w: unknown op %d", ErrBadCall, uint16(op))
	}
	a := Args{Spec: s}
	ni, nb := 0, 0
	for i, f := range s.Params {
		switch {
		case f.Kind.inInt():
			if ni >= len(ints) {
				return Args{}, fmt.Errorf("%w: %s: %d integers, want more", ErrBadCall, s.Name, len(ints))
			}
			a.vals[i].n = ints[ni]
			ni++
		case f.Kind == Bytes || f.Kind == Text:
			if nb >= len(bufs) {
				return Args{}, fmt.Errorf("%w: %s: %d buffers, want more", ErrBadCall, s.Name, len(bufs))
			}
			a.vals[i].b = bufs[nb]
			nb++
		}
	}
	if ni != len(ints) || nb != len(bufs) {
		return Args{}, fmt.Errorf("%w: %s: %d integers and %d buffers, want %d and %d", ErrBadCall, s.Name, len(ints), len(bufs), ni, nb)
	}
	return a, nil
}

// Encode is the inverse of Decode for the inputs: the ints and bufs a call
// of these values travels as, laid out as hostfuncs lays out what it reads
// from guest memory.
func (a *Args) Encode() (ints []int64, bufs [][]byte) {
	for i, f := range a.Spec.Params {
		switch {
		case f.Kind.inInt():
			ints = append(ints, a.vals[i].n)
		case f.Kind == Bytes || f.Kind == Text:
			bufs = append(bufs, a.vals[i].b)
		}
	}
	return ints, bufs
}

// NewArgs returns empty values for a call of s (for the callers that build
// a call rather than decode one).
func NewArgs(s *Spec) Args { return Args{Spec: s} }

// Int returns an integer input: a Handle, I32, Bool or Timeout (or the
// capacity of a buffer result, see Cap).
func (a *Args) Int(p Param) int64 { return a.vals[a.must(p, Kind.inInt, "an integer input")].n }

// Handle returns a handle input.
func (a *Args) Handle(p Param) int32 { return int32(a.Int(p)) }

// Bool returns a Bool input.
func (a *Args) Bool(p Param) bool { return a.Int(p) != 0 }

// Timeout returns a Timeout input as a duration: negative (-1) waits
// forever, 0 does not block.
func (a *Args) Timeout(p Param) time.Duration {
	ns := a.Int(p)
	if ns < 0 {
		return -1
	}
	return time.Duration(ns)
}

// Bytes returns a Bytes or Text input. It aliases the received frame.
func (a *Args) Bytes(p Param) []byte { return a.vals[a.must(p, Kind.inBytes, "a bytes input")].b }

// must returns the place of p, panicking (a bug of the caller, which the
// tests that run every import find) unless its kind is what is asked.
func (a *Args) must(p Param, ok func(Kind) bool, what string) int {
	i := a.Spec.place(p)
	if !ok(a.Spec.Params[i].Kind) {
		panic(fmt.Sprintf("abi: %s parameter %s is not %s", a.Spec.Name, p, what))
	}
	return i
}

// Cap returns the capacity the guest gave a buffer result (OutBuf, OutText:
// bytes; OutI32s: elements).
func (a *Args) Cap(p Param) int { return int(a.Int(p)) }

// SetInt sets an integer result (OutHandle, OutI32, OutBool).
func (a *Args) SetInt(p Param, v int64) {
	i := a.must(p, Kind.outInt, "an integer result")
	a.vals[i].n, a.set[i] = v, true
}

// SetBool sets an OutBool result.
func (a *Args) SetBool(p Param, v bool) {
	var n int64
	if v {
		n = 1
	}
	a.SetInt(p, n)
}

// SetBytes sets a buffer result (OutBuf, OutText, or OutI32s as
// little-endian i32).
func (a *Args) SetBytes(p Param, b []byte) {
	i := a.must(p, Kind.outBytes, "a bytes result")
	a.vals[i].b, a.set[i] = b, true
}

// SetRecord sets an OutRecord result from its fields, all of them, in
// order.
func (a *Args) SetRecord(p Param, fields ...int64) {
	a.must(p, func(k Kind) bool { return k == OutRecord }, "a record result")
	if len(fields) != len(a.Spec.Record.Fields) {
		panic(fmt.Sprintf("abi: %s record of %d fields set with %d", a.Spec.Name, len(a.Spec.Record.Fields), len(fields)))
	}
	rec := make([]byte, a.Spec.Record.Size())
	for i, v := range fields {
		binary.LittleEndian.PutUint32(rec[4*i:], uint32(int32(v)))
	}
	a.SetBytes(p, rec)
}

// Results returns the results as they travel back: integers in ints, bytes
// in bufs, in the order of the import's parameters. A result the handler
// did not set is 0 or empty.
func (a *Args) Results() (ints []int64, bufs [][]byte) { return a.AppendResults(nil, nil) }

// AppendResults is Results appending to ints and bufs (so that a caller
// can reuse them).
func (a *Args) AppendResults(ints []int64, bufs [][]byte) ([]int64, [][]byte) {
	for i, f := range a.Spec.Params {
		switch {
		case f.Kind.outInt():
			ints = append(ints, a.vals[i].n)
		case f.Kind.Out():
			b := a.vals[i].b
			if !a.set[i] {
				b = nil
			}
			bufs = append(bufs, b)
		}
	}
	return ints, bufs
}

// ResultBytes is the number of bytes the results carry.
func (a *Args) ResultBytes() int {
	n := 0
	for i, f := range a.Spec.Params {
		if f.Kind.Out() && !f.Kind.outInt() && a.set[i] {
			n += len(a.vals[i].b)
		}
	}
	return n
}

// Handles returns the handles the call names: its Handle inputs and, once
// set, its OutHandle results.
func (a *Args) Handles() []int32 {
	var hs []int32
	for i, f := range a.Spec.Params {
		if f.Kind == Handle || (f.Kind == OutHandle && a.set[i]) {
			hs = append(hs, int32(a.vals[i].n))
		}
	}
	return hs
}

// previewLen is how much of a Text value the call's text shows.
const previewLen = 40

// String formats the inputs in the style of wazero's call log:
// conn_send(handle=3, data=<64 bytes>), proc_join(handle=4, timeout=none),
// conn_recv(handle=3, timeout=none, data_cap=4096).
func (a *Args) String() string {
	var parts []string
	for i, f := range a.Spec.Params {
		v := a.vals[i]
		n := f.Param.String()
		switch f.Kind {
		case Timeout:
			parts = append(parts, "timeout="+FormatTimeout(time.Duration(v.n)))
		case Bytes:
			parts = append(parts, fmt.Sprintf("%s=<%d bytes>", n, len(v.b)))
		case Text:
			parts = append(parts, n+"="+quote(v.b))
		case OutBuf, OutText, OutI32s:
			parts = append(parts, fmt.Sprintf("%s_cap=%d", n, v.n))
		case OutHandle, OutI32, OutBool, OutRecord:
			// a pointer: nothing to show before the answer
		default:
			parts = append(parts, n+"="+strconv.FormatInt(v.n, 10))
		}
	}
	return a.Spec.Name + "(" + strings.Join(parts, ", ") + ")"
}

// FormatTimeout writes a timeout as the log shows it: "none" for no limit,
// "0" for do-not-block, else a duration.
func FormatTimeout(d time.Duration) string {
	switch {
	case d < 0:
		return "none"
	case d == 0:
		return "0"
	}
	return d.String()
}

// ResultString formats the results set so far: "handle=5",
// "data=<64 bytes>", "name=\"Process-1\"" (empty when there are none).
func (a *Args) ResultString() string {
	var parts []string
	for i, f := range a.Spec.Params {
		if !f.Kind.Out() || !a.set[i] {
			continue
		}
		v := a.vals[i]
		n := f.Param.String()
		switch f.Kind {
		case OutText:
			parts = append(parts, n+"="+quote(v.b))
		case OutBuf:
			parts = append(parts, fmt.Sprintf("%s=<%d bytes>", n, len(v.b)))
		case OutI32s:
			var xs []string
			for j := 0; j+4 <= len(v.b); j += 4 {
				xs = append(xs, strconv.Itoa(int(int32(binary.LittleEndian.Uint32(v.b[j:])))))
			}
			parts = append(parts, n+"=["+strings.Join(xs, " ")+"]")
		case OutRecord:
			var xs []string
			for j, name := range a.Spec.Record.Fields {
				if 4*j+4 <= len(v.b) {
					xs = append(xs, fmt.Sprintf("%s=%d", name, int32(binary.LittleEndian.Uint32(v.b[4*j:]))))
				}
			}
			parts = append(parts, n+"={"+strings.Join(xs, " ")+"}")
		default:
			parts = append(parts, n+"="+strconv.FormatInt(v.n, 10))
		}
	}
	return strings.Join(parts, ", ")
}

// quote shows text quoted, cut to previewLen runes; bytes that are not
// UTF-8 are shown as a count.
func quote(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("<%d bytes>", len(b))
	}
	s := string(b)
	if utf8.RuneCountInString(s) > previewLen {
		r := []rune(s)
		s = string(r[:previewLen]) + "…"
	}
	return strconv.Quote(s)
}

// Payload returns the bytes the call carries in parameter p, whichever
// way they go: a Bytes input, or a bytes result once set; ok is false when
// the import has no such parameter or the result was not set.
func (a *Args) Payload(p Param) (b []byte, ok bool) {
	if a.Spec == nil || !a.Spec.Has(p) {
		return nil, false
	}
	i := a.Spec.place(p)
	switch k := a.Spec.Params[i].Kind; {
	case k.inBytes():
		return a.vals[i].b, true
	case k.outBytes() && a.set[i]:
		return a.vals[i].b, true
	}
	return nil, false
}

// Value returns the integer the call carries in parameter p, whichever
// way it goes: an integer input, or an integer result once set; ok is
// false when the import has no such parameter or the result was not set.
func (a *Args) Value(p Param) (v int64, ok bool) {
	if a.Spec == nil || !a.Spec.Has(p) {
		return 0, false
	}
	i := a.Spec.place(p)
	switch k := a.Spec.Params[i].Kind; {
	case k.inInt():
		return a.vals[i].n, true
	case k.outInt() && a.set[i]:
		return a.vals[i].n, true
	}
	return 0, false
}
