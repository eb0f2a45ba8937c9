package odata

import (
	"strings"

	"github.com/graphgate/graphgate/graph/spec"
)

// A people list's $filter, as graphgate serves it: comparisons of the person's type,
// joined by and/or with parentheses, as the People API documents them
// ("$filter=personType/class eq 'Person' and personType/subclass eq 'OrganizationUser'",
// https://learn.microsoft.com/graph/people-insights-overview#use-a-filter-to-limit-the-response):
//
//	expr    = and { "or" and }
//	and     = primary { "and" primary }
//	primary = "(" expr ")" | path "eq" string
//	path    = "personType/class" | "personType/subclass"
//
// Keywords and paths in any case; a string is single-quoted with '' for a quote.
// Microsoft Graph Toolkit writes "personType/class eq 'Person'and personType/subclass
// eq …" with no space after the quote, which Graph accepts: so does graphgate. Every
// person graphgate serves is a Person of subclass OrganizationUser, so a filter is
// evaluated once, to whether it keeps them. Filters on other properties are refused:
// graphgate would have to evaluate them on fields the caller may not see.

// maxPeopleFilterNest bounds nested parentheses.
const maxPeopleFilterNest = 32

// errPeopleFilter is the answer to any other $filter on people.
var errPeopleFilter = badRequest("Invalid $filter: on people, graphgate serves only comparisons " +
	"personType/class eq '…' and personType/subclass eq '…', joined by and/or.")

// peopleFilter parses a people $filter and reports whether it keeps organisation users.
func peopleFilter(raw string) (bool, error) {
	toks, ok := lexPeopleFilter(raw)
	if !ok {
		return false, errPeopleFilter
	}
	p := &pfParser{toks: toks}
	keep, ok := p.expr(0)
	if !ok || p.i != len(p.toks) {
		return false, errPeopleFilter
	}
	return keep, nil
}

// pfToken is a token of a people filter: a punctuation mark, a word or a string.
type pfToken struct {
	text  string
	isStr bool
}

// lexPeopleFilter splits a people filter into tokens.
func lexPeopleFilter(s string) ([]pfToken, bool) {
	var out []pfToken
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, pfToken{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			for i++; ; i++ {
				if i >= len(s) {
					return nil, false
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
			}
			out = append(out, pfToken{text: b.String(), isStr: true})
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' && s[j] != '\'' {
				j++
			}
			out = append(out, pfToken{text: s[i:j]})
			i = j
		}
	}
	return out, true
}

// pfParser is a recursive-descent parser over a people filter's tokens.
type pfParser struct {
	toks []pfToken
	i    int
}

// word reports whether the next token is the keyword w (any case) and consumes it.
func (p *pfParser) word(w string) bool {
	if p.i < len(p.toks) && !p.toks[p.i].isStr && strings.EqualFold(p.toks[p.i].text, w) {
		p.i++
		return true
	}
	return false
}

func (p *pfParser) expr(depth int) (bool, bool) {
	v, ok := p.and(depth)
	for ok && p.word("or") {
		var w bool
		w, ok = p.and(depth)
		v = v || w
	}
	return v, ok
}

func (p *pfParser) and(depth int) (bool, bool) {
	v, ok := p.primary(depth)
	for ok && p.word("and") {
		var w bool
		w, ok = p.primary(depth)
		v = v && w
	}
	return v, ok
}

func (p *pfParser) primary(depth int) (bool, bool) {
	if depth > maxPeopleFilterNest {
		return false, false
	}
	if p.word("(") {
		v, ok := p.expr(depth + 1)
		return v, ok && p.word(")")
	}
	if p.i+3 > len(p.toks) {
		return false, false
	}
	path, op, lit := p.toks[p.i], p.toks[p.i+1], p.toks[p.i+2]
	if path.isStr || op.isStr || !strings.EqualFold(op.text, "eq") || !lit.isStr {
		return false, false
	}
	p.i += 3
	switch {
	case strings.EqualFold(path.text, "personType/class"):
		return strings.EqualFold(lit.text, spec.PersonClassPerson), true
	case strings.EqualFold(path.text, "personType/subclass"):
		return strings.EqualFold(lit.text, spec.PersonOrganizationUser), true
	}
	return false, false
}
