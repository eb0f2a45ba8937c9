package emulator

import (
	"fmt"
	"strings"
)

// pred is a compiled $filter or $search.
type pred func(u *User) bool

// maxOrClauses is how many children an OR (or the values of an in) may have without
// advanced query parameters. Graph documents "When using the "in" operator, the request
// is limited to 15 expressions in the filter clause by default OR a URL length of 2,048
// characters when using advanced query capabilities"
// (https://developer.microsoft.com/graph/known-issues/?search=13635) and answers
// Request_UnsupportedQuery "Too many child clauses specified in search filter expression
// containing 'OR' operators: 18. Max allowed: 15.".
const maxOrClauses = 15

// fexpr is a compiled sub-expression; width counts its OR children (the values of an in
// count one each), 1 for anything that is not an OR.
type fexpr struct {
	f     pred
	width int
}

// filterParser is a recursive-descent parser for the $filter Graph supports on users:
//
//	or         = and { "or" and }
//	and        = unary { "and" unary }
//	unary      = "not" unary | "(" or ")" | fn "(" prop "," string ")" | comparison
//	comparison = prop ("eq"|"ne"|"ge"|"le") literal | prop "in" "(" literal {"," literal} ")"
//
// Which operator works on which property, and when only in advanced queries, is in
// filter_props.go. Keywords are accepted in any case, as Graph does.
type filterParser struct {
	toks     []string
	pos      int
	advanced bool
}

// parseFilter compiles a $filter expression; advanced reports whether the request has
// the advanced query parameters (ConsistencyLevel: eventual and $count=true).
func parseFilter(s string, advanced bool) (pred, *queryError) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, advanced: advanced}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, badRequest("Invalid filter clause: unexpected '" + p.toks[p.pos] + "'.")
	}
	return e.f, nil
}

// lexFilter splits a filter into identifiers, 'string' literals and punctuation.
func lexFilter(s string) ([]string, *queryError) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return nil, badRequest(fmt.Sprintf("There is an unterminated string literal at position %d in '%s'.", i, s))
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) expect(t string) *queryError {
	if got := p.next(); got != t {
		return badRequest("Invalid filter clause: expected '" + t + "', found '" + got + "'.")
	}
	return nil
}

// checkOr refuses an OR wider than Graph allows without advanced query parameters.
func (p *filterParser) checkOr(width int) *queryError {
	if !p.advanced && width > maxOrClauses {
		return unsupported(fmt.Sprintf("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d.", width, maxOrClauses))
	}
	return nil
}

func (p *filterParser) or() (fexpr, *queryError) {
	left, err := p.and()
	if err != nil || !strings.EqualFold(p.peek(), "or") {
		return left, err
	}
	fs, width := []pred{left.f}, left.width
	for strings.EqualFold(p.peek(), "or") {
		p.next()
		right, err := p.and()
		if err != nil {
			return fexpr{}, err
		}
		fs, width = append(fs, right.f), width+right.width
	}
	if err := p.checkOr(width); err != nil {
		return fexpr{}, err
	}
	return fexpr{anyOf(fs), width}, nil
}

// anyOf is the disjunction of fs.
func anyOf(fs []pred) pred {
	return func(u *User) bool {
		for _, f := range fs {
			if f(u) {
				return true
			}
		}
		return false
	}
}

func (p *filterParser) and() (fexpr, *queryError) {
	left, err := p.unary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var right fexpr
		if right, err = p.unary(); err == nil {
			l, r := left.f, right.f
			left = fexpr{func(u *User) bool { return l(u) && r(u) }, 1}
		}
	}
	return left, err
}

func (p *filterParser) unary() (fexpr, *queryError) {
	switch t := p.peek(); {
	case t == "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return fexpr{}, err
		}
		return e, p.expect(")")
	case strings.EqualFold(t, "not"):
		if !p.advanced {
			return fexpr{}, needsAdvanced("not")
		}
		p.next()
		e, err := p.unary()
		if err != nil {
			return fexpr{}, err
		}
		return fexpr{func(u *User) bool { return !e.f(u) }, 1}, nil
	case p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "(" && !strings.Contains(t, "/"):
		f, err := p.function()
		return fexpr{f, 1}, err
	}
	return p.comparison()
}

// property resolves a property name for filtering. A lambda on a collection
// (businessPhones/any(...)) is refused: the emulator implements none.
func (p *filterParser) property() (prop, *queryError) {
	name := p.next()
	base, _, lambda := strings.Cut(name, "/")
	pr, ok := userProps[strings.ToLower(base)]
	switch {
	case !ok:
		return prop{}, unknownProp(base)
	case lambda || (pr.str == nil && pr.when == nil && pr.name != "accountEnabled"):
		return prop{}, unsupportedFilter(pr.name)
	}
	return pr, nil
}

// allow checks that op may be used on pr in this query.
func (p *filterParser) allow(pr prop, op string) *queryError {
	switch opLevel(pr.name, op) {
	case unsupportedOp:
		return unsupportedFilter(pr.name)
	case advancedOnly:
		if !p.advanced {
			if op == "null" {
				op = "eq"
			}
			return needsAdvanced(op)
		}
	}
	return nil
}

// function parses startsWith(prop,'x') and endsWith(prop,'x').
func (p *filterParser) function() (pred, *queryError) {
	var fn string
	switch name := p.next(); {
	case strings.EqualFold(name, "startswith"):
		fn = "startsWith"
	case strings.EqualFold(name, "endswith"):
		fn = "endsWith"
	default:
		return nil, badRequest("An unknown function with name '" + name + "' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.")
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	pr, err := p.property()
	if err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if pr.str == nil || lit.kind != litString {
		return nil, unsupportedFilter(pr.name)
	}
	if err := p.allow(pr, fn); err != nil {
		return nil, err
	}
	want := strings.ToLower(lit.s)
	if fn == "endsWith" {
		return func(u *User) bool { return strings.HasSuffix(strings.ToLower(pr.str(u)), want) }, nil
	}
	return func(u *User) bool { return strings.HasPrefix(strings.ToLower(pr.str(u)), want) }, nil
}

// comparison parses "prop eq|ne|ge|le literal" and "prop in (literals)".
func (p *filterParser) comparison() (fexpr, *queryError) {
	pr, err := p.property()
	if err != nil {
		return fexpr{}, err
	}
	op := strings.ToLower(p.next())
	if op == "in" {
		return p.in(pr)
	}
	lit, err := p.literal()
	if err != nil {
		return fexpr{}, err
	}
	if op != "eq" && op != "ne" && op != "ge" && op != "le" {
		if op == "gt" || op == "lt" {
			return fexpr{}, unsupportedFilter(pr.name)
		}
		return fexpr{}, badRequest("Invalid filter clause: unknown operator '" + op + "'.")
	}
	if err := p.allowCmp(pr, op, lit.kind == litNull); err != nil {
		return fexpr{}, err
	}
	f, qerr := compare(pr, op, lit)
	return fexpr{f, 1}, qerr
}

// in parses the literal list of "prop in (...)".
func (p *filterParser) in(pr prop) (fexpr, *queryError) {
	if err := p.allow(pr, "in"); err != nil {
		return fexpr{}, err
	}
	if err := p.expect("("); err != nil {
		return fexpr{}, err
	}
	var fs []pred
	for {
		lit, err := p.literal()
		if err != nil {
			return fexpr{}, err
		}
		f, err := compare(pr, "eq", lit)
		if err != nil {
			return fexpr{}, err
		}
		fs = append(fs, f)
		if t := p.next(); t == ")" {
			break
		} else if t != "," {
			return fexpr{}, badRequest("Invalid filter clause: expected ',' or ')' in 'in' list.")
		}
	}
	if err := p.checkOr(len(fs)); err != nil {
		return fexpr{}, err
	}
	return fexpr{anyOf(fs), len(fs)}, nil
}
