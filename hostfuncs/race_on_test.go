//go:build race

package hostfuncs_test

// raceOn: the race detector is on, and sync.Pool drops some of what it is
// given back (to find misuse), so allocation counts mean nothing.
const raceOn = true
