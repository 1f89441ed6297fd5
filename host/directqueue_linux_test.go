package host

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestQueueSocketGrows: the first message a runner hands the host makes
// the queue's socket hold grownSocket, charged to the sockets' half of
// --max-ipc, once; with no room there, the socket stays as it was and
// nothing is charged.
func TestQueueSocketGrows(t *testing.T) {
	wmemMax := grownSocket
	if b, err := os.ReadFile("/proc/sys/net/core/wmem_max"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			wmemMax = n
		}
	}
	tests := []struct {
		name   string
		maxIPC int64
		grows  bool
	}{
		{"room", 256 << 20, true},
		{"no limit", 0, true},
		{"no room", 1 << 20, false}, // (half of it is less than 2 MiB)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, _, sndbuf, err := selfSocket()
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(fd)
			s := &Supervisor{cfg: Config{MaxIPCBytes: tt.maxIPC}}
			charge, ok := s.chargeSockets(int64(sndbuf))
			if !ok {
				t.Fatalf("the socket itself (%d bytes) is over the limit", sndbuf)
			}
			qs := &queueSocket{fd: fd, sndbuf: sndbuf, charge: charge}
			qs.grow(s)
			now, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
			if err != nil {
				t.Fatal(err)
			}
			want := sndbuf
			if tt.grows {
				want = 2 * min(grownSocket, wmemMax)
			}
			if now != want || qs.sndbuf != want {
				t.Errorf("socket holds %d (queue says %d), want %d (was %d)", now, qs.sndbuf, want, sndbuf)
			}
			wantCharge := int64(0)
			if tt.maxIPC > 0 {
				wantCharge = int64(qs.sndbuf)
			}
			if qs.charge != wantCharge || s.socketBytes.Load() != wantCharge {
				t.Errorf("charged %d (sockets %d), want %d", qs.charge, s.socketBytes.Load(), wantCharge)
			}
			qs.grow(s) // once
			if s.socketBytes.Load() != wantCharge {
				t.Errorf("a second grow charged %d more", s.socketBytes.Load()-wantCharge)
			}
		})
	}
}
