package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// litKind is the EDM type of a $filter literal.
type litKind uint8

const (
	litString litKind = iota
	litBool
	litNull
	litTime
	litNumber
)

// edm names a literal kind as OData error messages do.
var edm = map[litKind]string{litString: "Edm.String", litBool: "Edm.Boolean", litTime: "Edm.DateTimeOffset", litNumber: "Edm.Int32"}

// operatorKind names a comparison operator as OData error messages do.
var operatorKind = map[string]string{"eq": "Equal", "ne": "NotEqual", "ge": "GreaterThanOrEqual", "le": "LessThanOrEqual"}

// literal is a parsed $filter literal.
type literal struct {
	kind litKind
	s    string
	b    bool
	t    time.Time
}

// literal consumes a literal: 'string' (” for a quote), true, false, null, a
// DateTimeOffset (2024-01-31T08:00:00Z or a date) or a number.
func (p *filterParser) literal() (literal, *queryError) {
	t := p.next()
	switch {
	case t == "" || t == "(" || t == ")" || t == ",":
		return literal{}, badRequest("Invalid filter clause: expected a literal, found '" + t + "'.")
	case t[0] == '\'':
		return literal{kind: litString, s: strings.ReplaceAll(t[1:len(t)-1], "''", "'")}, nil
	case strings.EqualFold(t, "null"):
		return literal{kind: litNull}, nil
	case strings.EqualFold(t, "true") || strings.EqualFold(t, "false"):
		return literal{kind: litBool, b: strings.EqualFold(t, "true")}, nil
	}
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return literal{kind: litTime, t: ts}, nil
	}
	if ts, err := time.Parse(time.DateOnly, t); err == nil {
		return literal{kind: litTime, t: ts}, nil
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return literal{kind: litNumber, s: t}, nil
	}
	if _, ok := userProps[strings.ToLower(t)]; !ok {
		return literal{}, unknownProp(t)
	}
	// Comparing two properties: Graph's directory supports only literals.
	return literal{}, badRequest("Invalid filter clause: the right operand of a comparison must be a literal.")
}

// propKind returns the EDM type of a filterable property.
func propKind(pr prop) litKind {
	switch {
	case pr.str != nil:
		return litString
	case pr.when != nil:
		return litTime
	}
	return litBool
}

// compare compiles "pr op lit" (op eq, ne, ge or le; null only with eq and ne).
func compare(pr prop, op string, lit literal) (pred, *queryError) {
	kind := propKind(pr)
	if lit.kind != litNull && lit.kind != kind {
		return nil, badRequest(fmt.Sprintf("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.",
			edm[kind], edm[lit.kind], operatorKind[op]))
	}
	var cmp func(u *User) (int, bool) // ok=false: the user's value is null
	switch kind {
	case litString:
		want := strings.ToLower(lit.s)
		cmp = func(u *User) (int, bool) {
			v := pr.str(u)
			return strings.Compare(strings.ToLower(v), want), v != ""
		}
	case litTime:
		want := lit.t.UTC().Truncate(time.Second)
		cmp = func(u *User) (int, bool) {
			v := pr.when(u)
			return v.UTC().Truncate(time.Second).Compare(want), !v.IsZero()
		}
	default:
		cmp = func(u *User) (int, bool) {
			if u.AccountEnabled == lit.b {
				return 0, true
			}
			return 1, true
		}
	}
	if lit.kind == litNull {
		return func(u *User) bool { _, set := cmp(u); return set == (op == "ne") }, nil
	}
	return func(u *User) bool {
		c, set := cmp(u)
		switch op {
		case "eq":
			return set && c == 0
		case "ne":
			return !set || c != 0
		case "ge":
			return set && c >= 0
		}
		return set && c <= 0
	}, nil
}
