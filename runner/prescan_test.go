package runner

import (
	"os"
	"strings"
	"testing"
)

// TestPrescanRefuses: modules whose declared counts or sizes do not fit in
// the bytes that follow are refused before wazero decodes them.
func TestPrescanRefuses(t *testing.T) {
	const hdr = "\x00asm\x01\x00\x00\x00"
	tests := []struct {
		name, bin, want string
	}{
		{"section larger than the module", hdr + "\x01\x7f\x00", "section 1 declares 127 bytes"},
		{"2^32 imports", hdr + "\x02\x05\xff\xff\xff\xff\x0f", "4294967295 entries declared"},
		{"a type with 2^31 parameters", hdr + "\x01\x07\x01\x60\xff\xff\xff\xff\x07", "2147483647 entries declared"},
		{"an export name longer than the section", hdr + "\x07\x04\x01\x7f\x61\x00", "127 entries declared"},
		{"too many locals", hdr + "\x0a\x0a\x01\x08\x01\xff\xff\xff\xff\x0f\x7f\x0b", "more than 50000 locals"},
		{"a data segment longer than the section", hdr + "\x0b\x07\x01\x01\xff\xff\x03\x00\x00", "65535 entries declared"},
		{"a number of six bytes", hdr + "\x01\x80\x80\x80\x80\x80\x01", "longer than 5 bytes"},
		{"a name subsection past its section", hdr + "\x00\x07\x04name\x01\x7f", "a name subsection declares 127 bytes"},
	}
	for _, tt := range tests {
		err := prescan([]byte(tt.bin))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: prescan = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

// TestPrescanAccepts: the guests of the repository, large Go modules with
// tens of thousands of data segments and a name section, pass.
func TestPrescanAccepts(t *testing.T) {
	// Built by the Makefile before the tests (make testguests guests).
	for _, dir := range []string{"internal/testguests/probe", "internal/testguests/ipc", "guests/hello_processes"} {
		bin, err := os.ReadFile("../" + dir + ".wasm")
		if err != nil {
			t.Fatalf("%v (build it with make testguests guests)", err)
		}
		if err := prescan(bin); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}
