package mp

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// SyncManager is what Python's multiprocessing.Manager() returns: the
// maker of shared Namespace, Dict and List objects (and, for convenience,
// of every other shared object).
//
// In CPython a manager is a server process holding the objects, and the
// objects are proxies to it. Here the host holds every object, so no
// process runs; but Manager still uses up a process number, as CPython's
// server process does, so the processes created after it get the names
// they get in CPython (Manager() then Process(...) gives Process-2).
//
//	func child(ns *mp.Namespace) {
//		ns.Set("y", "from "+mp.CurrentProcess().Name())
//	}
//
//	m := mp.Manager()
//	ns := m.Namespace()
//	ns.Set("x", 1)
//	p := mp.NewProcess(child, mp.Args(ns))
//	p.Start()
//	p.Join()
//	fmt.Println(ns) // Namespace(x=1, y='from Process-2')
type SyncManager struct {
	proc *Process // the never-started process that holds the number
}

// managerTarget is the target of a manager's placeholder process: never
// started, it can never run.
const managerTarget = "mp:manager"

// Manager returns a new manager, as Python's Manager() (the "with"
// statement has no counterpart: there is nothing to shut down).
//
// It panics outside the sandbox.
func Manager() *SyncManager {
	p := &Process{class: "SyncManager"}
	p.create(managerTarget, []byte("[]"), "SyncManager", config{})
	return &SyncManager{proc: p}
}

// Name returns the name CPython gives the manager's server process, such
// as "SyncManager-1".
func (m *SyncManager) Name() string { return m.proc.Name() }

// Shutdown does nothing: the objects live in the host until the run ends.
func (m *SyncManager) Shutdown() {}

// Namespace returns a new shared Namespace.
func (m *SyncManager) Namespace() *Namespace { return &Namespace{handle: newManaged(kindNamespace)} }

// Dict returns a new, empty shared Dict.
func (m *SyncManager) Dict() *Dict { return &Dict{handle: newManaged(kindDict)} }

// List returns a new shared List holding values.
func (m *SyncManager) List(values ...any) *List {
	l := &List{handle: newManaged(kindList)}
	if err := l.Extend(values...); err != nil {
		panic("mp: List: " + err.Error())
	}
	return l
}

// Queue is NewQueue.
func (m *SyncManager) Queue(maxsize int) *Queue { return NewQueue(maxsize) }

// JoinableQueue is NewJoinableQueue.
func (m *SyncManager) JoinableQueue(maxsize int) *JoinableQueue { return NewJoinableQueue(maxsize) }

// Lock is NewLock.
func (m *SyncManager) Lock() *Lock { return NewLock() }

// RLock is NewRLock.
func (m *SyncManager) RLock() *RLock { return NewRLock() }

// Semaphore is NewSemaphore.
func (m *SyncManager) Semaphore(n int) *Semaphore { return NewSemaphore(n) }

// BoundedSemaphore is NewBoundedSemaphore.
func (m *SyncManager) BoundedSemaphore(n int) *BoundedSemaphore { return NewBoundedSemaphore(n) }

// Event is NewEvent.
func (m *SyncManager) Event() *Event { return NewEvent() }

// Condition is NewCondition.
func (m *SyncManager) Condition(lock Locker) *Condition { return NewCondition(lock) }

// Barrier is NewBarrier.
func (m *SyncManager) Barrier(parties int, opts ...BarrierOption) *Barrier {
	return NewBarrier(parties, opts...)
}

func newManaged(kind int32) int32 {
	var h int32
	mustNew("manager object", host.nsNew(kind, &h))
	return h
}

// entry is one record of ns_items.
type entry struct {
	key   string
	value []byte
}

// items reads every entry of a namespace, dict or list.
func items(h int32) ([]entry, error) {
	b, err := readBuffer(256, func(buf []byte, size *uint32) errno { return host.nsItems(h, buf, size) })
	if err != nil {
		return nil, err
	}
	var out []entry
	le := binary.LittleEndian
	for len(b) > 0 {
		var e entry
		for i := range 2 {
			if len(b) < 4 || uint64(le.Uint32(b)) > uint64(len(b)-4) {
				return nil, fmt.Errorf("%w: malformed ns_items record", ErrHost)
			}
			n := le.Uint32(b)
			field := b[4 : 4+n]
			b = b[4+n:]
			if i == 0 {
				e.key = string(field)
			} else {
				e.value = field
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func nsLen(h int32) int {
	var n int32
	must("len", host.nsLen(h, &n))
	return int(n)
}

// getValue reads the value of key with the buffer convention.
func getValue(h int32, key string) ([]byte, errno) {
	return receive(nil, 0, sized(func(buf []byte, size *uint32) errno {
		return host.nsGet(h, key, buf, size)
	}))
}

// Namespace is the object of Python's Manager().Namespace(): attributes
// shared by every process, set with Set and read with Get. Values are
// messages as a Queue's: a []byte or a string raw, anything else as JSON.
// Its String is CPython's repr, Namespace(a=1, b='x').
//
//	ns := mp.Manager().Namespace()
//	ns.Set("x", 10)
//	var x int
//	ns.Get("x", &x)                 // 10, in any process holding ns
//	err := ns.Get("y", &x)          // "'Namespace' object has no attribute 'y'", wraps ErrNoKey
//	fmt.Println(ns)                 // Namespace(x=10)
type Namespace struct{ handle int32 }

var _ json.Marshaler = (*Namespace)(nil)

func (n *Namespace) h() int32 { return checkHandle("Namespace", n.handle) }

// Handle returns the host's handle of the namespace, valid in every
// process.
func (n *Namespace) Handle() int32 { return n.h() }

func noAttribute(name string) string {
	return fmt.Sprintf("'Namespace' object has no attribute %s", pyRepr(name))
}

// Set sets attribute name to v (encoded as Queue.Put encodes it), as
// Python's ns.name = v.
func (n *Namespace) Set(name string, v any) error {
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	return objError(host.nsSet(n.h(), name, b), "namespace set", nil)
}

// Get decodes attribute name into v, a pointer, as Queue.Get decodes. A
// missing attribute is an error that wraps ErrNoKey (Python's
// AttributeError "'Namespace' object has no attribute 'name'").
func (n *Namespace) Get(name string, v any) error {
	b, e := getValue(n.h(), name)
	if e != errnoOK {
		return objError(e, "namespace get", map[errno]string{errnoNoKey: noAttribute(name)})
	}
	return decodeValue(b, v)
}

// Has reports whether the namespace has attribute name (Python's
// hasattr).
func (n *Namespace) Has(name string) bool {
	_, e := getValue(n.h(), name)
	return e == errnoOK
}

// Delete deletes attribute name, as Python's del ns.name. A missing
// attribute is an error that wraps ErrNoKey.
func (n *Namespace) Delete(name string) error {
	return objError(host.nsDelete(n.h(), name), "namespace delete", map[errno]string{errnoNoKey: noAttribute(name)})
}

// Names returns the names of the attributes, sorted.
func (n *Namespace) Names() []string {
	es, err := items(n.h())
	if err != nil {
		panic("mp: namespace names: " + err.Error())
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.key
	}
	slices.Sort(names)
	return names
}

// String returns CPython's repr of a Namespace: Namespace(a=1, b='x'),
// each value shown as Python shows it (b'...' for a []byte, '...' for a
// string, the value its JSON decodes to for the others), names
// starting with "_" left out, entries sorted as CPython sorts them (as
// "name=value" strings).
func (n *Namespace) String() string {
	es, err := items(n.h())
	if err != nil {
		return fmt.Sprintf("<Namespace handle=%d error=%q>", n.handle, err.Error())
	}
	var parts []string
	for _, e := range es {
		if !strings.HasPrefix(e.key, "_") {
			parts = append(parts, e.key+"="+pyReprValue(e.value))
		}
	}
	slices.Sort(parts)
	return "Namespace(" + strings.Join(parts, ", ") + ")"
}

// MarshalJSON encodes the namespace as its handle, so it can be passed to
// a child.
func (n *Namespace) MarshalJSON() ([]byte, error) { return marshalObject(kindNamespaceJSON, n.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (n *Namespace) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindNamespaceJSON)
	n.handle = o.Handle
	return err
}

// Dict is the object of Python's Manager().dict(): a dictionary shared by
// every process. Keys are any values JSON carries (a key is stored as its
// JSON text, so 1 and "1" are different keys, as in Python); values are
// messages as a Queue's (a []byte or a string raw, anything else as
// JSON); entries keep their insertion order. Its String is Python's
// repr of the dict.
//
//	d := mp.Manager().Dict()
//	d.Set(1, "one")
//	d.Set("two", 2)
//	var s string
//	d.Get(1, &s)        // "one"
//	err := d.Get(3, &s) // "KeyError: 3", wraps ErrNoKey
//	fmt.Println(d)      // {1: 'one', 'two': 2}
type Dict struct{ handle int32 }

var _ json.Marshaler = (*Dict)(nil)

func (d *Dict) h() int32 { return checkHandle("Dict", d.handle) }

// Handle returns the host's handle of the dict, valid in every process.
func (d *Dict) Handle() int32 { return d.h() }

// dictKey is the stored form of a key: its JSON text.
func dictKey(key any) (string, error) {
	b, err := json.Marshal(key)
	if err != nil {
		return "", fmt.Errorf("mp: encoding the key %v: %w", key, err)
	}
	return string(b), nil
}

func keyError(key string) string { return "KeyError: " + pyReprValue([]byte(key)) }

// Set sets the value of key, as Python's d[key] = value.
func (d *Dict) Set(key, value any) error {
	k, err := dictKey(key)
	if err != nil {
		return err
	}
	b, err := encodeValue(value)
	if err != nil {
		return err
	}
	return objError(host.nsSet(d.h(), k, b), "dict set", nil)
}

// Get decodes the value of key into value, a pointer, as Queue.Get
// decodes. A missing key is an error that wraps ErrNoKey (Python's
// KeyError).
func (d *Dict) Get(key, value any) error {
	k, err := dictKey(key)
	if err != nil {
		return err
	}
	b, e := getValue(d.h(), k)
	if e != errnoOK {
		return objError(e, "dict get", map[errno]string{errnoNoKey: keyError(k)})
	}
	return decodeValue(b, value)
}

// Contains reports whether the dict has key (Python's key in d).
func (d *Dict) Contains(key any) bool {
	k, err := dictKey(key)
	if err != nil {
		return false
	}
	_, e := getValue(d.h(), k)
	return e == errnoOK
}

// Delete deletes key, as Python's del d[key]. A missing key is an error
// that wraps ErrNoKey.
func (d *Dict) Delete(key any) error {
	k, err := dictKey(key)
	if err != nil {
		return err
	}
	return objError(host.nsDelete(d.h(), k), "dict delete", map[errno]string{errnoNoKey: keyError(k)})
}

// Len returns the number of entries.
func (d *Dict) Len() int { return nsLen(d.h()) }

// Item is one entry of a Dict, as JSON: a []byte value as its base64
// string (as encoding/json encodes a []byte), a string value as a JSON
// string.
type Item struct {
	Key, Value json.RawMessage
}

// Items returns every entry, in insertion order.
func (d *Dict) Items() ([]Item, error) {
	es, err := items(d.h())
	if err != nil {
		return nil, err
	}
	out := make([]Item, len(es))
	for i, e := range es {
		out[i] = Item{Key: json.RawMessage(e.key), Value: json.RawMessage(taggedJSON(e.value))}
	}
	return out, nil
}

// Keys decodes the keys, in insertion order, into dst, a pointer to a
// slice (such as *[]string or *[]int).
func (d *Dict) Keys(dst any) error { return d.decodeAll(dst, true) }

// Values decodes the values, in insertion order, into dst, a pointer to a
// slice (or array, or empty interface: an []any). Each value decodes as
// Get decodes it, so a []byte or string value stays one (in an []any too).
func (d *Dict) Values(dst any) error { return d.decodeAll(dst, false) }

func (d *Dict) decodeAll(dst any, keys bool) error {
	es, err := items(d.h())
	if err != nil {
		return err
	}
	parts := make([][]byte, len(es))
	for i, e := range es {
		if keys {
			parts[i] = []byte(e.key)
		} else {
			parts[i] = e.value
		}
	}
	return decodeList(parts, dst)
}

// String returns Python's repr of the dict: {1: 'one', 'two': 2}.
func (d *Dict) String() string {
	es, err := items(d.h())
	if err != nil {
		return fmt.Sprintf("<Dict handle=%d error=%q>", d.handle, err.Error())
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = pyReprValue([]byte(e.key)) + ": " + pyReprValue(e.value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// MarshalJSON encodes the dict as its handle, so it can be passed to a
// child.
func (d *Dict) MarshalJSON() ([]byte, error) { return marshalObject(kindDictJSON, d.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (d *Dict) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindDictJSON)
	d.handle = o.Handle
	return err
}

// List is the object of Python's Manager().list(): a list shared by every
// process. Values are messages as a Queue's (a []byte or a string raw,
// anything else as JSON); indexes may be negative, counting from
// the end, as in Python. Its String is Python's repr of the list.
//
//	l := mp.Manager().List(1, 2)
//	l.Append("x")
//	var last string
//	l.Pop(-1, &last)    // "x"
//	err := l.Get(5, nil) // "list index out of range", wraps ErrIndex
//	fmt.Println(l)      // [1, 2]
type List struct{ handle int32 }

var _ json.Marshaler = (*List)(nil)

func (l *List) h() int32 { return checkHandle("List", l.handle) }

// Handle returns the host's handle of the list, valid in every process.
func (l *List) Handle() int32 { return l.h() }

// Append appends v, as Python's l.append(v).
func (l *List) Append(v any) error {
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	return objError(host.listAppend(l.h(), b), "list append", nil)
}

// Extend appends each value in turn, as Python's l.extend(values) (other
// processes may append in between).
func (l *List) Extend(values ...any) error {
	for _, v := range values {
		if err := l.Append(v); err != nil {
			return err
		}
	}
	return nil
}

// Get decodes the value at index i into v. The error wraps ErrIndex
// ("list index out of range").
func (l *List) Get(i int, v any) error {
	h := l.h()
	b, e := receive(nil, 0, sized(func(buf []byte, size *uint32) errno {
		return host.listGet(h, clampInt32(i), buf, size)
	}))
	if e != errnoOK {
		return objError(e, "list get", map[errno]string{errnoIndex: "list index out of range"})
	}
	return decodeValue(b, v)
}

// Set replaces the value at index i, as Python's l[i] = v. The error
// wraps ErrIndex ("list assignment index out of range").
func (l *List) Set(i int, v any) error {
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	return objError(host.listSet(l.h(), clampInt32(i), b), "list set", map[errno]string{
		errnoIndex: "list assignment index out of range",
	})
}

// Pop removes the value at index i and decodes it into v, as Python's
// l.pop(i) (use -1 for l.pop()). The error wraps ErrIndex ("pop index out
// of range", or "pop from empty list").
func (l *List) Pop(i int, v any) error {
	h := l.h()
	b, e := receive(nil, 0, sized(func(buf []byte, size *uint32) errno {
		return host.listPop(h, clampInt32(i), buf, size)
	}))
	if e == errnoIndex && l.Len() == 0 {
		return &procError{msg: "pop from empty list", err: ErrIndex}
	}
	if e != errnoOK {
		return objError(e, "list pop", map[errno]string{errnoIndex: "pop index out of range"})
	}
	return decodeValue(b, v)
}

// Len returns the number of values.
func (l *List) Len() int { return nsLen(l.h()) }

// All decodes every value, in order, into dst, a pointer to a slice (or
// array, or empty interface: an []any). Each value decodes as Get decodes
// it, so a []byte or string value stays one (in an []any too).
func (l *List) All(dst any) error {
	es, err := items(l.h())
	if err != nil {
		return err
	}
	parts := make([][]byte, len(es))
	for i, e := range es {
		parts[i] = e.value
	}
	return decodeList(parts, dst)
}

// String returns Python's repr of the list: [1, 'a', None].
func (l *List) String() string {
	es, err := items(l.h())
	if err != nil {
		return fmt.Sprintf("<List handle=%d error=%q>", l.handle, err.Error())
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = pyReprValue(e.value)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// MarshalJSON encodes the list as its handle, so it can be passed to a
// child.
func (l *List) MarshalJSON() ([]byte, error) { return marshalObject(kindListJSON, l.handle) }

// UnmarshalJSON decodes what MarshalJSON encoded.
func (l *List) UnmarshalJSON(data []byte) error {
	o, err := unmarshalObject(data, kindListJSON)
	l.handle = o.Handle
	return err
}
