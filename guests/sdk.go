// Package guests holds the source of the Go guest SDK, so that the sandbox
// can build a guest anywhere, without a copy of this repository: package
// internal/build writes SDK (with internal/abi's Source) into a private
// module tree and builds a student's folder against it.
//
// The example guests themselves are main packages in the folders below;
// this package holds no code of theirs.
package guests

import "embed"

// SDK is the source of package mp, the Go guest SDK, as mp/*.go: its test
// files are included and left out by whoever writes the tree.
//
//go:embed mp/*.go
var SDK embed.FS
