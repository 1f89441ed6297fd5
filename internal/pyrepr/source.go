package pyrepr

import "embed"

// Source is the package's own source, *.go, for building guests outside
// this repository: package internal/build writes it beside the Go guest
// SDK, which imports this package (as internal/abi's Source).
//
//go:embed *.go
var Source embed.FS
