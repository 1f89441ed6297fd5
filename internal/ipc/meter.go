package ipc

import "sync/atomic"

// Meter counts the bytes objects hold: messages buffered in pipes and
// queues, keys and values of manager objects, each with ItemOverhead for
// the memory that holds it, so that a bound on bytes bounds the number of
// items too (a queue of empty messages is not free). The host shares one
// Meter among every object of a run (SetMeter) to bound them together; an
// object without one counts nothing.
type Meter struct{ n atomic.Int64 }

// ItemOverhead is what one message, key or list item costs the host
// besides its bytes (a slice header, an allocation, a map entry), as the
// Meter counts it.
const ItemOverhead = 64

// Bytes is what the objects of the meter hold now.
func (m *Meter) Bytes() int64 { return m.n.Load() }

// Hold counts one message more that the host holds on the objects'
// behalf outside them (the large messages of a direct pipe or queue, the
// messages it writes into a direct queue's socket): its bytes and
// ItemOverhead. Free uncounts one.
func (m *Meter) Hold(msg []byte) { m.add(ItemOverhead + len(msg)) }

// Free uncounts a message Hold counted.
func (m *Meter) Free(msg []byte) { m.add(-ItemOverhead - len(msg)) }

func (m *Meter) add(d int) {
	if m != nil && d != 0 {
		m.n.Add(int64(d))
	}
}

// Metered is an object that holds bytes on behalf of processes.
type Metered interface {
	Object
	// SetMeter makes the object count what it holds on m, from now on
	// (call it before the object is used).
	SetMeter(m *Meter)
}

var (
	_ Metered = (*Pipe)(nil)
	_ Metered = (*Queue)(nil)
	_ Metered = (*Namespace)(nil)
	_ Metered = (*Dict)(nil)
	_ Metered = (*List)(nil)
)

// SetMeter implements Metered.
func (p *Pipe) SetMeter(m *Meter) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	p.buf[0].meter, p.buf[1].meter = m, m
}

// SetMeter implements Metered.
func (q *Queue) SetMeter(m *Meter) {
	q.m.mu.Lock()
	defer q.m.mu.Unlock()
	q.items.meter = m
}

// SetMeter implements Metered.
func (n *Namespace) SetMeter(m *Meter) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attrs.meter = m
}

// SetMeter implements Metered.
func (d *Dict) SetMeter(m *Meter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m.meter = m
}

// SetMeter implements Metered.
func (l *List) SetMeter(m *Meter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.meter = m
}
