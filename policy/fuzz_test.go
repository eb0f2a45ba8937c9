package policy

import (
	"strings"
	"testing"
)

// FuzzCheckFilter checks that CheckFilter never panics, that every accepted filter is a
// fixed point of normalization, and that it references only properties the client may
// see of others (plus accountEnabled, only as "accountEnabled eq true").
func FuzzCheckFilter(f *testing.F) {
	for _, seed := range []string{
		"displayName eq 'a'",
		"displayName eq 'a' or mobilePhone eq 'x'",
		"startswith(displayName,'a') and not (jobTitle in ('x','y''z'))",
		"(mail eq 'a' or (department ne 'b' and accountEnabled eq true))",
		"not not startswith(mail,'')",
		"businessPhones/any(p:p eq '1')",
		"displayName eq 'Zoë 山田'",
		"((((((",
		"displayName eq '",
		"accountEnabled eq false",
	} {
		f.Add(seed)
	}
	c := testClient(f)
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := c.CheckFilter(raw)
		if err != nil {
			if out != "" {
				t.Fatalf("error with output %q", out)
			}
			return
		}
		if strings.TrimSpace(raw) == "" {
			return
		}
		n, _, err := parseFilter(out, func(f string) bool { return c.visible(f, false) }, c.Name)
		if err != nil {
			t.Fatalf("output %q of %q does not re-parse: %v", out, raw, err)
		}
		if again := render(n); again != out {
			t.Fatalf("not a fixed point: %q -> %q -> %q", raw, out, again)
		}
		// Independently of the parser: every identifier outside string literals that
		// names a property must be visible (accountEnabled only as "eq true").
		toks, err := lex(out)
		if err != nil {
			t.Fatalf("output %q does not lex: %v", out, err)
		}
		for i, tok := range toks {
			field, ok := CanonicalField(tok.val)
			if tok.kind != tkIdent || !ok {
				continue
			}
			if field == "accountEnabled" {
				if i+2 >= len(toks) || toks[i+1].val != "eq" || toks[i+2].val != "true" {
					t.Fatalf("%q uses accountEnabled other than eq true", out)
				}
				continue
			}
			if !c.visible(field, false) {
				t.Fatalf("%q references hidden field %s", out, field)
			}
		}
	})
}

// FuzzCheckSearch checks that CheckSearch never panics, that every accepted search is a
// fixed point of normalization naming only visible properties, that dropped properties
// are hidden ones, and that dropping only ever narrows: under any truth assignment of
// the clauses, the pruned search implies the original one.
func FuzzCheckSearch(f *testing.F) {
	for _, seed := range []string{
		`"displayName:x" OR "surname:x" OR "userPrincipalName:x"`,
		`"jobTitle:a" AND ("givenName:b" OR "mail:c")`,
		`("displayName:a" AND "mail:b") OR "surname:c"`,
		`"displayName:a\"b\\" OR ("mail:(" AND "department:)")`,
		`"displayName:a" or "mail:b"`,
		`((("mail:a"`,
	} {
		f.Add(seed)
	}
	c := testClient(f)
	f.Fuzz(func(t *testing.T, raw string) {
		out, withheld, err := c.CheckSearch(raw, false)
		if err != nil || strings.TrimSpace(raw) == "" {
			return
		}
		again, w, err := c.CheckSearch(out, false)
		if err != nil || again != out || w != nil {
			t.Fatalf("not a fixed point: %q -> %q -> %q, %v, %v", raw, out, again, w, err)
		}
		for _, p := range withheld {
			if c.visible(p, false) {
				t.Fatalf("%q: dropped visible property %s", raw, p)
			}
		}
		tree, _ := parseSearch(raw)
		pruned, _, err := c.prune(tree, false, map[string]bool{})
		if err != nil || pruned == nil {
			t.Fatalf("%q: prune = %v, %v", raw, pruned, err)
		}
		for seed := uint64(1); seed < 64; seed++ {
			assign := func(num int) bool { return (seed*2654435761>>uint(num%61))&1 == 1 }
			if evalSearch(pruned, assign) && !evalSearch(tree, assign) {
				t.Fatalf("%q: pruning widened the search", raw)
			}
		}
		checkVisible(t, c, pruned)
	})
}

// evalSearch evaluates a parsed search with clause truth values from assign.
func evalSearch(n *snode, assign func(num int) bool) bool {
	switch n.op {
	case "":
		return assign(n.num)
	case "AND":
		for _, k := range n.kids {
			if !evalSearch(k, assign) {
				return false
			}
		}
		return true
	}
	for _, k := range n.kids {
		if evalSearch(k, assign) {
			return true
		}
	}
	return false
}

// checkVisible fails if a clause of n names a property hidden from others.
func checkVisible(t *testing.T, c *Client, n *snode) {
	t.Helper()
	if n.op == "" && !c.visible(n.prop, false) {
		t.Fatalf("kept hidden property %s", n.prop)
	}
	for _, k := range n.kids {
		checkVisible(t, c, k)
	}
}
