package mp

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
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
	return json.Marshal(objectJSON{Kind: kind, Handle: h})
}

// unmarshalObject decodes the JSON form of a shared object of kind.
func unmarshalObject(data []byte, kind string) (objectJSON, error) {
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
		maker, ok := makers[kind]
		if !ok {
			maker = "mp.New" + kind
		}
		panic(fmt.Sprintf("mp: use of a %s that was not made by %s", kind, maker))
	}
	return h
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

// receive implements the buffer convention for a call that takes a
// message (conn_recv, queue_get, list_pop): on E2SMALL it grows the buffer
// to the size the host wrote and calls again, nothing having been taken.
// A positive timeout is a deadline for all the calls together. hint holds
// the size of the last message, so that a stream of large messages costs
// one call each.
func receive(hint *atomic.Uint32, timeoutNs int64, call func(timeoutNs int64, buf []byte, size *uint32) errno) ([]byte, errno) {
	n := minRecvBuffer
	if hint != nil {
		n = max(n, int(hint.Load()))
	}
	buf := make([]byte, n)
	var deadline time.Time
	if timeoutNs > 0 {
		deadline = time.Now().Add(time.Duration(timeoutNs))
	}
	for range maxBufferTries {
		var size uint32
		switch e := call(timeoutNs, buf, &size); e {
		case errnoOK:
			if uint64(size) > uint64(len(buf)) {
				return nil, errnoIO
			}
			if hint != nil {
				hint.Store(size)
			}
			return buf[:size], errnoOK
		case errnoTooSmall:
			if uint64(size) <= uint64(len(buf)) {
				return nil, errnoIO
			}
			buf = make([]byte, size)
			if timeoutNs > 0 {
				timeoutNs = max(int64(time.Until(deadline)), 0)
			}
		default:
			return nil, e
		}
	}
	return nil, errnoTooSmall
}

// decodeValue decodes a message into v, as json.Unmarshal; a nil v drops
// the message.
func decodeValue(data []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("mp: decoding a message into %T: %w", v, err)
	}
	return nil
}

// encodeValue encodes a message, as json.Marshal.
func encodeValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mp: encoding a message of type %T: %w", v, err)
	}
	return b, nil
}

// objError turns the errno of operation op on a shared object into an
// error, as opError does for processes: msgs gives Python's message for
// some errnos; the others read "mp: op: sentinel text".
func objError(e errno, op string, msgs map[errno]string) error {
	if e == errnoOK {
		return nil
	}
	if msg, ok := msgs[e]; ok {
		return &procError{msg: msg, err: e.err()}
	}
	return fmt.Errorf("mp: %s: %w", op, e.err())
}
