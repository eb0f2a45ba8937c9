// Package scan finds personal values in files, in every form a leak takes: plain text
// (case-insensitive, in NFC and NFD), percent-, JSON-, HTML- and \x-escaped, base64
// (also wrapped in lines), base64url and hex encoded, as unkeyed SHA-256, SHA-1 and MD5
// digests, and nested (a JWT in a JSON-escaped log line, base64 of JSON holding an
// escaped name); in a tree, in the names of files and directories too.
//
// It decodes the data rather than encoding the values, so any mix of escaped and
// unescaped characters is caught and no encoding can defeat its one word rule: a value
// shorter than WordLen counts only where it stands as a word in the decoded text
// ("%22Ines%22" and "hello\nInes" hold "Ines", "goroutines" does not), a longer one
// counts anywhere ("xAdele VanceX" holds "Adele Vance"). Text is scanned line by line;
// binary data (SQLite pages, write-ahead logs, dumps) is scanned as runs of printable
// text with every form, and as raw bytes for long values and raw digests. A block is
// binary when more than 1 % of it is control characters, NUL or bytes that are not
// UTF-8, so a stray byte does not make a log binary.
package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// MinLen is the shortest value accepted, in bytes: shorter values match innocent text.
const MinLen = 4

// WordLen is the length, in bytes, from which a text value counts wherever it occurs.
// A shorter one (a four-letter given name) counts only where it stands as a word, after
// decoding: inside longer words and random tokens it turns up by chance ("Ines" in
// "goroutines", "Alex" in a base64 id).
const WordLen = 8

// ErrTooShort is wrapped by the errors of ReadValues and New for a value shorter than
// MinLen.
var ErrTooShort = fmt.Errorf("value shorter than %d bytes (a canary user's values should be distinctive: short ones match innocent text)", MinLen)

// Value is one personal value to look for.
type Value struct {
	// Label names the value in reports, e.g. "value 3" or "displayName of user 7".
	Label string
	// Text is the value's bytes: usually UTF-8 text; it may be binary, e.g. a chunk of
	// a photo.
	Text []byte
}

// Masked returns the value with all but its first character replaced by '*', so that a
// report does not repeat the personal value it found. Binary values show their length.
func (v Value) Masked() string {
	if !isText(v.Text) {
		return fmt.Sprintf("%d bytes", len(v.Text))
	}
	return maskText(string(v.Text))
}

// ErrNotText is wrapped by the errors of ReadValues for a values file that is not UTF-8
// text.
var ErrNotText = errors.New("not UTF-8 text (save the values file as UTF-8)")

// ReadValues reads one value per line (UTF-8, with or without a byte-order mark, lines
// ending in LF or CRLF; surrounding white space is trimmed and blank lines are skipped)
// and labels each "value N" after its line number. It refuses a value shorter than
// MinLen, and a file that is not UTF-8 text (UTF-16, a NUL byte, a line that is not
// valid UTF-8), naming the line.
func ReadValues(r io.Reader) ([]Value, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(2); bytes.Equal(bom, []byte{0xFF, 0xFE}) || bytes.Equal(bom, []byte{0xFE, 0xFF}) {
		return nil, fmt.Errorf("scan: a UTF-16 byte-order mark: %w", ErrNotText)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []Value
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		switch {
		case bytes.IndexByte(line, 0) >= 0:
			return nil, fmt.Errorf("scan: line %d: a NUL byte: %w", n, ErrNotText)
		case !utf8.Valid(line):
			return nil, fmt.Errorf("scan: line %d: invalid UTF-8 (Latin-1?): %w", n, ErrNotText)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		v := Value{Label: fmt.Sprintf("value %d", n), Text: bytes.Clone(line)}
		if _, _, err := needlesFor(0, v); err != nil {
			return nil, fmt.Errorf("scan: line %d: %w", n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan: read values: %w", err)
	}
	return out, nil
}

// Finding is one value found in one form at one place.
type Finding struct {
	// Where is the file (or the name given to Bytes) holding the value.
	Where string
	// Offset is the byte offset (0-based) in Where at which the value, in its encoded
	// form, starts; in its last element when InName is set.
	Offset int64
	// InName is set when the value is in the name of the file or directory Where (the
	// names under a directory that Tree scans), not in its content.
	InName bool
	// Form is how the value was written, outermost encoding first: "plain",
	// "percent-encoded", "base64url > JSON-escaped", "SHA-256 (hex)", "file name",
	// "file name > percent-encoded", ...
	Form string
	// Value is the value found.
	Value Value
	// shown is Where with the values it holds masked (see Scanner.MaskPath), when the
	// scanner made the finding.
	shown string
}

// MaskedWhere returns Where with every element that holds a value masked, as
// Scanner.MaskPath does; Where itself for a finding the scanner did not make.
func (f Finding) MaskedWhere() string {
	if f.shown != "" {
		return f.shown
	}
	return f.Where
}

// String describes the finding as "WHERE:OFFSET: LABEL (MASK) as FORM", or "WHERE: LABEL
// (MASK) as FORM" for a value in a name, with the value masked, and the values in
// WHERE too.
func (f Finding) String() string {
	if f.InName {
		return fmt.Sprintf("%s: %s (%s) as %s", f.MaskedWhere(), f.Value.Label, f.Value.Masked(), f.Form)
	}
	return fmt.Sprintf("%s:%d: %s (%s) as %s", f.MaskedWhere(), f.Offset, f.Value.Label, f.Value.Masked(), f.Form)
}

// Scanner looks for a fixed set of values. It is safe for concurrent use.
type Scanner struct {
	values  []Value
	text    *index // lower-cased text forms, searched in lower-cased views
	exact   *index // raw digests and binary values, searched in decoded views as they are
	long    *index // text forms of at least longLen bytes, searched in raw binary data
	minLen  int    // the shortest needle
	minText int    // the shortest text needle
	maxText int    // the longest text needle
	maxLen  int    // the longest needle
	// overlap is how far consecutive blocks and pieces of a long line overlap: more than
	// the longest needle in any encoding.
	overlap int
}

// longLen is the shortest text value searched for in raw binary data, where short
// values would match random bytes by chance.
const longLen = 8

// New builds a scanner for the values. It refuses a value shorter than MinLen.
func New(values []Value) (*Scanner, error) {
	if len(values) == 0 {
		return nil, errors.New("scan: no values to look for")
	}
	var text, exact, long []needle
	for i, v := range values {
		t, e, err := needlesFor(i, v)
		if err != nil {
			return nil, fmt.Errorf("scan: %s: %w", v.Label, err)
		}
		text, exact = append(text, t...), append(exact, e...)
		for _, n := range t {
			if len(n.b) >= longLen {
				long = append(long, n)
			}
		}
	}
	s := &Scanner{values: values, text: newIndex(text), exact: newIndex(exact), long: newIndex(long), minLen: 1 << 30}
	s.minText = s.minLen
	for _, n := range text {
		s.minText, s.maxText = min(s.minText, len(n.b)), max(s.maxText, len(n.b))
	}
	for _, n := range append(text, exact...) {
		s.minLen, s.maxLen = min(s.minLen, len(n.b)), max(s.maxLen, len(n.b))
	}
	s.overlap = max(64<<10, 32*s.maxLen)
	return s, nil
}

// isText reports whether b is UTF-8 text without control characters other than tab.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r != '\t' && unicode.IsControl(r) {
			return false
		}
	}
	return true
}
