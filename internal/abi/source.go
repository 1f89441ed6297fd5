package abi

import "embed"

// Source is the package's own source, *.go, for building guests outside
// this repository: package internal/build writes it beside the Go guest
// SDK, which imports this package. Test files and this file are included
// and left out by whoever writes the tree; a guest that does not use
// Source does not carry it (the linker drops an unused variable).
//
//go:embed *.go
var Source embed.FS
