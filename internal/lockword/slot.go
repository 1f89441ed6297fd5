package lockword

import (
	"sync/atomic"
	"unsafe"
)

// SlotSize is the bytes of one lock in the memory the host shares with
// the runners: its word, then an RLock's recursion level.
const SlotSize = 8

// Slot returns the word and the level of the lock whose slot begins at
// off in mem (off a multiple of SlotSize, the slot inside mem).
func Slot(mem []byte, off int) (word, level *atomic.Uint32) {
	s := mem[off : off+SlotSize]
	return (*atomic.Uint32)(unsafe.Pointer(&s[0])), (*atomic.Uint32)(unsafe.Pointer(&s[4]))
}
