package policy

import (
	"errors"
	"strings"
	"testing"
)

// The test client may see of others: displayName, jobTitle, mail, userPrincipalName,
// department, businessPhones, createdDateTime (and id). mobilePhone and surname are
// visible only on its own profile.

func TestCheckFilterAccepts(t *testing.T) {
	c := testClient(t)
	tests := []struct{ raw, want string }{
		{"displayName eq 'Ada'", "displayName eq 'Ada'"},
		{"  DISPLAYNAME   EQ   'Ada'  ", "displayName eq 'Ada'"},
		{"displayName ne 'a''b'", "displayName ne 'a''b'"},
		{"startswith(displayName,'Ad')", "startswith(displayName,'Ad')"},
		{"StartsWith( mail , 'ada@' )", "startswith(mail,'ada@')"},
		{"department in ('Sales','R&D')", "department in ('Sales','R&D')"},
		{"department in('Sales')", "department in ('Sales')"},
		{"id eq 'abc'", "id eq 'abc'"},
		{"id in ('a','b')", "id in ('a','b')"},
		{"accountEnabled eq true", "accountEnabled eq true"},
		{"accountEnabled eq TRUE and jobTitle eq 'x'", "accountEnabled eq true and jobTitle eq 'x'"},
		{"displayName eq 'a' or jobTitle eq 'b' and mail eq 'c'", "displayName eq 'a' or jobTitle eq 'b' and mail eq 'c'"},
		{"(displayName eq 'a' or jobTitle eq 'b') and mail eq 'c'", "(displayName eq 'a' or jobTitle eq 'b') and mail eq 'c'"},
		{"((displayName eq 'a'))", "displayName eq 'a'"},
		{"displayName eq 'a' and (jobTitle eq 'b' and mail eq 'c')", "displayName eq 'a' and jobTitle eq 'b' and mail eq 'c'"},
		{"(displayName eq 'a' and jobTitle eq 'b') or mail eq 'c'", "displayName eq 'a' and jobTitle eq 'b' or mail eq 'c'"},
		{"not startswith(displayName,'x')", "not startswith(displayName,'x')"},
		{"not(displayName eq 'x')", "not (displayName eq 'x')"},
		{"not displayName eq 'x'", "not (displayName eq 'x')"},
		{"not not (jobTitle eq 'x' or mail eq 'y')", "not (not (jobTitle eq 'x' or mail eq 'y'))"},
		{"displayName eq 'Zoë 山田 🙂'", "displayName eq 'Zoë 山田 🙂'"},
		{"displayName eq ''", "displayName eq ''"},
		{"displayName eq ')'' or mobilePhone eq ''x'", "displayName eq ')'' or mobilePhone eq ''x'"},
		{"", ""},
		{"   ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := c.CheckFilter(tt.raw)
			if err != nil || got != tt.want {
				t.Fatalf("CheckFilter = %q, %v; want %q", got, err, tt.want)
			}
			again, err := c.CheckFilter(got)
			if err != nil || again != got {
				t.Errorf("not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestCheckFilterRejects(t *testing.T) {
	c := testClient(t)
	long := "displayName eq '" + strings.Repeat("a", 300) + "'"
	many := strings.TrimSuffix(strings.Repeat("displayName eq 'a' or ", 40), " or ")
	deep := strings.Repeat("not (", 12) + "displayName eq 'a'" + strings.Repeat(")", 12)
	veryDeep := strings.Repeat("(", 100000) + "displayName eq 'a'" + strings.Repeat(")", 100000)
	tests := []struct{ name, raw, wantErr string }{
		{"hidden field injected with or", "displayName eq 'a' or mobilePhone eq 'x'", "property 'mobilePhone' is not visible to client \"chat-web\" (at position 23)"},
		{"self-only field", "surname eq 'x'", "property 'surname' is not visible"},
		{"hidden field in startswith", "startswith(mobilePhone,'+49')", "property 'mobilePhone' is not visible"},
		{"hidden field in in", "mobilePhone in ('1')", "property 'mobilePhone' is not visible"},
		{"internal field", "signInSessionsValidFromDateTime eq 'x'", "property 'signInSessionsValidFromDateTime' is not visible"},
		{"unknown property", "salary eq '1'", "Could not find a property named 'salary'"},
		{"accountEnabled false", "accountEnabled eq false", "accountEnabled may only be used as 'accountEnabled eq true'"},
		{"accountEnabled ne", "accountEnabled ne true", "accountEnabled may only be used"},
		{"accountEnabled negated", "not (accountEnabled eq true)", "accountEnabled may only be used"},
		{"accountEnabled with string", "accountEnabled eq 'true'", "must be compared with true or false"},
		{"bool for string", "displayName eq true", "must be compared with a string literal"},
		{"null", "mail eq null", "null literals are not supported"},
		{"number", "displayName eq 5", "number and date literals are not supported"},
		{"datetime", "createdDateTime eq 2020-01-01T00:00:00Z", "number and date literals are not supported"},
		{"datetime with string", "createdDateTime eq 'x'", "property 'createdDateTime' cannot be used in $filter"},
		{"lambda", "businessPhones/any(p:p eq '1')", "lambda operators"},
		{"lambda as function", "any(p:p eq '1')", "lambda operators"},
		{"other function", "any(displayName)", "function 'any' is not supported"},
		{"collection compare", "businessPhones eq '1'", "is a collection"},
		{"endswith", "endswith(mail,'@x.example')", "function 'endswith' is not supported; the only function is startswith"},
		{"contains", "contains(displayName,'a')", "function 'contains' is not supported"},
		{"gt", "displayName gt 'a'", "operator 'gt' is not supported"},
		{"unbalanced quote", "displayName eq 'abc", "unterminated string literal"},
		{"unbalanced open paren", "(displayName eq 'a'", "expected ')'"},
		{"unbalanced close paren", "displayName eq 'a')", "expected 'and', 'or' or the end of the filter"},
		{"double quotes", `displayName eq "a"`, "single quotes"},
		{"trailing and", "displayName eq 'a' and", "unexpected end of $filter"},
		{"missing operator", "displayName 'a'", "expected eq, ne or in after property 'displayName'"},
		{"property then paren", "displayName('a')", "expected eq, ne or in after property 'displayName'"},
		{"empty in", "mail in ()", "expected a string literal in the in list"},
		{"in too long", "mail in ('1','2','3','4','5','6','7','8','9','10','11','12','13','14','15','16')", "at most 15 values"},
		{"startswith wrong arg order", "startswith('a',displayName)", "expected a property name"},
		{"startswith on bool", "startswith(accountEnabled,'t')", "startswith needs a string property"},
		{"control char in literal", "displayName eq 'a\x00'", "control character"},
		{"newline in literal", "displayName eq 'a\nb'", "control character"},
		{"line separator", "displayName eq 'a\u2028b'", "control character"},
		{"invalid utf-8", "displayName eq '\xff'", "not valid UTF-8"},
		{"unicode outside literal", "displayNäme eq 'a'", "unexpected character"},
		{"semicolon", "displayName eq 'a'; drop", "unexpected character"},
		{"ampersand injection", "displayName eq 'a'&$select=mobilePhone", "unexpected character"},
		{"long literal", long, "string literal is too long"},
		{"too many terms", many, "more than 32 comparisons"},
		{"too deep", deep, "nested more than 8 levels"},
		{"parens bomb", veryDeep, "longer than 2048 bytes"},
		{"very long input", strings.Repeat("x", 5000), "longer than 2048 bytes"},
		{"keyword as property", "and eq 'a'", "Could not find a property named 'and'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.CheckFilter(tt.raw)
			if err == nil {
				t.Fatalf("CheckFilter(%q) = %q, want error %q", tt.raw, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("error %v does not match ErrInvalidQuery", err)
			}
		})
	}
}

func TestCheckFilterNestingGuard(t *testing.T) {
	c := testClient(t)
	raw := strings.Repeat("(", 70) + "displayName eq 'a'" + strings.Repeat(")", 70)
	if _, err := c.CheckFilter(raw); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("err = %v, want nesting error", err)
	}
	raw = strings.Repeat("(", 60) + "displayName eq 'a'" + strings.Repeat(")", 60)
	if got, err := c.CheckFilter(raw); err != nil || got != "displayName eq 'a'" {
		t.Errorf("redundant parentheses: %q, %v", got, err)
	}
}

// TestQueryErrorsDoNotEchoValues makes sure error messages never carry literal values or
// search terms, which may be personal data.
func TestQueryErrorsDoNotEchoValues(t *testing.T) {
	c := testClient(t)
	const secret = "SecretPerson"
	checks := map[string]func() error{
		"filter bad char": func() error { _, err := c.CheckFilter("displayName eq '" + secret + "' ; x"); return err },
		"filter unclosed": func() error { _, err := c.CheckFilter("displayName eq '" + secret); return err },
		"filter long":     func() error { _, err := c.CheckFilter("mail eq '" + strings.Repeat(secret, 30) + "'"); return err },
		"filter hidden":   func() error { _, err := c.CheckFilter("mobilePhone eq '" + secret + "'"); return err },
		"search no prop":  func() error { _, _, err := c.CheckSearch(`"`+secret+`"`, false); return err },
		"search prop":     func() error { _, _, err := c.CheckSearch(`"`+secret+`:x"`, false); return err },
		"search hidden":   func() error { _, _, err := c.CheckSearch(`"mobilePhone:`+secret+`"`, false); return err },
		"search operator": func() error { _, _, err := c.CheckSearch(`"displayName:a" `+secret+` "mail:b"`, false); return err },
		"select weird":    func() error { _, err := ParseSelect(secret + "@contoso.example"); return err },
		"orderby weird":   func() error { _, err := c.CheckOrderBy(secret + "@x desc"); return err },
		"search all hidden": func() error {
			_, _, err := c.CheckSearch(`"surname:`+secret+`" OR "givenName:`+secret+`"`, false)
			return err
		},
		"search hidden AND": func() error {
			_, _, err := c.CheckSearch(`"mail:`+secret+`" AND "surname:`+secret+`"`, false)
			return err
		},
		"search unclosed": func() error { _, _, err := c.CheckSearch(`("mail:`+secret+`"`, false); return err },
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			err := check()
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}
