package host

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestQueueSocketGrows: the first message a runner hands the host makes
// the queue's socket hold grownSocket, charged to the sockets' half of
// --max-ipc, once; with no room there, the socket stays as it was and
// nothing is charged.
func TestQueueSocketGrows(t *testing.T) {
	granted, ok := grantedSendBuffer(grownSocket)
	if !ok {
		t.Skip("net.core.wmem_max cannot be read")
	}
	tests := []struct {
		name string
		// maxIPC is --max-ipc for a socket holding sndbuf that grows to
		// granted.
		maxIPC func(sndbuf, granted int) int64
		grows  bool
	}{
		{"room", func(int, int) int64 { return 256 << 20 }, true},
		{"no limit", func(int, int) int64 { return 0 }, true},
		{"no room", func(sndbuf, granted int) int64 { return int64(sndbuf + granted) }, false}, // (half of it is less than granted)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, _, sndbuf, err := selfSocket()
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(fd)
			maxIPC := tt.maxIPC(sndbuf, granted)
			s := &Supervisor{cfg: Config{MaxIPCBytes: maxIPC}}
			charge, ok := s.chargeSockets(int64(sndbuf))
			if !ok || granted <= sndbuf {
				t.Skipf("this kernel's sockets hold %d bytes already (wmem_max grants %d)", sndbuf, granted)
			}
			qs := &queueSocket{fd: fd, sndbuf: sndbuf, charge: charge}
			qs.grow(s)
			now, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
			if err != nil {
				t.Fatal(err)
			}
			want := sndbuf
			if tt.grows {
				want = granted
			}
			if now != want || qs.sndbuf != want {
				t.Errorf("socket holds %d (queue says %d), want %d (was %d)", now, qs.sndbuf, want, sndbuf)
			}
			wantCharge := int64(0)
			if maxIPC > 0 {
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
