package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the tokenizer shared by the $filter parser. It knows identifiers,
// OData string literals ('' escapes a quote), parentheses and commas; anything else is
// refused with a message that never echoes caller-supplied literal text.

type tokKind int

const (
	tkEOF tokKind = iota
	tkIdent
	tkString
	tkLParen
	tkRParen
	tkComma
)

type token struct {
	kind tokKind
	val  string // identifier text, or the decoded string literal
	pos  int    // 1-based byte offset
}

const (
	maxIdentLen   = 64
	maxLiteralLen = 256
)

// lex splits s into tokens, ending with a tkEOF token.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			toks = append(toks, token{kind: tkLParen, pos: i + 1})
			i++
		case c == ')':
			toks = append(toks, token{kind: tkRParen, pos: i + 1})
			i++
		case c == ',':
			toks = append(toks, token{kind: tkComma, pos: i + 1})
			i++
		case c == '\'':
			val, n, err := lexString(s[i:], i+1)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tkString, val: val, pos: i + 1})
			i += n
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			if j-i > maxIdentLen {
				return nil, &QueryError{Pos: i + 1, Msg: "name is too long"}
			}
			toks = append(toks, token{kind: tkIdent, val: s[i:j], pos: i + 1})
			i = j
		default:
			return nil, unexpectedChar(s, i)
		}
	}
	return append(toks, token{kind: tkEOF, pos: len(s) + 1}), nil
}

// lexString reads the string literal at the start of s (which begins with a quote) and
// returns its decoded value and its length in bytes. pos is the 1-based offset of s.
func lexString(s string, pos int) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "", 0, &QueryError{Pos: pos + i, Msg: "string literal is not valid UTF-8"}
		case r == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i += 2
		case r == '\'':
			if b.Len() > maxLiteralLen {
				return "", 0, &QueryError{Pos: pos, Msg: "string literal is too long"}
			}
			return b.String(), i + 1, nil
		case badRune(r):
			return "", 0, &QueryError{Pos: pos + i, Msg: "string literal contains a control character"}
		default:
			b.WriteRune(r)
			i += size
		}
	}
	return "", 0, &QueryError{Pos: pos, Msg: "unterminated string literal: a quote inside a string is written ''"}
}

// unexpectedChar explains why the byte at s[i] cannot start a token.
func unexpectedChar(s string, i int) error {
	c := s[i]
	switch {
	case c == '/' || c == ':':
		return &QueryError{Pos: i + 1, Msg: "lambda operators (any, all) and property paths with '/' are not supported"}
	case c >= '0' && c <= '9' || c == '-' || c == '+':
		return &QueryError{Pos: i + 1, Msg: "number and date literals are not supported"}
	case c == '"':
		return &QueryError{Pos: i + 1, Msg: "string literals use single quotes in $filter"}
	case c < 0x20 || c == 0x7f:
		return &QueryError{Pos: i + 1, Msg: "control characters are not allowed"}
	}
	return &QueryError{Pos: i + 1, Msg: "unexpected character"}
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9'
}

// quoteLiteral writes s as an OData string literal.
func quoteLiteral(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}

// badRune reports whether r may not appear in a literal or search term: control
// characters, line and paragraph separators and the replacement character.
func badRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == utf8.RuneError
}
