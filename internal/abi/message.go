package abi

// Message tags (docs/ABI.md, "Messages"). A message (what a pipe carries,
// a queue holds, a manager object stores) is opaque to the host; one that
// starts with a tag byte is a raw value of Python's own type, any other is
// JSON (or bytes a guest sent with conn_send as they are). No JSON text
// starts with a byte below 0x02.
const (
	TagBytes  byte = 0x00 // Python bytes (a Go []byte) follow, as they are
	TagString byte = 0x01 // a Python str (a Go string) follows, UTF-8
)

// Tagged reports whether a message is a tagged bytes or string value.
func Tagged(msg []byte) bool { return len(msg) > 0 && msg[0] <= TagString }
