package proxy

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
)

// peopleMatch reports whether a people search text (folded with foldSearch) matches the
// user by one of the properties the app may see: a word of a name, or the whole name,
// starting with the text, or an address starting with it. This is the
// People API's documented match ("people whose displayName or emailAddress has a word
// that begins with" the text, https://learn.microsoft.com/graph/people-insights-overview#search-people)
// without its fuzzy part, applied to what the caller may see: Graph's own match may
// rest on properties the caller may not see.
func peopleMatch(u graph.User, text string, ps policy.PeopleSearch) bool {
	for _, f := range ps.Addresses {
		if v, _ := u[f].(string); v != "" && strings.HasPrefix(foldSearch(v), text) {
			return true
		}
	}
	for _, f := range ps.Names {
		v, _ := u[f].(string)
		if v == "" {
			continue
		}
		v = foldSearch(v)
		if strings.HasPrefix(v, text) {
			return true
		}
		for _, w := range strings.FieldsFunc(v, notWordRune) {
			if strings.HasPrefix(w, text) {
				return true
			}
		}
	}
	return false
}

// notWordRune separates the words of a name.
func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// unaccented spells letters that do not decompose in Unicode the way a person types them
// without accents.
var unaccented = strings.NewReplacer("ø", "o", "æ", "ae", "œ", "oe", "ß", "ss", "đ", "d", "ł", "l", "ı", "i")

// foldSearch lower-cases s and removes accents (NFD, then combining marks dropped), so
// that "soren" finds "Søren" and "ines" finds "Inès".
func foldSearch(s string) string {
	s = unaccented.Replace(strings.ToLower(s))
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
