package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The $search grammar on users, as Graph documents it for directory objects
// (https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections):
// "$search="clause1" [AND | OR] "[clauseX]". Any number of clauses is supported.
// Parentheses for precedence is also supported."; each clause is "<property>:<text to
// search>" inside double quotes, where a double quote or backslash "should be escaped
// with a backslash"; "Logical AND and OR operators must be put outside double quotes
// and they must be in upper case". graph/emulator/search.go follows the same page.
//
//	expr    = and { "OR" and }
//	and     = primary { "AND" primary }
//	primary = clause | "(" expr ")"
//	clause  = '"' prop ":" term '"'
//
// AND binds tighter than OR. prop is a property Graph can search (searchFields), matched
// case-insensitively; term is non-empty text without control characters, with \" and
// \\ for a double quote and a backslash (another backslash is itself).
//
// A clause on a property the caller may not see is dropped when it is an operand of an
// OR that keeps a visible operand: every operator here is monotone, so the remaining
// query finds a subset of what the caller asked for and its answer does not depend on
// the hidden property at all. Anything else that names a hidden property (a clause
// joined by AND, a whole search of hidden clauses) is refused.

// Limits on $search: graphgate's own, against abuse; Graph documents none.
const (
	maxSearchLen  = 2048 // bytes
	maxSearchNest = 32   // nested parentheses
)

// searchFields are the supported properties Graph's $search accepts on users: "Any
// property that can be used in $filter can also be used inside $search" and "Any field
// of String type can be put in $search" (the page above; graph/emulator/filter_props.go
// holds the $filter table).
var searchFields = map[string]bool{
	"id": true, "displayName": true, "givenName": true, "surname": true, "jobTitle": true,
	"department": true, "mail": true, "userPrincipalName": true, "mobilePhone": true,
	"officeLocation": true, "preferredLanguage": true, "companyName": true, "city": true,
	"country": true, "employeeId": true, "usageLocation": true,
}

// snode is a node of a parsed $search: an AND or OR of kids, or a clause.
type snode struct {
	op   string   // "AND", "OR", or "" for a clause
	kids []*snode // operands of op
	prop string   // a clause's property, canonical casing
	term string   // a clause's decoded search text
	num  int      // a clause's 1-based number, for messages
}

// CheckSearch validates a $search value against the grammar above and the properties the
// client may see (of its own user if self, else of others: a directory search concerns
// others). It returns the normalized search to send to Graph ("" for an empty value) and
// the hidden properties of the OR operands it dropped, sorted, which the caller reports
// as withheld. Errors match ErrInvalidQuery and never repeat the search terms.
func (c *Client) CheckSearch(raw string, self bool) (string, []string, error) {
	if c == nil {
		return "", nil, &QueryError{Msg: "unknown client app"}
	}
	if strings.TrimSpace(raw) == "" {
		return "", nil, nil
	}
	if len(raw) > maxSearchLen {
		return "", nil, &QueryError{Msg: fmt.Sprintf("$search is longer than %d bytes", maxSearchLen)}
	}
	tree, err := parseSearch(raw)
	if err != nil {
		return "", nil, err
	}
	dropped := map[string]bool{}
	kept, hidden, err := c.prune(tree, self, dropped)
	if err != nil {
		return "", nil, err
	}
	if kept == nil {
		return "", nil, &QueryError{Msg: fmt.Sprintf("clause %d: property '%s' is not visible to client %q, nor is any property of the other clauses",
			hidden.num, hidden.prop, c.Name)}
	}
	var b strings.Builder
	kept.render(&b, false)
	var withheld []string
	if len(dropped) > 0 {
		withheld = sortedSet(dropped)
	}
	return b.String(), withheld, nil
}

// prune removes the hidden operands of ORs from n and records their properties in
// dropped. It returns nil and the first hidden clause when nothing of n is visible, and
// an error when a hidden clause cannot be dropped (an operand of AND).
func (c *Client) prune(n *snode, self bool, dropped map[string]bool) (*snode, *snode, error) {
	if n.op == "" {
		if c.visible(n.prop, self) {
			return n, nil, nil
		}
		return nil, n, nil
	}
	out := &snode{op: n.op}
	var firstHidden *snode
	var gone []string
	for _, k := range n.kids {
		kept, hidden, err := c.prune(k, self, dropped)
		switch {
		case err != nil:
			return nil, nil, err
		case kept == nil && n.op == "AND":
			return nil, nil, &QueryError{Msg: fmt.Sprintf("clause %d: property '%s' is not visible to client %q, and a clause joined by AND cannot be left out",
				hidden.num, hidden.prop, c.Name)}
		case kept == nil:
			if firstHidden == nil {
				firstHidden = hidden
			}
			gone = append(gone, hiddenProps(k)...)
		default:
			out.kids = append(out.kids, kept)
		}
	}
	switch len(out.kids) {
	case 0:
		return nil, firstHidden, nil
	case 1:
		out = out.kids[0]
	}
	for _, f := range gone {
		dropped[f] = true
	}
	return out, nil, nil
}

// hiddenProps lists the properties of the clauses under n (all hidden when n was pruned
// away as a whole).
func hiddenProps(n *snode) []string {
	if n.op == "" {
		return []string{n.prop}
	}
	var out []string
	for _, k := range n.kids {
		out = append(out, hiddenProps(k)...)
	}
	return out
}

// render writes n in normalized form: clauses with canonical property names and
// escaped terms, operators in upper case, an OR inside an AND in parentheses.
func (n *snode) render(b *strings.Builder, inAnd bool) {
	if n.op == "" {
		b.WriteString(`"` + n.prop + ":")
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n.term))
		b.WriteByte('"')
		return
	}
	paren := inAnd && n.op == "OR"
	if paren {
		b.WriteByte('(')
	}
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" " + n.op + " ")
		}
		k.render(b, n.op == "AND")
	}
	if paren {
		b.WriteByte(')')
	}
}

// checkTerm validates a decoded search term.
func checkTerm(term string) error {
	switch {
	case strings.TrimSpace(term) == "":
		return fmt.Errorf("the search term is empty")
	case !utf8.ValidString(term):
		return fmt.Errorf("the search term is not valid UTF-8")
	}
	for _, r := range term {
		if badRune(r) {
			return fmt.Errorf("the search term contains a control character")
		}
	}
	return nil
}

// scanner is a cursor over a $search value.
type scanner struct {
	src string
	i   int
}

func (s *scanner) done() bool { return s.i >= len(s.src) }

func (s *scanner) skipSpace() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}
