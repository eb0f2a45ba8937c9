package scan_test

import (
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
