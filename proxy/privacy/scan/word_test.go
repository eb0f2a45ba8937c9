package scan_test

import (
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/privacy/scan"
)

// TestShortValuesStandAsWords checks the one word rule: a value shorter than
// scan.WordLen counts where it stands as a word after decoding (so no encoding hides
// it), not inside longer words and random tokens; a longer value counts anywhere.
func TestShortValuesStandAsWords(t *testing.T) {
	s, err := scan.New([]scan.Value{{Label: "value 1", Text: []byte("Ines")}, {Label: "value 2", Text: []byte("Adele Vance")}})
	if err != nil {
		t.Fatal(err)
	}
	tok, at := jwt(`{"name":"Ines","tid":"t"}`)
	tests := []struct {
		name, data string
		want       []want
	}{
		{"inside a longer word", "# HELP go_goroutines Number of goroutines that currently exist.\n", nil},
		{"inside a random token", `{"request_id":"q8ZInes0x7Tb"}` + "\n", nil},
		{"a word in a log line", `{"msg":"hello Ines!"}` + "\n", []want{{1, "plain", 14}}},
		{"percent-encoded between letters", "$search=%22displayName%3AInes%22\n", []want{{1, "percent-encoded", 25}}},
		{"JSON-escaped", `{"q":"\u0049nes"}` + "\n", []want{{1, "JSON-escaped", 6}}},
		{"in a JWT", tok + "\n", []want{{1, "base64url", at + b64at(9)}}},
		{"long value inside a word", "xAdele VanceX\n", []want{{2, "plain", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, s.Bytes("test", []byte(tc.data)), tc.want...)
		})
	}
}

// TestEscapedWordBoundaries: a decoded line break, form feed or tab is a word boundary;
// around a decoded byte the word rule still sees the letters next to it, also where
// the needle is the longest one (the window searched around a change is just as long).
func TestEscapedWordBoundaries(t *testing.T) {
	s, err := scan.New([]scan.Value{{Label: "value 1", Text: []byte("Ines")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data string
		want       []want
	}{
		{"after a JSON-escaped line feed", `msg="hello\nInes"` + "\n", []want{{1, "JSON-escaped", 12}}},
		{"after a JSON-escaped carriage return", `msg="\rInes"` + "\n", []want{{1, "JSON-escaped", 7}}},
		{"after a JSON-escaped \\u000a", `msg="\u000aInes"` + "\n", []want{{1, "JSON-escaped", 11}}},
		{"after a JSON-escaped form feed", `msg="\fInes"` + "\n", []want{{1, "JSON-escaped", 7}}},
		{"after a JSON-escaped tab", `msg="\tInes"` + "\n", []want{{1, "JSON-escaped", 7}}},
		{"after a percent-encoded line feed", "q=hello%0AInes\n", []want{{1, "percent-encoded", 10}}},
		{"before a JSON-escaped line feed", `msg="Ines\nhello"` + "\n", []want{{1, "plain", 5}}},
		{"a word ending in an escape", "q=goroutine%73\n", nil},
		{"an escape starting a word", "q=%49nesxyz\n", nil},
		{"an escape inside a word", "q=gorout%69nes\n", nil},
		{"an escape ending a word after a letter", "q=øIne%73\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, s.Bytes("test", []byte(tc.data)), tc.want...)
		})
	}
}

// TestStrayBytes: a stray byte (a Latin-1 "é", a NUL) or a hole of NUL bytes left by log
// rotation does not make a log binary, where short values would count inside words.
func TestStrayBytes(t *testing.T) {
	s, err := scan.New([]scan.Value{{Label: "value 1", Text: []byte("Ines")}})
	if err != nil {
		t.Fatal(err)
	}
	logLine := "level=info msg=\"started 12 goroutines\"\n"
	hole := strings.Repeat("\x00", 100<<10)
	lines := strings.Repeat(logLine, (4<<20)/len(logLine))
	tests := []struct {
		name, data string
		want       []want
	}{
		{"a Latin-1 byte", "msg=\"caf\xe9\"\n" + logLine, nil},
		{"a NUL byte", "msg=\"a\x00b\"\n" + logLine, nil},
		{"a Latin-1 byte and a NUL in 4 MB", "caf\xe9\x00\n" + lines, nil},
		{"a hole of NUL bytes", hole + logLine + logLine, nil},
		{"a word after a hole", hole + logLine + "msg=\"hello Ines\"\n", []want{{1, "plain", len(hole) + len(logLine) + 11}}},
		{"a word after a Latin-1 byte", "caf\xe9 " + logLine + "Ines\n", []want{{1, "plain", 5 + len(logLine)}}},
		{"binary: a record", "\x01\x02\x03\x04\x05\x06\x07\x08xInesx\x00", []want{{1, "plain", 9}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, s.Bytes("test", []byte(tc.data)), tc.want...)
		})
	}
}
