package policy

import (
	"fmt"
	"strings"
)

// searchParser is a recursive-descent parser for the $search grammar of search.go. Its
// messages name positions, clause numbers, keywords and property names, never terms.
type searchParser struct {
	scanner
	clauses int // clauses read so far
	nest    int // open parentheses
}

// parseSearch parses a whole $search value into a tree whose clauses name known,
// searchable properties (visibility is checked later, by Client.prune).
func parseSearch(raw string) (*snode, error) {
	p := &searchParser{scanner: scanner{src: raw}}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); !p.done() {
		return nil, p.unexpected()
	}
	return n, nil
}

// expr parses an OR chain, and parses an AND chain; both flatten nested chains of the
// same operator.
func (p *searchParser) expr() (*snode, error) { return p.chain("OR", p.and) }
func (p *searchParser) and() (*snode, error)  { return p.chain("AND", p.primary) }

func (p *searchParser) chain(op string, operand func() (*snode, error)) (*snode, error) {
	var kids []*snode
	for {
		n, err := operand()
		if err != nil {
			return nil, err
		}
		if n.op == op {
			kids = append(kids, n.kids...)
		} else {
			kids = append(kids, n)
		}
		if !p.keyword(op) {
			break
		}
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &snode{op: op, kids: kids}, nil
}

// keyword consumes the operator kw if it comes next as a whole word, in upper case as
// Graph requires.
func (p *searchParser) keyword(kw string) bool {
	p.skipSpace()
	if !p.atWord(kw, false) {
		return false
	}
	p.i += len(kw)
	return true
}

// atWord reports whether the word w (case-insensitively if fold) starts at the cursor,
// followed by the end, a space, a double quote or a parenthesis.
func (p *searchParser) atWord(w string, fold bool) bool {
	rest := p.src[p.i:]
	if len(rest) < len(w) || !(rest[:len(w)] == w || fold && strings.EqualFold(rest[:len(w)], w)) {
		return false
	}
	if len(rest) == len(w) {
		return true
	}
	switch rest[len(w)] {
	case ' ', '\t', '"', '(', ')':
		return true
	}
	return false
}

func (p *searchParser) primary() (*snode, error) {
	p.skipSpace()
	switch {
	case p.done():
		return nil, &QueryError{Pos: p.i + 1, Msg: fmt.Sprintf(`expected clause %d, a double-quoted "property:term", at the end of $search`, p.clauses+1)}
	case p.src[p.i] == '(':
		if p.nest++; p.nest > maxSearchNest {
			return nil, &QueryError{Pos: p.i + 1, Msg: fmt.Sprintf("$search nests parentheses more than %d levels deep", maxSearchNest)}
		}
		open := p.i + 1
		p.i++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		switch p.skipSpace(); {
		case p.done():
			return nil, &QueryError{Pos: open, Msg: "this parenthesis is not closed"}
		case p.src[p.i] != ')':
			return nil, p.unexpected()
		}
		p.i++
		p.nest--
		return n, nil
	case p.src[p.i] == '"':
		return p.clause()
	}
	return nil, &QueryError{Pos: p.i + 1, Msg: fmt.Sprintf(`clause %d must be a double-quoted "property:term"`, p.clauses+1)}
}

// unexpected explains what stands where an operator or the end was expected.
func (p *searchParser) unexpected() error {
	pos := p.i + 1
	switch {
	case p.src[p.i] == ')':
		return &QueryError{Pos: pos, Msg: "this parenthesis closes none"}
	case p.atWord("AND", true) || p.atWord("OR", true) || p.atWord("NOT", true):
		return &QueryError{Pos: pos, Msg: "the operators of $search are AND and OR, in upper case"}
	}
	return &QueryError{Pos: pos, Msg: fmt.Sprintf("expected AND or OR after clause %d", p.clauses)}
}

// clause reads one double-quoted "property:term" clause, decoding \" and \\.
func (p *searchParser) clause() (*snode, error) {
	p.clauses++
	num, start := p.clauses, p.i+1
	var b strings.Builder
	for p.i++; ; p.i++ {
		if p.done() {
			return nil, &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d has no closing double quote", num)}
		}
		c := p.src[p.i]
		if c == '\\' && p.i+1 < len(p.src) && (p.src[p.i+1] == '"' || p.src[p.i+1] == '\\') {
			p.i++
			b.WriteByte(p.src[p.i])
			continue
		}
		if c == '"' {
			p.i++
			break
		}
		b.WriteByte(c)
	}
	name, term, ok := strings.Cut(b.String(), ":")
	if !ok {
		return nil, &QueryError{Pos: start, Msg: fmt.Sprintf(`clause %d must have the form "property:term"`, num)}
	}
	f, known := CanonicalField(strings.TrimSpace(name))
	switch {
	case !known:
		return nil, &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: unknown property", num)}
	case !searchFields[f]:
		return nil, &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: property '%s' cannot be searched", num, f)}
	}
	if err := checkTerm(term); err != nil {
		return nil, &QueryError{Pos: start, Msg: fmt.Sprintf("clause %d: %v", num, err)}
	}
	return &snode{prop: f, term: term, num: num}, nil
}
