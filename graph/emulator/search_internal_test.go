package emulator

import (
	"slices"
	"testing"
)

// TestSearchTokens checks the tokenization examples Graph documents:
// https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections
func TestSearchTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"hello world", []string{"hello", "world"}},
		{"HelloWorld", []string{"hello", "world"}},
		{"helloWORLD", []string{"hello", "world"}},
		{"HELLOworld", []string{"helloworld"}},
		{"HelloWORld", []string{"hello", "world"}},
		{"hello.world", []string{"hello", ".", "world", "helloworld"}},
		{"hello123world", []string{"hello", "123", "world"}},
		{"李四(David Li)", []string{"李四", "(", "david", "李四david", "li", ")", "li"}},
		{"Delacroix-Byrne", []string{"delacroix", "-", "byrne", "delacroixbyrne"}},
		{"Inès", []string{"inès"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := searchTokens(tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("searchTokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
