//go:build !linux

package host

import (
	"errors"
	"time"
)

// socketPair: direct pipes are served on Linux only (the runner's side is
// there: runner/direct_linux.go).
func socketPair() ([2]int, int, int, error) {
	return [2]int{-1, -1}, 0, 0, errors.New("direct pipes need Linux")
}

func drain(int) {}

func dupFD(int) (int, error) { return -1, errors.New("direct pipes need Linux") }

func ready(int, bool) bool { return false }

func shutdown(int) {}

func setSendBuffer(int, int) error { return errors.New("direct queues need Linux") }

func grantedSendBuffer(int) (int, bool) { return 0, false }

func closeFD(int) {}

func selfSocket() (int, int, int, error) { return -1, 0, 0, errors.New("direct queues need Linux") }

const (
	sendOK = iota
	sendFull
	sendFailed
)

func sendNow(int, []byte) int { return sendFailed }

func waitWritable(int, time.Duration) {}

func runnable(int) bool { return false }
