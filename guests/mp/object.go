package mp

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	abispec "github.com/sandbox-dev/sandbox/internal/abi"
)

// Every shared object (Conn, Queue, Lock, ...) is a handle on an object
// the host keeps for the whole run. Handles are valid in every process, so
// an object travels to a child in its arguments (Args, or the exported
// fields of a Class) as JSON: its kind and its handle, plus what the child
// needs to use it (the mode of a Conn, the lock of a Condition, the action
// of a Barrier):
//
//	{"mp":"Queue","handle":7}
//	{"mp":"Connection","handle":3,"mode":"r"}
//	{"mp":"Condition","handle":9,"lock":{"mp":"RLock","handle":8}}
//
// A value decoded from JSON of another kind is an error, so a Queue
// handed to a parameter of type *Lock fails in the child before its
// target runs.

// objectJSON is the JSON form of a shared object.
type objectJSON struct {
	Kind   string      `json:"mp"`
	Handle int32       `json:"handle"`
	Mode   string      `json:"mode,omitempty"`   // Conn: "r", "w" or "rw"
	Lock   *objectJSON `json:"lock,omitempty"`   // Condition: its Lock or RLock
	Action string      `json:"action,omitempty"` // Barrier: the registered action
	Value  int         `json:"value,omitempty"`  // BoundedSemaphore: its initial value
}

// Kinds of shared objects in their JSON form: CPython's class names.
const (
	kindConnJSON      = "Connection"
	kindQueueJSON     = "Queue"
	kindJoinableJSON  = "JoinableQueue"
	kindBarrierJSON   = "Barrier"
	kindLockJSON      = "Lock"
	kindRLockJSON     = "RLock"
	kindSemaphoreJSON = "Semaphore"
	kindBoundedJSON   = "BoundedSemaphore"
	kindEventJSON     = "Event"
	kindConditionJSON = "Condition"
	kindNamespaceJSON = "Namespace"
	kindDictJSON      = "Dict"
	kindListJSON      = "List"
)

func marshalObject(kind string, h int32) ([]byte, error) {
	if h == 0 {
		return nil, fmt.Errorf("mp: encoding a %s that was not created with its New function", kind)
	}
	// (As json.Marshal writes it, without its reflection: see jsonarray.go.)
	b := strconv.AppendInt(appendObjectStart(make([]byte, 0, 32), kind), int64(h), 10)
	return append(b, '}'), nil
}

// appendObjectStart appends the plain JSON form of an object of kind up
// to its handle.
func appendObjectStart(b []byte, kind string) []byte {
	b = append(b, `{"mp":"`...)
	b = append(b, kind...)
	return append(b, `","handle":`...)
}

// unmarshalObject decodes the JSON form of a shared object of kind.
func unmarshalObject(data []byte, kind string) (objectJSON, error) {
	if h, ok := plainObject(data, kind); ok {
		return objectJSON{Kind: kind, Handle: h}, nil
	}
	var o objectJSON
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("mp: decoding a %s: %w", kind, err)
	}
	if o.Kind != kind {
		what := o.Kind
		if what == "" {
			what = "value that is not a shared object"
		}
		return o, fmt.Errorf("mp: decoding a %s: got a %s", kind, what)
	}
	if o.Handle <= 0 {
		return o, fmt.Errorf("mp: decoding a %s: bad handle %d", kind, o.Handle)
	}
	return o, nil
}

// plainObject decodes the form marshalObject writes, the handle of an
// object of kind (any other form, or another kind: ok false, for
// json.Unmarshal to decode or refuse).
func plainObject(data []byte, kind string) (h int32, ok bool) {
	var start [64]byte
	rest, ok := bytes.CutPrefix(data, appendObjectStart(start[:0], kind))
	if !ok {
		return 0, false
	}
	digits, ok := bytes.CutSuffix(rest, []byte("}"))
	if !ok {
		return 0, false
	}
	n, err := jsonInt(digits)
	return int32(n), err == nil && n > 0 && n <= math.MaxInt32
}

// mustNew panics when creating a shared object failed: the host refused
// a valid request, which means a broken run (the error of an invalid
// argument is reported by each constructor).
func mustNew(what string, e errno) {
	if e != errnoOK {
		panic(fmt.Sprintf("mp: %s: %v", what, e.err()))
	}
}

// must panics when a call that cannot fail in a working run failed. Its
// callers are the methods that return no error (Qsize, IsSet, ...).
func must(what string, e errno) {
	if e != errnoOK {
		panic(fmt.Sprintf("mp: %s: %v", what, e.err()))
	}
}

// makers names the function that makes each kind of shared object.
var makers = map[string]string{
	"Conn":      "mp.Pipe",
	"Namespace": "Manager().Namespace",
	"Dict":      "Manager().Dict",
	"List":      "Manager().List",
}

// checkHandle panics on an object that was not made by its New function
// (a zero value).
func checkHandle(kind string, h int32) int32 {
	if h == 0 {
		notMade(kind)
	}
	return h
}

// notMade panics: a kind was used that was not made by its maker. (Apart
// from checkHandle, which is then inlined into every call: a lock's
// acquire and release are a few hundred nanoseconds.)
func notMade(kind string) {
	maker, ok := makers[kind]
	if !ok {
		maker = "mp.New" + kind
	}
	panic(fmt.Sprintf("mp: use of a %s that was not made by %s", kind, maker))
}

// Timeouts. The ABI takes nanoseconds: negative waits forever, 0 does
// not block.

// waitArg is a timeout of a method documented "negative waits forever".
func waitArg(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d)
}

// atMostArg is the timeout of a ...Timeout method: it waits at most d, and
// a negative d does not wait (as 0).
func atMostArg(d time.Duration) int64 { return max(int64(d), 0) }

// minRecvBuffer is the smallest buffer a receive starts with.
const minRecvBuffer = 512

// An inbox is what a Conn or a Queue keeps between the messages it
// receives: the size of the last one (a message over scratchSize is
// then asked for with room for it at once), and a chunk where they are
// kept. The Go allocator serves a message of a few KiB from a span of
// its size class that holds a handful of them, and a guest's wasm code
// spent most of a 4 KiB message's receive getting and sweeping spans: so
// a message up to maxCarved bytes is cut from the chunk, its own length
// as capacity (appending to it copies it) (pipe, 4 KiB messages: 7.3 ->
// 5.3 us a message; 64 B: 2.4 -> 1.85; queue, 64 B: 3.3 -> 2.4). A small
// one too (in a guest's wasm code, a buffer of 64 B made and filled took
// 380-430 ns; cut from a chunk that holds 16 such, 180 ns; 16 B: 300
// against 85), unless it follows one over minRecvBuffer: it is then
// copied out at its size, so that a small message kept never keeps a
// large message's chunk alive. A chunk holds carvedPerChunk messages the
// size of the larger of the last two, and at most maxChunk bytes; it is
// made again when that shrinks below its share (a stream of smaller
// messages). A message cut from a chunk and kept alive keeps the chunk
// alive: at most carvedPerChunk times the larger of it and the message
// before it, and never over maxChunk.
type inbox struct {
	hint  atomic.Uint32
	chunk []byte // what is left of the chunk
	size  int    // the chunk's size
}

const (
	carvedPerChunk = 16
	maxChunk       = 64 << 10
	maxCarved      = maxChunk / 8 // larger messages have a buffer each
)

// drop lets the chunk go (the object is closed).
func (in *inbox) drop() { in.chunk, in.size = nil, 0 }

// sized makes a call that writes a message's size through a pointer (a
// manager object's, which goes to the host anyway) one for receive.
func sized(call func(buf []byte, size *uint32) errno) func(int64, []byte) (uint32, errno) {
	return func(_ int64, buf []byte) (uint32, errno) {
		var size uint32
		e := call(buf, &size)
		return size, e
	}
}

// receive implements the buffer convention for a call that takes a
// message (conn_recv, queue_get, list_pop): on E2SMALL it grows the buffer
// to the size the host wrote and calls again, nothing having been taken
// (or, on a direct pipe or queue, the message kept for this retry).
// A positive timeout is a deadline for all the calls together. in, when
// not nil, is the receiving object's inbox: its receive offers the
// process's scratch buffer first, and keep says where the message goes.
func receive(in *inbox, timeoutNs int64, call func(timeoutNs int64, buf []byte) (size uint32, e errno)) ([]byte, errno) {
	var deadline time.Time
	if timeoutNs > 0 {
		deadline = time.Now().Add(time.Duration(timeoutNs))
	}
	n := minRecvBuffer
	if in != nil {
		n = max(n, int(in.hint.Load()))
	}
	var buf []byte
	scratched := in != nil && n <= scratchSize && scratchBusy.CompareAndSwap(false, true)
	if scratched {
		defer scratchBusy.Store(false)
		if scratch == nil {
			scratch = make([]byte, scratchSize)
		}
		buf = scratch
	} else {
		buf = make([]byte, n)
	}
	for range maxBufferTries {
		size, e := call(timeoutNs, buf)
		switch e {
		case errnoOK:
			if uint64(size) > uint64(len(buf)) {
				return nil, errnoIO
			}
			msg := buf[:size:size]
			if in != nil {
				if prev := int(in.hint.Swap(size)); size <= maxCarved {
					return in.keep(msg, prev), errnoOK
				}
			}
			if scratched || size < uint32(len(buf))/2 {
				// (The scratch buffer is the next receive's; a buffer of a
				// large message's size, the hint, is not kept alive by a
				// small one.)
				return own(msg), errnoOK
			}
			return msg, errnoOK
		case errnoTooSmall:
			if uint64(size) <= uint64(len(buf)) {
				return nil, errnoIO
			}
			buf, scratched = make([]byte, size), false
			if timeoutNs > 0 {
				timeoutNs = max(int64(time.Until(deadline)), 0)
			}
		default:
			return nil, e
		}
	}
	return nil, errnoTooSmall
}

// own returns a copy of b in a buffer of its own, its length as capacity
// (bytes.Clone may round the capacity up).
func own(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// scratch is the buffer a Conn's or a Queue's receive offers first, made
// at the first: scratchSize bytes hold any message a direct pipe or queue
// carries in a datagram, and the runner takes such a message straight
// into a buffer that large, in one system call (a smaller one makes it
// ask the message's size first; README, "Direct pipes"). keep then copies
// the message to where it stays. One receive uses it at a time
// (scratchBusy): another goroutine's receive, while this one waits in the
// allocator, makes a buffer of its own. (An atomic: a native build's
// goroutines run at once.)
var (
	scratch     []byte
	scratchBusy atomic.Bool
)

const scratchSize = 64 << 10

// keep copies msg, a message just received into a buffer the next
// receive may use, to where it stays: one of 1 to maxCarved bytes is cut
// from the chunk, which is made again when it is short or when it is
// over carvedPerChunk times the larger of msg and the message before it,
// of size prev; an empty one, a larger one, and one of minRecvBuffer
// bytes or less after one over it, get a buffer of their own, their size.
func (in *inbox) keep(msg []byte, prev int) []byte {
	size := len(msg)
	if size == 0 || size > maxCarved || (size <= minRecvBuffer && prev > minRecvBuffer) {
		return own(msg)
	}
	// (No call between taking in.chunk and cutting from it can let
	// another goroutine run: make may, before.)
	if n := max(size, prev); len(in.chunk) < size || in.size > carvedPerChunk*n {
		in.size = min(carvedPerChunk*n, maxChunk)
		in.chunk = make([]byte, in.size)
	}
	b := in.chunk[:size:size]
	in.chunk = in.chunk[size:]
	copy(b, msg)
	return b
}

// Messages. Every value sent on a pipe, put on a queue or stored in a
// manager object is one message, opaque to the host (docs/ABI.md,
// "Messages"). As CPython's pickle keeps bytes and str apart, a []byte
// and a string travel raw, behind a tag byte that no JSON text starts
// with; every other value travels as JSON:
//
//	0x00 bytes...   a []byte (Python bytes)
//	0x01 text...    a string (Python str), UTF-8
//	anything else   JSON (encoding/json)
//
// Only the types []byte and string are tagged: a named type (json.RawMessage,
// net.IP, type Name string) may have a JSON or text encoding of its own, so
// it stays JSON. A nil []byte is empty bytes (Python has no nil bytes).
//
// The tags and abispec.Tagged are internal/abi's, which the host's
// previews read too.

// encodeValue encodes a message: a []byte or a string behind its tag
// (appendTagged), anything else as json.Marshal.
func encodeValue(v any) ([]byte, error) {
	if b, ok := appendTagged(nil, v); ok {
		return b, nil
	}
	b, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mp: encoding a message of type %T: %w", v, err)
	}
	return b, nil
}

// appendTagged appends the message of a []byte or a string to b: its tag,
// then its bytes (one copy, b grown once). Invalid UTF-8 in a string
// becomes U+FFFD, as encoding/json does, so that the text is UTF-8 for
// every reader. ok is false, and b as it was, for any other v.
func appendTagged(b []byte, v any) (_ []byte, ok bool) {
	switch x := v.(type) {
	case []byte:
		return append(append(slices.Grow(b, 1+len(x)), abispec.TagBytes), x...), true
	case string:
		b = append(slices.Grow(b, 1+len(x)), abispec.TagString)
		if utf8.ValidString(x) {
			return append(b, x...), true
		}
		for _, r := range x { // each invalid byte is one RuneError
			b = utf8.AppendRune(b, r)
		}
		return b, true
	}
	return b, false
}

// sendBuf is where a Send or a Put writes a []byte or a string, behind
// its tag, when no other goroutine's send holds it (sendBusy): the host
// functions take a message before they return (a copy, into a datagram
// or a frame), so one buffer serves every such send, and a message costs
// the guest no allocation of its own (a Queue of 4 KiB []byte: a 4 KiB
// allocation a put, and the Go collector's work for it). A buffer grown
// past maxSendBuf is not kept.
var (
	sendBuf  []byte
	sendBusy atomic.Bool
)

const maxSendBuf = 64 << 10

// sendValue encodes v as encodeValue does and sends it with send, which
// has taken it when it returns: a []byte or a string is written into
// sendBuf when it is free.
func sendValue(v any, send func([]byte) error) error {
	switch v.(type) {
	case []byte, string:
		if sendBusy.CompareAndSwap(false, true) {
			defer sendBusy.Store(false)
			b, _ := appendTagged(sendBuf[:0], v)
			if cap(b) <= maxSendBuf {
				sendBuf = b
			}
			return send(b)
		}
	}
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	return send(b)
}

// decodeValue decodes a message into v; a nil v drops the message. A
// JSON message decodes as json.Unmarshal. A tagged one decodes into a
// *[]byte (bytes), a *string (a string) or a *any ([]byte or string), or
// a pointer to a named byte-slice or string type, as CPython's unpickling
// keeps the type: bytes into a string, or a string into a []byte, is a
// *json.UnmarshalTypeError, as a JSON number into a *string is. Into any
// other v (a type with its own UnmarshalJSON or UnmarshalText included) a
// tagged message decodes as its JSON would: bytes as a base64 string, as
// encoding/json encodes a []byte.
//
// data must be a buffer nobody reuses (every receive makes a new one): a
// []byte decoded from it may share it.
func decodeValue(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := decodeInto(data, v); err != nil {
		return fmt.Errorf("mp: decoding a message into %T: %w", v, err)
	}
	return nil
}

// decodeInto is decodeValue without the context in its error.
func decodeInto(data []byte, v any) error {
	if !abispec.Tagged(data) {
		return unmarshal(data, v)
	}
	tag, p := data[0], data[1:]
	switch t := v.(type) {
	case *[]byte:
		if t != nil {
			if tag != abispec.TagBytes {
				return typeError(tag, t)
			}
			if 2*len(p) < cap(data) { // most of the buffer unused: do not keep it alive
				p = bytes.Clone(p)
			}
			*t = p[:len(p):len(p)]
			return nil
		}
	case *string:
		if t != nil {
			if tag != abispec.TagString {
				return typeError(tag, t)
			}
			*t = string(p)
			return nil
		}
	case *any:
		if t != nil {
			// As encoding/json: an interface holding a non-nil pointer
			// decodes into what it points to.
			if rv := reflect.ValueOf(*t); rv.Kind() == reflect.Pointer && !rv.IsNil() {
				return decodeInto(data, *t)
			}
			if tag == abispec.TagBytes {
				var b []byte
				if err := decodeInto(data, &b); err != nil {
					return err
				}
				*t = b
			} else {
				*t = string(p)
			}
			return nil
		}
	}
	// A named string or byte-slice type without a decoding of its own
	// holds the value as string and []byte do.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && !hasUnmarshaler(rv.Elem()) {
		switch e := rv.Elem(); {
		case e.Kind() == reflect.String && e.Type() != reflect.TypeFor[json.Number]():
			if tag != abispec.TagString {
				return typeError(tag, v)
			}
			e.SetString(string(p))
			return nil
		case e.Kind() == reflect.Slice && reflect.TypeFor[[]byte]().ConvertibleTo(e.Type()):
			if tag != abispec.TagBytes {
				return typeError(tag, v)
			}
			var b []byte
			if err := decodeInto(data, &b); err != nil {
				return err
			}
			e.Set(reflect.ValueOf(b).Convert(e.Type()))
			return nil
		}
	}
	err := json.Unmarshal(taggedJSON(data), v)
	var te *json.UnmarshalTypeError
	if tag == abispec.TagBytes && errors.As(err, &te) && te.Value == "string" && te.Field == "" {
		te.Value = "bytes" // the message's own type, not the JSON it stood for
	}
	return err
}

// typeError is the error of a tagged message that v cannot hold.
func typeError(tag byte, v any) error {
	what := "bytes"
	if tag == abispec.TagString {
		what = "string"
	}
	return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeOf(v).Elem()}
}

// taggedJSON returns a message as JSON: a tagged []byte as the base64
// string encoding/json makes of it, a tagged string as a JSON string;
// JSON as it is.
func taggedJSON(data []byte) []byte {
	if !abispec.Tagged(data) {
		return data
	}
	var v any = string(data[1:])
	if data[0] == abispec.TagBytes {
		v = data[1:]
	}
	b, _ := json.Marshal(v) // a string or a []byte always encodes
	return b
}

// decodeList decodes messages, in order, into dst as one list: a pointer
// to a slice or an array (or to an empty interface, which gets an []any).
// Without a tagged message, it is json.Unmarshal of the JSON array of the
// messages, as always. With one, each element is decoded with decodeValue's
// rules, so []byte and string items keep their types (into an []any too);
// a dst of another kind, or one with its own UnmarshalJSON, gets the
// JSON array with the tagged messages as their JSON (taggedJSON).
func decodeList(parts [][]byte, dst any) error {
	if dst == nil {
		return nil
	}
	if !slices.ContainsFunc(parts, abispec.Tagged) {
		return decodeValue(appendArray(nil, parts), dst)
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || hasUnmarshaler(rv.Elem()) {
		return decodeValue(appendArray(nil, jsonParts(parts)), dst)
	}
	e := rv.Elem()
	if e.Kind() == reflect.Interface && e.NumMethod() == 0 {
		if inner := e.Elem(); inner.Kind() == reflect.Pointer && !inner.IsNil() {
			return decodeList(parts, inner.Interface()) // as encoding/json
		}
		all := make([]any, len(parts))
		if err := decodeItems(parts, reflect.ValueOf(all), dst); err != nil {
			return err
		}
		e.Set(reflect.ValueOf(all))
		return nil
	}
	switch {
	case e.Kind() == reflect.Slice && e.Type().Elem().Kind() != reflect.Uint8:
		s := reflect.MakeSlice(e.Type(), len(parts), len(parts))
		if err := decodeItems(parts, s, dst); err != nil {
			return err
		}
		e.Set(s)
		return nil
	case e.Kind() == reflect.Array:
		a := reflect.New(e.Type()).Elem() // elements past the messages are zero, as encoding/json leaves them
		if err := decodeItems(parts[:min(len(parts), a.Len())], a, dst); err != nil {
			return err
		}
		e.Set(a)
		return nil
	}
	return decodeValue(appendArray(nil, jsonParts(parts)), dst)
}

// decodeItems decodes parts[i] into elems.Index(i).
func decodeItems(parts [][]byte, elems reflect.Value, dst any) error {
	for i, part := range parts {
		if err := decodeInto(part, elems.Index(i).Addr().Interface()); err != nil {
			return fmt.Errorf("mp: decoding a message into %T: item %d: %w", dst, i, err)
		}
	}
	return nil
}

// hasUnmarshaler reports whether v decodes itself from JSON or text.
func hasUnmarshaler(v reflect.Value) bool {
	t := reflect.PointerTo(v.Type())
	return t.Implements(reflect.TypeFor[json.Unmarshaler]()) || t.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// jsonParts is parts with each tagged message as its JSON.
func jsonParts(parts [][]byte) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = taggedJSON(p)
	}
	return out
}

// objError turns the errno of operation op on a shared object into an
// error, as opError does for processes: msgs gives Python's message for
// some errnos; the others read "mp: op: sentinel text".
func objError(e errno, op string, msgs map[errno]string) error {
	if e == errnoOK {
		return nil
	}
	return objFailed(e, op, msgs)
}

// objFailed is objError of an errno other than OK (apart, so that
// objError is inlined).
func objFailed(e errno, op string, msgs map[errno]string) error {
	if msg, ok := msgs[e]; ok {
		return &procError{msg: msg, err: e.err()}
	}
	return fmt.Errorf("mp: %s: %w", op, e.err())
}
