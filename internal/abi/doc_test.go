package abi

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readDoc returns docs/ABI.md with every run of white space made one
// space, so that a signature wrapped over two lines still matches.
func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// TestDocSignatures: docs/ABI.md documents every import with the
// parameters the table gives it.
func TestDocSignatures(t *testing.T) {
	doc := readDoc(t)
	for _, s := range Ops() {
		if !strings.Contains(doc, "`"+s.Signature()) {
			t.Errorf("docs/ABI.md does not document `%s`", s.Signature())
		}
	}
	// And documents no import the table does not have (of the families
	// of imports; Python functions are named too).
	family := regexp.MustCompile("`((?:proc|pipe|conn|queue|barrier|lock|event|cond|ns|list)_[a-z_]+)\\(")
	for _, m := range family.FindAllStringSubmatch(doc, -1) {
		if ByName(m[1]) == nil {
			t.Errorf("docs/ABI.md documents %s, which the ABI does not have", m[1])
		}
	}
}

var errnoRow = regexp.MustCompile("^\\| (\\d+) \\| `([A-Z0-9]+)` \\| (.*) \\|$")

// TestDocErrnos: the errno table of docs/ABI.md is the table here, value,
// name and meaning.
func TestDocErrnos(t *testing.T) {
	b, err := os.ReadFile("../../docs/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		m := errnoRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		v, _ := strconv.Atoi(m[1])
		e := Errno(v)
		if !e.Known() || e.String() != m[2] || e.Text() != m[3] {
			t.Errorf("docs/ABI.md has errno %s = %s (%q); the ABI has %s (%q)", m[1], m[2], m[3], e, e.Text())
		}
	}
	if rows != len(Errnos()) {
		t.Errorf("docs/ABI.md lists %d errnos, the ABI has %d", rows, len(Errnos()))
	}
}
