package ipc

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Item is one name (or key) and value of a Namespace or Dict.
type Item struct {
	Key   string
	Value []byte
}

// ordered is a string-keyed map that remembers insertion order, as Python
// dicts do. It is not safe for concurrent use.
type ordered struct {
	keys  []string
	vals  map[string][]byte
	meter *Meter // counts keys and values
}

func (o *ordered) set(k string, v []byte) {
	if o.vals == nil {
		o.vals = make(map[string][]byte)
	}
	if old, ok := o.vals[k]; ok {
		o.meter.add(-len(old))
	} else {
		o.keys = append(o.keys, k)
		o.meter.add(ItemOverhead + len(k))
	}
	o.vals[k] = clone(v)
	o.meter.add(len(v))
}

func (o *ordered) get(k string) ([]byte, bool) {
	v, ok := o.vals[k]
	if !ok {
		return nil, false
	}
	return clone(v), true
}

func (o *ordered) delete(k string) bool {
	old, ok := o.vals[k]
	if !ok {
		return false
	}
	o.meter.add(-ItemOverhead - len(k) - len(old))
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(x string) bool { return x == k })
	return true
}

func (o *ordered) items() []Item {
	items := make([]Item, len(o.keys))
	for i, k := range o.keys {
		items[i] = Item{Key: k, Value: clone(o.vals[k])}
	}
	return items
}

// Namespace is the object behind Manager().Namespace(): named attributes
// that live in one place for every process. Values are opaque.
type Namespace struct {
	mu    sync.Mutex
	attrs ordered
}

var _ Object = (*Namespace)(nil)

// NewNamespace returns an empty namespace.
func NewNamespace() *Namespace { return &Namespace{} }

// Kind returns "namespace".
func (n *Namespace) Kind() string { return "namespace" }

// Inherit does nothing: every process sees the same attributes.
func (n *Namespace) Inherit(parent, child int32) {}

// ProcessExited does nothing.
func (n *Namespace) ProcessExited(who int32) {}

// Set sets attribute name to a copy of v.
func (n *Namespace) Set(name string, v []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attrs.set(name, v)
}

// Get returns attribute name. ErrNoKey if there is none.
func (n *Namespace) Get(name string) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, ok := n.attrs.get(name)
	if !ok {
		return nil, fmt.Errorf("%w: 'Namespace' object has no attribute '%s'", ErrNoKey, name)
	}
	return v, nil
}

// Delete removes attribute name. ErrNoKey if there is none.
func (n *Namespace) Delete(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.attrs.delete(name) {
		return fmt.Errorf("%w: 'Namespace' object has no attribute '%s'", ErrNoKey, name)
	}
	return nil
}

// Names returns the attribute names in sorted order.
func (n *Namespace) Names() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(slices.Values(n.attrs.keys))
}

// Items returns the attributes in insertion order, the order of the
// namespace's __dict__ (a name deleted and set again moves to the end).
func (n *Namespace) Items() []Item {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attrs.items()
}

// Repr returns Python's printable form, "Namespace(a=1, b='x')", given the
// repr of each value. It matches CPython's Namespace.__repr__: names
// starting with '_' are left out, and the "name=repr" strings themselves
// are sorted (so "a0=..." comes before "a=...", since '0' < '=').
func (n *Namespace) Repr(valueRepr func(v []byte) string) string {
	var parts []string
	for _, it := range n.Items() {
		if !strings.HasPrefix(it.Key, "_") {
			parts = append(parts, it.Key+"="+valueRepr(it.Value))
		}
	}
	slices.Sort(parts) // Go compares UTF-8 bytes: the same order as Python's code points
	return "Namespace(" + strings.Join(parts, ", ") + ")"
}

// Dict is the object behind Manager().dict(). Keys are the SDK's encoding
// of Python keys; iteration is in insertion order, as Python's dict.
type Dict struct {
	mu sync.Mutex
	m  ordered
}

var _ Object = (*Dict)(nil)

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{} }

// Kind returns "dict".
func (d *Dict) Kind() string { return "dict" }

// Inherit does nothing.
func (d *Dict) Inherit(parent, child int32) {}

// ProcessExited does nothing.
func (d *Dict) ProcessExited(who int32) {}

// Set sets key to a copy of v; a new key goes last, an existing key keeps
// its place.
func (d *Dict) Set(key string, v []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m.set(key, v)
}

// Get returns the value of key. ErrNoKey if there is none.
func (d *Dict) Get(key string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m.get(key)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, key)
	}
	return v, nil
}

// Delete removes key. ErrNoKey if there is none.
func (d *Dict) Delete(key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.m.delete(key) {
		return fmt.Errorf("%w: %s", ErrNoKey, key)
	}
	return nil
}

// Len returns the number of keys.
func (d *Dict) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m.keys)
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.m.keys)
}

// Items returns the keys and values in insertion order.
func (d *Dict) Items() []Item {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m.items()
}

// List is the object behind Manager().list(). Indexes follow Python:
// negative ones count from the end.
type List struct {
	mu    sync.Mutex
	items [][]byte
	meter *Meter // counts the items
}

var _ Object = (*List)(nil)

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Kind returns "list".
func (l *List) Kind() string { return "list" }

// Inherit does nothing.
func (l *List) Inherit(parent, child int32) {}

// ProcessExited does nothing.
func (l *List) ProcessExited(who int32) {}

// Append appends a copy of v.
func (l *List) Append(v []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, clone(v))
	l.meter.add(ItemOverhead + len(v))
}

// Get returns item i. ErrIndex if i is out of range.
func (l *List) Get(i int) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	j, ok := l.index(i)
	if !ok {
		return nil, fmt.Errorf("%w: list index out of range", ErrIndex)
	}
	return clone(l.items[j]), nil
}

// Set replaces item i with a copy of v. ErrIndex if i is out of range.
func (l *List) Set(i int, v []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	j, ok := l.index(i)
	if !ok {
		return fmt.Errorf("%w: list assignment index out of range", ErrIndex)
	}
	l.meter.add(len(v) - len(l.items[j]))
	l.items[j] = clone(v)
	return nil
}

// Pop removes and returns item i (Python's default is -1, the last).
// ErrIndex if the list is empty or i is out of range.
func (l *List) Pop(i int) ([]byte, error) {
	v, _, err := l.PopLimit(i, -1)
	return v, err
}

// PopLimit is Pop for a caller that can take at most limit bytes (limit < 0:
// any): a larger item is not removed, and ErrTooSmall comes with its size.
// The check and the removal are one step, so no other process's pop can
// slip in between.
func (l *List) PopLimit(i, limit int) (v []byte, size int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) == 0 {
		return nil, 0, fmt.Errorf("%w: pop from empty list", ErrIndex)
	}
	j, ok := l.index(i)
	if !ok {
		return nil, 0, fmt.Errorf("%w: pop index out of range", ErrIndex)
	}
	v = l.items[j]
	if limit >= 0 && len(v) > limit {
		return nil, len(v), ErrTooSmall
	}
	l.items = slices.Delete(l.items, j, j+1)
	l.meter.add(-ItemOverhead - len(v))
	return v, len(v), nil
}

// Len returns the number of items.
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

// Items returns copies of every item, in order.
func (l *List) Items() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, len(l.items))
	for i, v := range l.items {
		out[i] = clone(v)
	}
	return out
}

// index turns a Python index into a slice index. l.mu held.
func (l *List) index(i int) (int, bool) {
	if i < 0 {
		i += len(l.items)
	}
	return i, i >= 0 && i < len(l.items)
}
