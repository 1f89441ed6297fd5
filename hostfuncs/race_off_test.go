//go:build !race

package hostfuncs_test

const raceOn = false
