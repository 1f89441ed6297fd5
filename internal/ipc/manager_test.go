package ipc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

func TestNamespace(t *testing.T) {
	n := NewNamespace()
	v := []byte("1")
	n.Set("b", v)
	v[0] = '9' // the namespace keeps its own copy
	n.Set("a0", []byte("2"))
	n.Set("a", []byte("3"))
	n.Set("_hidden", []byte("4"))
	n.Set("b", []byte("5")) // an existing name keeps its place
	if got, err := n.Get("b"); err != nil || string(got) != "5" {
		t.Errorf("get b = %q, %v", got, err)
	}
	if _, err := n.Get("zz"); !errors.Is(err, ErrNoKey) {
		t.Errorf("get of a missing name = %v, want ErrNoKey", err)
	}
	if got := fmt.Sprint(n.Names()); got != "[_hidden a a0 b]" {
		t.Errorf("names = %s", got)
	}
	var order []string
	for _, it := range n.Items() {
		order = append(order, it.Key)
	}
	if got := fmt.Sprint(order); got != "[b a0 a _hidden]" {
		t.Errorf("items order = %s, want insertion order", got)
	}
	// CPython sorts the "name=repr" strings: "a0=" < "a=" since '0' < '='.
	repr := n.Repr(func(v []byte) string { return "'" + string(v) + "'" })
	if want := "Namespace(a0='2', a='3', b='5')"; repr != want {
		t.Errorf("repr = %s, want %s", repr, want)
	}
	if err := n.Delete("a0"); err != nil {
		t.Fatal(err)
	}
	if err := n.Delete("a0"); !errors.Is(err, ErrNoKey) {
		t.Errorf("second delete = %v, want ErrNoKey", err)
	}
	if got := NewNamespace().Repr(nil); got != "Namespace()" {
		t.Errorf("empty repr = %s", got)
	}
}

func TestDict(t *testing.T) {
	d := NewDict()
	for i, k := range []string{"x", "y", "z"} {
		d.Set(k, []byte(strconv.Itoa(i)))
	}
	if err := d.Delete("x"); err != nil {
		t.Fatal(err)
	}
	d.Set("x", []byte("again")) // goes last, as in Python
	d.Set("y", []byte("new"))   // keeps its place
	if got := fmt.Sprint(d.Keys()); got != "[y z x]" || d.Len() != 3 {
		t.Errorf("keys = %s, len %d; want [y z x], 3", got, d.Len())
	}
	items := d.Items()
	if items[0].Key != "y" || string(items[0].Value) != "new" {
		t.Errorf("first item = %+v", items[0])
	}
	for _, err := range []error{d.Delete("nope"), func() error { _, err := d.Get("nope"); return err }()} {
		if !errors.Is(err, ErrNoKey) {
			t.Errorf("missing key: %v, want ErrNoKey", err)
		}
	}
}

func TestList(t *testing.T) {
	l := NewList()
	for _, s := range []string{"a", "b", "c", "d"} {
		l.Append([]byte(s))
	}
	tests := []struct {
		name string
		do   func() (string, error)
		want string
		err  error
	}{
		{"get 0", func() (string, error) { v, err := l.Get(0); return string(v), err }, "a", nil},
		{"get -1", func() (string, error) { v, err := l.Get(-1); return string(v), err }, "d", nil},
		{"get -4", func() (string, error) { v, err := l.Get(-4); return string(v), err }, "a", nil},
		{"get 4", func() (string, error) { v, err := l.Get(4); return string(v), err }, "", ErrIndex},
		{"get -5", func() (string, error) { v, err := l.Get(-5); return string(v), err }, "", ErrIndex},
		{"set -2", func() (string, error) { return "", l.Set(-2, []byte("C")) }, "", nil},
		{"set 9", func() (string, error) { return "", l.Set(9, nil) }, "", ErrIndex},
		{"pop -1", func() (string, error) { v, err := l.Pop(-1); return string(v), err }, "d", nil},
		{"pop 0", func() (string, error) { v, err := l.Pop(0); return string(v), err }, "a", nil},
		{"pop 5", func() (string, error) { v, err := l.Pop(5); return string(v), err }, "", ErrIndex},
	}
	for _, tt := range tests {
		got, err := tt.do()
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	var items []string
	for _, v := range l.Items() {
		items = append(items, string(v))
	}
	if !slices.Equal(items, []string{"b", "C"}) || l.Len() != 2 {
		t.Errorf("items = %v, want [b C]", items)
	}
	empty := NewList()
	if _, err := empty.Pop(-1); !errors.Is(err, ErrIndex) {
		t.Errorf("pop from empty list = %v, want ErrIndex", err)
	}
}

// TestListPopLimit: an item too big for the caller stays in the list, and
// the check and the removal are one step under concurrent pops.
func TestListPopLimit(t *testing.T) {
	l := NewList()
	l.Append([]byte("small"))
	l.Append([]byte("a much bigger item"))
	if _, size, err := l.PopLimit(-1, 5); !errors.Is(err, ErrTooSmall) || size != 18 {
		t.Fatalf("PopLimit(-1, 5) = size %d, err %v; want 18, ErrTooSmall", size, err)
	}
	if l.Len() != 2 {
		t.Fatalf("len = %d after a refused pop, want 2", l.Len())
	}
	if v, _, err := l.PopLimit(0, 5); err != nil || string(v) != "small" {
		t.Fatalf("PopLimit(0, 5) = %q, %v", v, err)
	}

	// Many poppers with a small limit, items of two sizes: every item is
	// either popped once or left, never lost.
	l = NewList()
	const n = 2000
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			l.Append([]byte("s"))
		} else {
			l.Append([]byte("LARGE"))
		}
	}
	var wg sync.WaitGroup
	var popped atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, _, err := l.PopLimit(-1, 1)
				switch {
				case err == nil:
					popped.Add(1)
				case errors.Is(err, ErrTooSmall):
					if _, _, err := l.PopLimit(-1, 10); err == nil {
						popped.Add(1)
					}
				default:
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := popped.Load() + int64(l.Len()); got != n {
		t.Fatalf("popped + left = %d, want %d", got, n)
	}
}
