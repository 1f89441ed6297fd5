package grade

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrReportVersion is wrapped by ReadJSON's error for a report of another
// schema version (or for JSON that is not a report at all).
var ErrReportVersion = errors.New("unsupported report version")

// WriteJSON writes the report as indented JSON: the format the shards of a
// graded class write and merge, and the one the other formats can be made
// again from. HTML characters are left as they are (the file is read by
// programs and people, not embedded in pages), so "<" in a student's
// output reads as "<".
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON. It refuses a report of
// another schema version (ErrReportVersion) rather than read it wrong, and
// anything after the report's object.
func ReadJSON(rd io.Reader) (*Report, error) {
	dec := json.NewDecoder(rd)
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read JSON report: %w", err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("read JSON report: %w: the file has version %d, this program reads version %d",
			ErrReportVersion, r.Version, ReportVersion)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read JSON report: unexpected data after the report")
	}
	return &r, nil
}
