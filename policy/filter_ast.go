package policy

import "strings"

// The $filter syntax tree. Printing a tree gives the normalized filter sent to Graph;
// parsing that output gives the same tree back, so normalization is idempotent.

type fnode interface {
	write(b *strings.Builder)
	depth() int
	terms() int
}

// boolNode is a chain of two or more operands joined by "and" or "or". Chains of the
// same operator are flattened, so an "and" never has an "and" operand, nor "or" an "or".
type boolNode struct {
	op   string // "and" or "or"
	kids []fnode
}

type notNode struct{ kid fnode }

// cmpNode is "field eq|ne literal".
type cmpNode struct {
	field string
	op    string // "eq" or "ne"
	str   string
	isStr bool // false: boolean literal in b
	b     bool
}

// inNode is "field in ('a','b')".
type inNode struct {
	field string
	list  []string
}

// startsNode is "startswith(field,'prefix')".
type startsNode struct {
	field  string
	prefix string
}

func (n *boolNode) write(b *strings.Builder) {
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" " + n.op + " ")
		}
		if inner, ok := k.(*boolNode); ok && n.op == "and" && inner.op == "or" {
			b.WriteByte('(')
			k.write(b)
			b.WriteByte(')')
			continue
		}
		k.write(b)
	}
}

func (n *notNode) write(b *strings.Builder) {
	if _, ok := n.kid.(*startsNode); ok {
		b.WriteString("not ")
		n.kid.write(b)
		return
	}
	b.WriteString("not (")
	n.kid.write(b)
	b.WriteByte(')')
}

func (n *cmpNode) write(b *strings.Builder) {
	b.WriteString(n.field + " " + n.op + " ")
	switch {
	case n.isStr:
		quoteLiteral(b, n.str)
	case n.b:
		b.WriteString("true")
	default:
		b.WriteString("false")
	}
}

func (n *inNode) write(b *strings.Builder) {
	b.WriteString(n.field + " in (")
	for i, s := range n.list {
		if i > 0 {
			b.WriteByte(',')
		}
		quoteLiteral(b, s)
	}
	b.WriteByte(')')
}

func (n *startsNode) write(b *strings.Builder) {
	b.WriteString("startswith(" + n.field + ",")
	quoteLiteral(b, n.prefix)
	b.WriteByte(')')
}

func (n *boolNode) depth() int {
	d := 0
	for _, k := range n.kids {
		d = max(d, k.depth())
	}
	return d + 1
}

func (n *notNode) depth() int    { return n.kid.depth() + 1 }
func (n *cmpNode) depth() int    { return 0 }
func (n *inNode) depth() int     { return 0 }
func (n *startsNode) depth() int { return 0 }

func (n *boolNode) terms() int {
	t := 0
	for _, k := range n.kids {
		t += k.terms()
	}
	return t
}

func (n *notNode) terms() int    { return n.kid.terms() }
func (n *cmpNode) terms() int    { return 1 }
func (n *inNode) terms() int     { return 1 }
func (n *startsNode) terms() int { return 1 }

// render prints a tree.
func render(n fnode) string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}
