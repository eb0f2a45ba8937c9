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
