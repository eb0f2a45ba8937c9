package policy

import (
	"fmt"
	"strings"
)

// function parses startswith(prop,'str'); every other function is refused.
func (p *filterParser) function() (fnode, error) {
	name := p.next()
	if !strings.EqualFold(name.val, "startswith") {
		if f, ok := CanonicalField(name.val); ok {
			return nil, &QueryError{Pos: name.pos, Msg: fmt.Sprintf("expected eq, ne or in after property '%s'", f)}
		}
		return nil, &QueryError{Pos: name.pos, Msg: fmt.Sprintf("function '%s' is not supported; the only function is startswith", SafeIdent(name.val))}
	}
	p.next() // "("
	field, err := p.property()
	if err != nil {
		return nil, err
	}
	if typeOf(field) != typeString {
		return nil, &QueryError{Pos: name.pos, Msg: fmt.Sprintf("startswith needs a string property; '%s' is not one", field)}
	}
	if _, err := p.expect(tkComma, "',' after the property in startswith"); err != nil {
		return nil, err
	}
	s, err := p.expect(tkString, "a string literal in startswith")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tkRParen, "')' to close startswith"); err != nil {
		return nil, err
	}
	return &startsNode{field: field, prefix: s.val}, nil
}

// comparison parses "prop eq|ne literal" and "prop in (...)".
func (p *filterParser) comparison() (fnode, error) {
	start := p.peek()
	field, err := p.property()
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.kind != tkIdent {
		return nil, &QueryError{Pos: op.pos, Msg: fmt.Sprintf("expected eq, ne or in after property '%s'", field)}
	}
	switch strings.ToLower(op.val) {
	case "eq", "ne":
		return p.equality(start, field, strings.ToLower(op.val))
	case "in":
		return p.in(start, field)
	case "gt", "ge", "lt", "le", "has":
		return nil, &QueryError{Pos: op.pos, Msg: fmt.Sprintf("operator '%s' is not supported; use eq, ne, in or startswith", strings.ToLower(op.val))}
	}
	return nil, &QueryError{Pos: op.pos, Msg: fmt.Sprintf("expected eq, ne or in after property '%s'", field)}
}

func (p *filterParser) equality(start token, field, op string) (fnode, error) {
	lit := p.next()
	switch typeOf(field) {
	case typeString:
		if lit.kind != tkString {
			return nil, literalError(lit, field, "a string literal in single quotes")
		}
		return &cmpNode{field: field, op: op, str: lit.val, isStr: true}, nil
	case typeBool:
		if lit.kind != tkIdent || !(strings.EqualFold(lit.val, "true") || strings.EqualFold(lit.val, "false")) {
			return nil, literalError(lit, field, "true or false")
		}
		n := &cmpNode{field: field, op: op, b: strings.EqualFold(lit.val, "true")}
		if field == "accountEnabled" && (op != "eq" || !n.b || p.neg%2 == 1) {
			return nil, &QueryError{Pos: start.pos, Msg: "accountEnabled may only be used as 'accountEnabled eq true'"}
		}
		return n, nil
	}
	return nil, typeError(start, field)
}

func (p *filterParser) in(start token, field string) (fnode, error) {
	if typeOf(field) != typeString {
		return nil, typeError(start, field)
	}
	if _, err := p.expect(tkLParen, "'(' after in"); err != nil {
		return nil, err
	}
	n := &inNode{field: field}
	for {
		s, err := p.expect(tkString, "a string literal in the in list")
		if err != nil {
			return nil, err
		}
		if n.list = append(n.list, s.val); len(n.list) > maxInItems {
			return nil, &QueryError{Pos: s.pos, Msg: fmt.Sprintf("an in list may hold at most %d values", maxInItems)}
		}
		t := p.next()
		if t.kind == tkRParen {
			return n, nil
		}
		if t.kind != tkComma {
			return nil, &QueryError{Pos: t.pos, Msg: "expected ',' or ')' in the in list"}
		}
	}
}

// property reads a property name, canonicalizes it and checks the caller may see it.
func (p *filterParser) property() (string, error) {
	t := p.next()
	if t.kind != tkIdent {
		return "", &QueryError{Pos: t.pos, Msg: "expected a property name"}
	}
	f, ok := CanonicalField(t.val)
	if !ok {
		return "", &QueryError{Pos: t.pos, Msg: fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'", SafeIdent(t.val))}
	}
	if f != "accountEnabled" && !p.visible(f) {
		return "", &QueryError{Pos: t.pos, Msg: fmt.Sprintf("property '%s' is not visible to client %q", f, p.client)}
	}
	p.fields[f] = true
	return f, nil
}

func literalError(t token, field, want string) error {
	if t.kind == tkIdent && strings.EqualFold(t.val, "null") {
		return &QueryError{Pos: t.pos, Msg: "null literals are not supported"}
	}
	return &QueryError{Pos: t.pos, Msg: fmt.Sprintf("property '%s' must be compared with %s", field, want)}
}

func typeError(t token, field string) error {
	if typeOf(field) == typeCollection {
		return &QueryError{Pos: t.pos, Msg: fmt.Sprintf("property '%s' is a collection; lambda operators (any, all) are not supported", field)}
	}
	return &QueryError{Pos: t.pos, Msg: fmt.Sprintf("property '%s' cannot be used in $filter", field)}
}
