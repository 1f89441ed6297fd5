//go:build !wasip1

package mp

import (
	"errors"
	"io"
	"testing"
)

func TestReadBuffer(t *testing.T) {
	t.Run("fits", func(t *testing.T) {
		calls := 0
		got, err := readBuffer(8, func(buf []byte, size *uint32) errno {
			calls++
			return fill([]byte("abc"), buf, size)
		})
		if err != nil || string(got) != "abc" || calls != 1 {
			t.Errorf("got %q, %v after %d calls", got, err, calls)
		}
	})
	t.Run("grows", func(t *testing.T) {
		var lens []int
		got, err := readBuffer(2, func(buf []byte, size *uint32) errno {
			lens = append(lens, len(buf))
			return fill([]byte("abcdef"), buf, size)
		})
		if err != nil || string(got) != "abcdef" || len(lens) != 2 || lens[1] != 6 {
			t.Errorf("got %q, %v; buffer lengths %v", got, err, lens)
		}
	})
	t.Run("size query", func(t *testing.T) {
		got, err := readBuffer(0, func(buf []int32, size *uint32) errno {
			return fill([]int32{1, 2, 3}, buf, size)
		})
		if err != nil || len(got) != 3 || got[2] != 3 {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		got, err := readBuffer(0, func(buf []byte, size *uint32) errno {
			return fill(nil, buf, size)
		})
		if err != nil || len(got) != 0 {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("size keeps changing", func(t *testing.T) {
		data := []byte("x")
		got, err := readBuffer(1, func(buf []byte, size *uint32) errno {
			data = append(data, 'x') // renamed between every two calls, but settles
			if len(data) > 4 {
				data = data[:4]
			}
			return fill(data, buf, size)
		})
		if err != nil || string(got) != "xxxx" {
			t.Errorf("got %q, %v", got, err)
		}
	})
	t.Run("broken host", func(t *testing.T) {
		_, err := readBuffer(4, func(buf []byte, size *uint32) errno {
			*size = 2
			return errnoTooSmall
		})
		if !errors.Is(err, ErrTooSmall) {
			t.Errorf("err %v, want ErrTooSmall", err)
		}
		_, err = readBuffer(4, func(buf []byte, size *uint32) errno {
			*size = 9
			return errnoOK
		})
		if !errors.Is(err, ErrHost) {
			t.Errorf("err %v, want ErrHost", err)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := readBuffer(4, func(buf []byte, size *uint32) errno { return errnoBadHandle })
		if !errors.Is(err, ErrBadHandle) {
			t.Errorf("err %v, want ErrBadHandle", err)
		}
	})
}

func TestInfoRecord(t *testing.T) {
	in := procInfo{state: stateStopped, exitCode: -15, pid: 4242, ppid: 17, creator: 3, flags: flagDaemon}
	rec := encodeInfo(in)
	want := [infoSize]byte{
		2, 0, 0, 0,
		0xf1, 0xff, 0xff, 0xff,
		0x92, 0x10, 0, 0,
		17, 0, 0, 0,
		3, 0, 0, 0,
		1, 0, 0, 0,
	}
	if rec != want {
		t.Errorf("record % x\nwant   % x", rec, want)
	}
	if got := decodeInfo(&rec); got != in || !got.daemon() {
		t.Errorf("decoded %+v, want %+v", got, in)
	}
}

func TestErrno(t *testing.T) {
	tests := []struct {
		e    errno
		want error
	}{
		{errnoFault, ErrFault},
		{errnoInvalid, ErrInvalid},
		{errnoBadHandle, ErrBadHandle},
		{errnoTooSmall, ErrTooSmall},
		{errnoTimedOut, ErrTimeout},
		{errnoPerm, ErrPermission},
		{errnoState, ErrState},
		{errnoAgain, ErrLimit},
		{errnoIO, ErrHost},
		{errnoTooBig, ErrTooBig},
		{errnoEOF, ErrEOF},
		{errnoEOF, io.EOF},
		{errnoFull, ErrFull},
		{errnoEmpty, ErrEmpty},
		{errnoBroken, ErrBrokenBarrier},
		{errnoClosed, ErrClosed},
		{errnoNotOwner, ErrNotOwner},
		{errnoValue, ErrValue},
		{errnoNoKey, ErrNoKey},
		{errnoDirection, ErrDirection},
		{errnoBrokenPipe, ErrBrokenPipe},
		{errnoIndex, ErrIndex},
		{errno(22), ErrHost},
		{errno(1 << 20), ErrHost},
		{errnoNoSandbox, ErrHost},
	}
	for _, tt := range tests {
		if err := tt.e.err(); !errors.Is(err, tt.want) {
			t.Errorf("errno %d: %v, want %v", tt.e, err, tt.want)
		}
	}
	if errnoOK.err() != nil {
		t.Error("OK is an error")
	}
	const noSandbox = "host failure: not running in the sandbox (build with GOOS=wasip1 GOARCH=wasm and run with `sandbox run`)"
	if got := errnoNoSandbox.err().Error(); got != noSandbox {
		t.Errorf("outside the sandbox: %q, want %q", got, noSandbox)
	}
	err := opError(errnoAgain, "start", "Process-9", nil)
	if !errors.Is(err, ErrLimit) || err.Error() != "mp: start Process-9: limit of the run reached" {
		t.Errorf("opError: %v", err)
	}
}
