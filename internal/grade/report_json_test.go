package grade

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReportJSONRoundTrip(t *testing.T) {
	want := repClass()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatalf("ReadJSON of WriteJSON's output: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the report read back differs from the one written:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestReportJSONIsReadable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, repClass()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"{\n  \"version\": 1,\n", // indented, version first
		`<55> & \"quoted\" ]]>`,  // HTML characters as they are
		`\u0000`,                 // a NUL escaped, still valid JSON
		"ünïcödé ✓ 日本語",          // unicode as it is
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the JSON report lacks %q", want)
		}
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("the JSON report does not end with a newline: %q", out[max(0, len(out)-20):])
	}
}

func TestReadJSONRefuses(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version bool // the error wraps ErrReportVersion
	}{
		{"a newer version", `{"version": 2, "spec": "s.yaml", "submissions": [], "max_score": 0}`, true},
		{"no version", `{"spec": "s.yaml", "submissions": []}`, true},
		{"not JSON", `version: 1`, false},
		{"a truncated report", `{"version": 1, "submissions": [`, false},
		{"data after the report", `{"version": 1, "submissions": []} {"version": 1}`, false},
		{"a wrong type", `{"version": 1, "max_score": "ten"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadJSON(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadJSON(%s) = %+v, want an error", tt.in, r)
			}
			if got := errors.Is(err, ErrReportVersion); got != tt.version {
				t.Errorf("ReadJSON(%s): errors.Is(%v, ErrReportVersion) = %v, want %v", tt.in, err, got, tt.version)
			}
		})
	}
}
