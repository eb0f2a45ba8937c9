package emulator

import (
	"strings"
)

// pred is a compiled $filter.
type pred func(u *User) bool

// filterParser is a recursive-descent parser for the $filter subset Graph supports on
// users without advanced queries (plus ne/endswith/not with advanced queries).
type filterParser struct {
	toks     []string
	pos      int
	advanced bool
}

// parseFilter compiles a $filter expression.
func parseFilter(s string, advanced bool) (pred, *queryError) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, advanced: advanced}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, badRequest("Invalid filter clause: unexpected '" + p.toks[p.pos] + "'.")
	}
	return f, nil
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
				return nil, badRequest("Invalid filter clause: unterminated string literal.")
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

func (p *filterParser) or() (pred, *queryError) {
	left, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		var right pred
		if right, err = p.and(); err == nil {
			l := left
			left = func(u *User) bool { return l(u) || right(u) }
		}
	}
	return left, err
}

func (p *filterParser) and() (pred, *queryError) {
	left, err := p.unary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var right pred
		if right, err = p.unary(); err == nil {
			l := left
			left = func(u *User) bool { return l(u) && right(u) }
		}
	}
	return left, err
}

func (p *filterParser) unary() (pred, *queryError) {
	switch t := p.peek(); {
	case t == "(":
		p.next()
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	case strings.EqualFold(t, "not"):
		if !p.advanced {
			return nil, unsupported("Unsupported query: 'not' requires advanced query capabilities (ConsistencyLevel: eventual and $count=true).")
		}
		p.next()
		f, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(u *User) bool { return !f(u) }, nil
	case strings.EqualFold(t, "startswith") || strings.EqualFold(t, "endswith"):
		return p.function()
	}
	return p.comparison()
}

// property resolves a property name for filtering.
func (p *filterParser) property() (prop, *queryError) {
	name := p.next()
	pr, ok := userProps[strings.ToLower(name)]
	if !ok {
		return prop{}, unknownProp(name)
	}
	if !pr.filter && pr.name != "accountEnabled" {
		return prop{}, unsupported("Unsupported or invalid query filter clause specified for property '" + pr.name + "' of resource 'User'.")
	}
	return pr, nil
}

// function parses startswith(prop,'x') and endswith(prop,'x').
func (p *filterParser) function() (pred, *queryError) {
	fn := strings.ToLower(p.next())
	if err := p.expect("("); err != nil {
		return nil, err
	}
	pr, err := p.property()
	if err != nil {
		return nil, err
	}
	if pr.str == nil || pr.name == "id" || (fn == "endswith" && !p.advanced) {
		return nil, unsupported("Unsupported or invalid query filter clause specified for property '" + pr.name + "' of resource 'User'.")
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	lit, err := p.stringLiteral()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	lit = strings.ToLower(lit)
	if fn == "endswith" {
		return func(u *User) bool { return strings.HasSuffix(strings.ToLower(pr.str(u)), lit) }, nil
	}
	return func(u *User) bool { return strings.HasPrefix(strings.ToLower(pr.str(u)), lit) }, nil
}

// stringLiteral consumes a 'quoted' literal.
func (p *filterParser) stringLiteral() (string, *queryError) {
	t := p.next()
	if len(t) < 2 || t[0] != '\'' {
		return "", badRequest("Invalid filter clause: expected a string literal, found '" + t + "'.")
	}
	return strings.ReplaceAll(t[1:len(t)-1], "''", "'"), nil
}

// comparison parses "prop eq|ne literal" and "prop in ('a','b')".
func (p *filterParser) comparison() (pred, *queryError) {
	pr, err := p.property()
	if err != nil {
		return nil, err
	}
	op := strings.ToLower(p.next())
	switch {
	case op == "in" && pr.str != nil:
		return p.in(pr)
	case op == "ne" && !p.advanced:
		return nil, unsupported("Unsupported query: 'ne' requires advanced query capabilities (ConsistencyLevel: eventual and $count=true).")
	case op != "eq" && op != "ne":
		return nil, unsupported("Unsupported or invalid query filter clause specified for property '" + pr.name + "' of resource 'User'.")
	}
	var f pred
	if pr.name == "accountEnabled" {
		v := strings.ToLower(p.next())
		if v != "true" && v != "false" {
			return nil, badRequest("Invalid filter clause: accountEnabled compares with true or false.")
		}
		want := v == "true"
		f = func(u *User) bool { return u.AccountEnabled == want }
	} else {
		lit, err := p.stringLiteral()
		if err != nil {
			return nil, err
		}
		f = func(u *User) bool { return strings.EqualFold(pr.str(u), lit) }
	}
	if op == "ne" {
		g := f
		f = func(u *User) bool { return !g(u) }
	}
	return f, nil
}

// in parses the literal list of "prop in (...)".
func (p *filterParser) in(pr prop) (pred, *queryError) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for {
		lit, err := p.stringLiteral()
		if err != nil {
			return nil, err
		}
		set[strings.ToLower(lit)] = true
		if t := p.next(); t == ")" {
			break
		} else if t != "," {
			return nil, badRequest("Invalid filter clause: expected ',' or ')' in 'in' list.")
		}
	}
	if len(set) > 15 {
		return nil, badRequest("Too many values in 'in' clause: Graph allows at most 15.")
	}
	return func(u *User) bool { return set[strings.ToLower(pr.str(u))] }, nil
}
