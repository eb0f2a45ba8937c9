package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSearch(t *testing.T) {
	c := testClient(t)
	// Visible of others: displayName, jobTitle, mail, userPrincipalName, department;
	// of self also surname and mobilePhone. Hidden of others: surname, givenName,
	// mobilePhone, officeLocation, ...
	tests := []struct {
		name     string
		raw      string
		self     bool
		want     string
		withheld string // comma-separated
		wantErr  string
	}{
		{"one clause", `"displayName:ada"`, false, `"displayName:ada"`, "", ""},
		{"case and spaces", `  "DISPLAYNAME:Ada Lovelace"   OR   "mail:ada" AND "jobTitle:eng" `, false,
			`"displayName:Ada Lovelace" OR "mail:ada" AND "jobTitle:eng"`, "", ""},
		{"unicode term", `"displayName:Zoë 山田"`, false, `"displayName:Zoë 山田"`, "", ""},
		{"colon in term", `"mail:a:b"`, false, `"mail:a:b"`, "", ""},
		{"spaces around the property", `" displayName :a"`, false, `"displayName:a"`, "", ""},
		{"empty", "", false, "", "", ""},
		{"self-visible field as self", `"surname:x"`, true, `"surname:x"`, "", ""},
		{"escaped quote and backslash", `"displayName:a\"b\\c"`, false, `"displayName:a\"b\\c"`, "", ""},
		{"lone backslash is itself", `"displayName:a\b"`, false, `"displayName:a\\b"`, "", ""},
		{"parentheses", `("displayName:a" OR "mail:b") AND "jobTitle:c"`, false, `("displayName:a" OR "mail:b") AND "jobTitle:c"`, "", ""},
		{"redundant parentheses", `(("displayName:a"))`, false, `"displayName:a"`, "", ""},
		{"parentheses flattened", `"displayName:a" OR ("mail:b" OR "jobTitle:c")`, false, `"displayName:a" OR "mail:b" OR "jobTitle:c"`, "", ""},
		{"no space before parenthesis", `"displayName:a" AND("mail:b" OR "jobTitle:c")`, false, `"displayName:a" AND ("mail:b" OR "jobTitle:c")`, "", ""},
		{"many clauses", strings.TrimSuffix(strings.Repeat(`"mail:a" OR `, 30), " OR "), false,
			strings.TrimSuffix(strings.Repeat(`"mail:a" OR `, 30), " OR "), "", ""},
		{"long term", `"displayName:` + strings.Repeat("é", 300) + `"`, false, `"displayName:` + strings.Repeat("é", 300) + `"`, "", ""},

		// Hidden properties: an OR operand is dropped (narrowing only), and reported.
		{"toolkit people picker, UPN hidden", `"displayName:x" OR "surname:x" OR "userPrincipalName:x"`, false,
			`"displayName:x" OR "userPrincipalName:x"`, "surname", ""},
		{"hidden operands of an OR in an AND", `"jobTitle:a" AND ("givenName:b" OR "mail:c" OR "surname:d")`, false,
			`"jobTitle:a" AND "mail:c"`, "givenName,surname", ""},
		{"hidden AND group in an OR", `"mail:a" OR ("givenName:b" AND "surname:c")`, false, "", "", "clause 2: property 'givenName' is not visible"},
		{"hidden OR inside an OR", `("givenName:b" OR "surname:c") OR "mail:a"`, false, `"mail:a"`, "givenName,surname", ""},
		{"kept AND after dropping", `("displayName:a" AND "mail:b") OR "surname:c"`, false, `"displayName:a" AND "mail:b"`, "surname", ""},
		{"all hidden", `"surname:x" OR "givenName:x"`, false, "", "", `clause 1: property 'surname' is not visible to client "chat-web", nor is any property of the other clauses`},
		{"one hidden", `"mobilePhone:0170"`, false, "", "", "clause 1: property 'mobilePhone' is not visible"},
		{"AND on a hidden field", `"displayName:a" AND "surname:x"`, false, "", "", `clause 2: property 'surname' is not visible to client "chat-web", and a clause joined by AND cannot be left out`},
		{"AND binds tighter than OR", `"displayName:a" OR "mail:b" AND "surname:x"`, false, "", "", "clause 3: property 'surname' is not visible"},
		{"AND with a hidden group", `"displayName:a" AND ("surname:x" OR "givenName:y")`, false, "", "", "clause 2: property 'surname' is not visible"},
		{"hidden AND inside an OR", `("displayName:a" AND "surname:x") OR "mail:b"`, false, "", "", "clause 2: property 'surname' is not visible"},

		{"not searchable", `"department:x" OR "createdDateTime:2020"`, false, "", "", "property 'createdDateTime' cannot be searched"},
		{"collection not searchable", `"businessPhones:1"`, false, "", "", "property 'businessPhones' cannot be searched"},
		{"unknown property", `"salary:1"`, false, "", "", "clause 1: unknown property"},
		{"no property", `"ada"`, false, "", "", `clause 1 must have the form "property:term"`},
		{"unquoted", `displayName:ada`, false, "", "", `clause 1 must be a double-quoted "property:term"`},
		{"unbalanced quote", `"displayName:ada`, false, "", "", "clause 1 has no closing double quote"},
		{"escaped closing quote", `"displayName:ada\"`, false, "", "", "clause 1 has no closing double quote"},
		{"odd quotes", `"displayName:a" OR "mail:b`, false, "", "", "clause 2 has no closing double quote"},
		{"missing operator", `"displayName:a" "mail:b"`, false, "", "", "expected AND or OR after clause 1"},
		{"lower-case or", `"displayName:a" or "mail:b"`, false, "", "", "the operators of $search are AND and OR, in upper case"},
		{"mixed-case And", `"displayName:a" And "mail:b"`, false, "", "", "in upper case"},
		{"lower-case and in parentheses", `("displayName:a" and "mail:b")`, false, "", "", "in upper case"},
		{"NOT is not supported", `"displayName:a" NOT "mail:b"`, false, "", "", "the operators of $search are AND and OR"},
		{"trailing operator", `"displayName:a" OR`, false, "", "", `expected clause 2, a double-quoted "property:term", at the end`},
		{"operator glued to a word", `"displayName:a" ORx "mail:b"`, false, "", "", "expected AND or OR after clause 1"},
		{"unclosed parenthesis", `("displayName:a" OR "mail:b"`, false, "", "", "this parenthesis is not closed (at position 1)"},
		{"stray parenthesis", `"displayName:a")`, false, "", "", "this parenthesis closes none"},
		{"empty parentheses", `()`, false, "", "", `clause 1 must be a double-quoted "property:term"`},
		{"too deep", strings.Repeat("(", 33) + `"mail:a"` + strings.Repeat(")", 33), false, "", "", "more than 32 levels deep"},
		{"empty term", `"displayName:"`, false, "", "", "the search term is empty"},
		{"blank term", `"displayName:   "`, false, "", "", "the search term is empty"},
		{"control char", "\"displayName:a\tb\"", false, "", "", "control character"},
		{"nul", "\"displayName:a\x00\"", false, "", "", "control character"},
		{"invalid utf-8", "\"displayName:\xff\"", false, "", "", "not valid UTF-8"},
		{"very long", strings.Repeat("a", 3000), false, "", "", "longer than 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, withheld, err := c.CheckSearch(tt.raw, tt.self)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidQuery) {
					t.Fatalf("CheckSearch = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || strings.Join(withheld, ",") != tt.withheld {
				t.Fatalf("CheckSearch = %q, %q, %v; want %q, %q", got, withheld, err, tt.want, tt.withheld)
			}
			if again, w, err := c.CheckSearch(got, tt.self); err != nil || again != got || w != nil {
				t.Errorf("not idempotent: %q -> %q, %q, %v", got, again, w, err)
			}
		})
	}
}

func TestCheckOrderBy(t *testing.T) {
	c := testClient(t)
	tests := []struct{ raw, want, wantErr string }{
		{"displayName", "displayName", ""},
		{" DisplayName  DESC , userprincipalname asc", "displayName desc,userPrincipalName asc", ""},
		{"", "", ""},
		{"jobTitle", "", "sorting by 'jobTitle' is not supported"},
		{"displayName,displayName desc", "", "property 'displayName' is listed twice"},
		{"displayName up", "", "item 1: expected asc or desc after 'displayName'"},
		{"displayName asc desc", "", "item 1 must be a property"},
		{"displayName,", "", "item 2 must be a property"},
		{"salary", "", "Could not find a property named 'salary'"},
		{"displayName;drop", "", "Could not find a property named '(invalid name)'"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := c.CheckOrderBy(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidQuery) {
					t.Fatalf("CheckOrderBy = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CheckOrderBy = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// A client that may not see displayName of others may not sort by it either.
	p, err := Parse([]byte(`
clients:
  - app_id: 11111111-2222-3333-4444-555555555555
    name: ids-only
    purpose: Ids.
    operations: [users.list]
    fields:
      self: [displayName]
`))
	if err != nil {
		t.Fatal(err)
	}
	idsOnly := p.Clients()[0]
	if _, err := idsOnly.CheckOrderBy("displayName"); err == nil || !strings.Contains(err.Error(), `not visible to client "ids-only"`) {
		t.Errorf("hidden orderby: %v", err)
	}
	if _, _, err := idsOnly.CheckSearch(`"displayName:a"`, false); err == nil {
		t.Error("hidden search accepted")
	}
	if got, err := idsOnly.CheckFilter("id eq 'x' and accountEnabled eq true"); err != nil || got != "id eq 'x' and accountEnabled eq true" {
		t.Errorf("id filter: %q, %v", got, err)
	}
	var nilClient *Client
	for _, err := range []error{
		func() error { _, err := nilClient.CheckFilter("id eq 'x'"); return err }(),
		func() error { _, _, err := nilClient.CheckSearch(`"mail:x"`, false); return err }(),
		func() error { _, err := nilClient.CheckOrderBy("displayName"); return err }(),
	} {
		if !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("nil client: %v", err)
		}
	}
}
