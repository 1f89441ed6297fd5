package host

import (
	"encoding/binary"

	"github.com/sandbox-dev/sandbox/internal/abi"
	"github.com/sandbox-dev/sandbox/internal/ipc"
)

// The handlers of the Manager imports: namespace, dict and list
// (docs/ABI.md, "Manager objects").

// keyedStore is a Namespace or a Dict (looked up with lookup[keyedStore]).
type keyedStore interface {
	Set(key string, v []byte)
	Get(key string) ([]byte, error)
	Delete(key string) error
	Items() []ipc.Item
}

func (s *Supervisor) nsNew(c *Call) error {
	var obj ipc.Object
	switch kind := abi.ManagerKind(c.Args.Int(abi.PKind)); kind {
	case abi.Namespace:
		obj = ipc.NewNamespace()
	case abi.Dict:
		obj = ipc.NewDict()
	case abi.List:
		obj = ipc.NewList()
	default:
		return fail(abi.EINVAL, "unknown manager object kind %d", kind)
	}
	c.Args.SetInt(abi.PHandle, int64(s.addObject(obj, 0)))
	return nil
}

func (s *Supervisor) nsSet(c *Call) error {
	kv, _, err := lookupArg[keyedStore](s, c)
	if err != nil {
		return err
	}
	kv.Set(string(c.Args.Bytes(abi.PKey)), c.Args.Bytes(abi.PValue))
	return nil
}

func (s *Supervisor) nsGet(c *Call) error {
	kv, _, err := lookupArg[keyedStore](s, c)
	if err != nil {
		return err
	}
	v, err := kv.Get(string(c.Args.Bytes(abi.PKey)))
	if err != nil {
		return err
	}
	c.Args.SetBytes(abi.PValue, v)
	return nil
}

func (s *Supervisor) nsDelete(c *Call) error {
	kv, _, err := lookupArg[keyedStore](s, c)
	if err != nil {
		return err
	}
	return kv.Delete(string(c.Args.Bytes(abi.PKey)))
}

// nsItems encodes every entry as u32 key length, key, u32 value length,
// value.
func (s *Supervisor) nsItems(c *Call) error {
	o, _, err := lookupArg[ipc.Object](s, c)
	if err != nil {
		return err
	}
	var entries []ipc.Item
	switch v := o.(type) {
	case keyedStore:
		entries = v.Items()
	case *ipc.List:
		for _, x := range v.Items() {
			entries = append(entries, ipc.Item{Value: x})
		}
	default:
		return fail(abi.EBADH, "handle %d is a %s", c.Args.Handle(abi.PHandle), o.Kind())
	}
	var b []byte
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Value)))
		b = append(b, e.Value...)
	}
	c.Args.SetBytes(abi.PItems, b)
	return nil
}

func (s *Supervisor) nsLen(c *Call) error {
	o, _, err := lookupArg[ipc.Object](s, c)
	if err != nil {
		return err
	}
	var n int
	switch v := o.(type) {
	case *ipc.Namespace:
		n = len(v.Names())
	case *ipc.Dict:
		n = v.Len()
	case *ipc.List:
		n = v.Len()
	default:
		return fail(abi.EBADH, "handle %d is a %s", c.Args.Handle(abi.PHandle), o.Kind())
	}
	c.Args.SetInt(abi.PLen, int64(n))
	return nil
}

func (s *Supervisor) listAppend(c *Call) error {
	l, _, err := lookupArg[*ipc.List](s, c)
	if err != nil {
		return err
	}
	l.Append(c.Args.Bytes(abi.PValue))
	return nil
}

func (s *Supervisor) listGet(c *Call) error {
	l, _, err := lookupArg[*ipc.List](s, c)
	if err != nil {
		return err
	}
	v, err := l.Get(int(c.Args.Int(abi.PIndex)))
	if err != nil {
		return err
	}
	c.Args.SetBytes(abi.PValue, v)
	return nil
}

func (s *Supervisor) listSet(c *Call) error {
	l, _, err := lookupArg[*ipc.List](s, c)
	if err != nil {
		return err
	}
	return l.Set(int(c.Args.Int(abi.PIndex)), c.Args.Bytes(abi.PValue))
}

func (s *Supervisor) listPop(c *Call) error {
	l, _, err := lookupArg[*ipc.List](s, c)
	if err != nil {
		return err
	}
	v, size, err := l.PopLimit(int(c.Args.Int(abi.PIndex)), c.Args.Cap(abi.PValue))
	return c.received(abi.PValue, v, size, err)
}
