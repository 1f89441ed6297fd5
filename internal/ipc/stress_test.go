package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
)

const (
	stressProducers = 4
	stressConsumers = 4
	stressMessages  = 25_000 // per producer
)

func stressMsg(producer, seq int) []byte {
	return binary.BigEndian.AppendUint32([]byte{byte(producer)}, uint32(seq))
}

// stressConsumer holds the messages one consumer got, in order.
type stressConsumer struct {
	got [][]byte
}

// checkStress checks that every message arrived exactly once and that each
// consumer saw each producer's messages in order.
func checkStress(t *testing.T, consumers []*stressConsumer) {
	t.Helper()
	var seen [stressProducers][stressMessages]int
	for ci, c := range consumers {
		var last [stressProducers]int
		for i := range last {
			last[i] = -1
		}
		for _, m := range c.got {
			if len(m) != 5 {
				t.Fatalf("consumer %d: bad message %x", ci, m)
			}
			p, seq := int(m[0]), int(binary.BigEndian.Uint32(m[1:]))
			if seq <= last[p] {
				t.Fatalf("consumer %d: producer %d's message %d after %d", ci, p, seq, last[p])
			}
			last[p] = seq
			seen[p][seq]++
		}
	}
	for p := range seen {
		for seq, n := range seen[p] {
			if n != 1 {
				t.Fatalf("producer %d's message %d received %d times, want once", p, seq, n)
			}
		}
	}
}

func TestStressQueue(t *testing.T) {
	ctx := t.Context()
	q := NewQueue(64, false, 1)
	producers := make([]<-chan error, stressProducers)
	for p := range producers {
		producers[p] = async(func() error {
			for seq := range stressMessages {
				if err := q.Put(ctx, int32(10+p), stressMsg(p, seq), -1); err != nil {
					return err
				}
			}
			return nil
		})
	}
	consumers := make([]*stressConsumer, stressConsumers)
	done := make([]<-chan error, stressConsumers)
	for c := range consumers {
		consumers[c] = &stressConsumer{}
		done[c] = async(func() error {
			for {
				msg, err := q.Get(ctx, int32(20+c), -1)
				if err != nil {
					return err
				}
				if len(msg) == 0 { // stop
					return nil
				}
				consumers[c].got = append(consumers[c].got, msg)
			}
		})
	}
	for _, p := range producers {
		if err := await(t, "producer", p); err != nil {
			t.Fatal(err)
		}
	}
	for range stressConsumers {
		if err := q.Put(ctx, 1, nil, -1); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range done {
		if err := await(t, "consumer", c); err != nil {
			t.Fatal(err)
		}
	}
	checkStress(t, consumers)
}

// The same through one pipe: every producer holds the send end, every
// consumer the receive end, and consumers stop at EOF when the last
// producer has closed its copy.
func TestStressPipe(t *testing.T) {
	ctx := t.Context()
	const creator = 1
	p := NewPipe(false, creator)
	for i := range stressProducers {
		p.Inherit(creator, int32(10+i))
		if err := p.Close(int32(10+i), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range stressConsumers {
		p.Inherit(creator, int32(20+i))
		if err := p.Close(int32(20+i), 1); err != nil {
			t.Fatal(err)
		}
	}
	for end := range 2 {
		if err := p.Close(creator, end); err != nil {
			t.Fatal(err)
		}
	}
	producers := make([]<-chan error, stressProducers)
	for i := range producers {
		who := int32(10 + i)
		producers[i] = async(func() error {
			for seq := range stressMessages {
				if err := p.Send(context.Background(), who, 1, stressMsg(i, seq)); err != nil {
					return err
				}
			}
			return p.Close(who, 1)
		})
	}
	consumers := make([]*stressConsumer, stressConsumers)
	done := make([]<-chan error, stressConsumers)
	for i := range consumers {
		consumers[i] = &stressConsumer{}
		done[i] = async(func() error {
			for {
				msg, _, err := p.Recv(ctx, int32(20+i), 0, -1, 5)
				if errors.Is(err, ErrEOF) {
					return nil
				}
				if err != nil {
					return err
				}
				consumers[i].got = append(consumers[i].got, msg)
			}
		})
	}
	for _, c := range append(producers, done...) {
		if err := await(t, "producer or consumer", c); err != nil {
			t.Fatal(err)
		}
	}
	checkStress(t, consumers)
}
