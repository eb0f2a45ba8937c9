package emulator

import (
	"fmt"
	"strings"
	"unicode"
)

// $search on users, as Graph documents it for directory objects:
// https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections
//
//   - "Generic format: $search="clause1" [AND | OR] "[clauseX]". Any number of clauses is
//     supported. Parentheses for precedence is also supported."
//   - "The syntax for each clause is: "<property>:<text to search>"", and "The whole
//     clause must be declared inside double quotes. If it contains double quotes or
//     backslash, it should be escaped with a backslash."
//   - "Logical AND and OR operators must be put outside double quotes and they must be
//     in upper case." A lower-case and/or is not an operator, so it is a syntax error.
//   - "The tokenized search support works only on the displayName and description
//     fields. Any field of String type can be put in $search; fields other than
//     displayName and description default to $filter startsWith behavior."
//   - Tokens are extracted "using spaces, numbers, different casing, and symbols" and
//     "matched independently of the original casing, and ... in any order".
// Syntax errors use the OData URI parser's message and Graph's BadRequest code.

// searchParser is a recursive-descent parser for $search:
//
//	expr    = andExpr { "OR" andExpr }
//	andExpr = primary { "AND" primary }
//	primary = clause | "(" expr ")"
type searchParser struct {
	src string
	pos int
}

// parseSearch compiles a $search expression into a predicate.
func parseSearch(s string) (pred, *queryError) {
	p := &searchParser{src: s}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); p.pos < len(p.src) {
		return nil, p.syntaxError()
	}
	return f, nil
}

// syntaxError reports the character at the cursor as Microsoft.OData does.
func (p *searchParser) syntaxError() *queryError {
	if p.pos >= len(p.src) {
		return badRequest(fmt.Sprintf("Syntax error at position %d in '%s'.", len(p.src), p.src))
	}
	return badRequest(fmt.Sprintf("Syntax error: character '%c' is not valid at position %d in '%s'.", p.src[p.pos], p.pos, p.src))
}

func (p *searchParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// keyword consumes the upper-case operator kw if it comes next, as a whole word.
func (p *searchParser) keyword(kw string) bool {
	p.skipSpace()
	rest := p.src[p.pos:]
	if !strings.HasPrefix(rest, kw) {
		return false
	}
	if len(rest) > len(kw) && rest[len(kw)] != ' ' && rest[len(kw)] != '\t' && rest[len(kw)] != '"' && rest[len(kw)] != '(' {
		return false
	}
	p.pos += len(kw)
	return true
}

func (p *searchParser) or() (pred, *queryError) {
	left, err := p.and()
	for err == nil && p.keyword("OR") {
		var right pred
		if right, err = p.and(); err == nil {
			l := left
			left = func(u *User) bool { return l(u) || right(u) }
		}
	}
	return left, err
}

func (p *searchParser) and() (pred, *queryError) {
	left, err := p.primary()
	for err == nil && p.keyword("AND") {
		var right pred
		if right, err = p.primary(); err == nil {
			l := left
			left = func(u *User) bool { return l(u) && right(u) }
		}
	}
	return left, err
}

func (p *searchParser) primary() (pred, *queryError) {
	p.skipSpace()
	switch {
	case p.pos >= len(p.src):
		return nil, p.syntaxError()
	case p.src[p.pos] == '(':
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.skipSpace(); p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.syntaxError()
		}
		p.pos++
		return f, nil
	case p.src[p.pos] == '"':
		return p.clause()
	}
	return nil, p.syntaxError()
}

// clause reads one quoted "property:text" clause (with \" and \\ escapes).
func (p *searchParser) clause() (pred, *queryError) {
	start := p.pos
	var b strings.Builder
	for p.pos++; ; p.pos++ {
		if p.pos >= len(p.src) {
			p.pos = start
			return nil, badRequest(fmt.Sprintf("Unterminated string literal at %d in '%s'.", start, p.src))
		}
		c := p.src[p.pos]
		if c == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '"' || p.src[p.pos+1] == '\\') {
			p.pos++
			b.WriteByte(p.src[p.pos])
			continue
		}
		if c == '"' {
			p.pos++
			break
		}
		b.WriteByte(c)
	}
	return searchClause(b.String())
}

// searchClause compiles the text of one clause.
func searchClause(clause string) (pred, *queryError) {
	name, term, ok := strings.Cut(clause, ":")
	if !ok {
		// Assumed answer: Graph documents that the property "must be specified in the
		// clause" but not the error for a clause without one.
		return nil, badRequest("Invalid $search clause '" + clause + "': the syntax for each clause is \"<property>:<text to search>\".")
	}
	name = strings.TrimSpace(name)
	p, known := userProps[strings.ToLower(name)]
	switch {
	case !known:
		return nil, unknownProp(name)
	case !searchable(p):
		return nil, unsupportedFilter(p.name)
	case p.name == "displayName":
		want := searchTokens(term)
		return func(u *User) bool { return matchTokens(searchTokens(p.str(u)), want) }, nil
	}
	prefix := strings.ToLower(term)
	return func(u *User) bool { return strings.HasPrefix(strings.ToLower(p.str(u)), prefix) }, nil
}

// matchTokens reports whether every wanted token is a prefix of some token of the value:
// a search for "Guthr" finds "Guthrie", in any order and any casing.
func matchTokens(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.HasPrefix(h, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// searchTokens splits s into lower-case tokens as Graph's directory search does: at
// spaces; where the casing changes from lower to upper case ("HelloWorld" => hello,
// world; "HELLOworld" stays one token); between letters and numbers ("hello123world" =>
// hello, 123, world); and at symbols, each of which is a token of its own, with the
// words separated only by symbols also combined ("hello.world" => hello, ., world,
// helloworld).
func searchTokens(s string) []string {
	var out []string
	for _, word := range strings.Fields(s) {
		out = append(out, wordTokens(word)...)
	}
	return out
}

// wordTokens tokenizes a text without spaces (see searchTokens).
func wordTokens(word string) []string {
	var toks []string
	var cur, combined []rune
	symbols := false
	var prev rune
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range word {
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if len(cur) > 0 && (unicode.IsDigit(prev) || unicode.IsLower(prev) && unicode.IsUpper(r)) {
				flush()
			}
			cur, combined = append(cur, r), append(combined, r)
		case unicode.IsDigit(r):
			if len(cur) > 0 && !unicode.IsDigit(prev) {
				flush()
			}
			cur, combined = append(cur, r), append(combined, r)
		default:
			flush()
			toks = append(toks, string(r))
			symbols = true
		}
		prev = r
	}
	flush()
	if symbols && len(combined) > 0 {
		toks = append(toks, strings.ToLower(string(combined)))
	}
	return toks
}
