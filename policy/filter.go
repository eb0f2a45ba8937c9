package policy

import (
	"fmt"
	"strings"
)

// The $filter grammar (keywords and property names are case-insensitive):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" expr ")" | "startswith" "(" prop "," string ")" | cmp
//	cmp     = prop ("eq" | "ne") literal | prop "in" "(" string { "," string } ")"
//	literal = string | "true" | "false"
//
// Strings are OData literals in single quotes with '' for a quote. String properties
// compare with strings; the only boolean property, accountEnabled, may be used only as
// "accountEnabled eq true" (not negated), which the gateway adds to every list anyway.

// Limits on $filter.
const (
	maxFilterLen   = 2048 // bytes, of the input and of the normalized output
	maxFilterDepth = 8    // nesting of and/or/not in the syntax tree
	maxFilterTerms = 32   // comparisons
	maxInItems     = 15
	maxParseNest   = 64 // syntactic nesting, a guard for the recursive descent
)

// CheckFilter validates a $filter value against the grammar above and the properties the
// client may see of other users, and returns its normalized form, safe to send to Graph.
// An empty value gives "". Errors match ErrInvalidQuery.
func (c *Client) CheckFilter(raw string) (string, error) {
	if c == nil {
		return "", &QueryError{Msg: "unknown client app"}
	}
	if strings.TrimSpace(raw) == "" {
		return "", nil
	}
	n, _, err := parseFilter(raw, func(f string) bool { return c.visible(f, false) }, c.Name)
	if err != nil {
		return "", err
	}
	return render(n), nil
}

// parseFilter parses and checks a filter; it returns the tree and the sorted properties
// it references.
func parseFilter(raw string, visible func(string) bool, client string) (fnode, []string, error) {
	if len(raw) > maxFilterLen {
		return nil, nil, &QueryError{Msg: fmt.Sprintf("$filter is longer than %d bytes", maxFilterLen)}
	}
	toks, err := lex(raw)
	if err != nil {
		return nil, nil, err
	}
	p := &filterParser{toks: toks, visible: visible, client: client, fields: map[string]bool{}}
	n, err := p.expr()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, nil, &QueryError{Pos: t.pos, Msg: "expected 'and', 'or' or the end of the filter"}
	}
	switch {
	case n.depth() > maxFilterDepth:
		return nil, nil, &QueryError{Msg: fmt.Sprintf("$filter is nested more than %d levels deep", maxFilterDepth)}
	case n.terms() > maxFilterTerms:
		return nil, nil, &QueryError{Msg: fmt.Sprintf("$filter has more than %d comparisons", maxFilterTerms)}
	case len(render(n)) > maxFilterLen:
		return nil, nil, &QueryError{Msg: fmt.Sprintf("$filter is longer than %d bytes", maxFilterLen)}
	}
	return n, sortedSet(p.fields), nil
}

type filterParser struct {
	toks    []token
	i       int
	nest    int // current syntactic nesting
	neg     int // number of enclosing "not"s
	visible func(field string) bool
	client  string
	fields  map[string]bool // properties referenced
}

func (p *filterParser) peek() token { return p.toks[p.i] }

func (p *filterParser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the identifier kw (case-insensitively).
func (p *filterParser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tkIdent && strings.EqualFold(t.val, kw)
}

func (p *filterParser) expect(kind tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, &QueryError{Pos: t.pos, Msg: "expected " + what}
	}
	return t, nil
}

// expr parses an "or" chain; and parses an "and" chain. Both flatten nested chains of
// the same operator.
func (p *filterParser) expr() (fnode, error) { return p.chain("or", p.and) }
func (p *filterParser) and() (fnode, error)  { return p.chain("and", p.unary) }

func (p *filterParser) chain(op string, operand func() (fnode, error)) (fnode, error) {
	var kids []fnode
	for {
		n, err := operand()
		if err != nil {
			return nil, err
		}
		if b, ok := n.(*boolNode); ok && b.op == op {
			kids = append(kids, b.kids...)
		} else {
			kids = append(kids, n)
		}
		if !p.keyword(op) {
			break
		}
		p.next()
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &boolNode{op: op, kids: kids}, nil
}

func (p *filterParser) unary() (fnode, error) {
	if p.nest++; p.nest > maxParseNest {
		return nil, &QueryError{Pos: p.peek().pos, Msg: "$filter is nested too deeply"}
	}
	defer func() { p.nest-- }()
	t := p.peek()
	switch {
	case t.kind == tkLParen:
		p.next()
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen, "')'"); err != nil {
			return nil, err
		}
		return n, nil
	case t.kind == tkIdent && strings.EqualFold(t.val, "not"):
		p.next()
		p.neg++
		n, err := p.unary()
		p.neg--
		if err != nil {
			return nil, err
		}
		return &notNode{kid: n}, nil
	case t.kind == tkIdent && p.toks[p.i+1].kind == tkLParen:
		return p.function()
	case t.kind == tkIdent:
		return p.comparison()
	case t.kind == tkEOF:
		return nil, &QueryError{Pos: t.pos, Msg: "unexpected end of $filter"}
	}
	return nil, &QueryError{Pos: t.pos, Msg: "expected a comparison, startswith(...), 'not' or '('"}
}
