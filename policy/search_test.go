package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSearch(t *testing.T) {
	c := testClient(t)
	tests := []struct {
		name    string
		raw     string
		self    bool
		want    string
		wantErr string
	}{
		{"one clause", `"displayName:ada"`, false, `"displayName:ada"`, ""},
		{"case and spaces", `  "DISPLAYNAME:Ada Lovelace"   or   "mail:ada" AnD "jobTitle:eng" `, false,
			`"displayName:Ada Lovelace" OR "mail:ada" AND "jobTitle:eng"`, ""},
		{"unicode term", `"displayName:Zoë 山田"`, false, `"displayName:Zoë 山田"`, ""},
		{"colon in term", `"mail:a:b"`, false, `"mail:a:b"`, ""},
		{"empty", "", false, "", ""},
		{"self-visible field as self", `"surname:x"`, true, `"surname:x"`, ""},
		{"hidden field", `"displayName:a" OR "surname:x"`, false, "", `clause 2: property 'surname' is not visible to client "chat-web"`},
		{"hidden mobilePhone", `"mobilePhone:0170"`, false, "", "clause 1: property 'mobilePhone' cannot be searched"},
		{"not searchable", `"department:x" OR "createdDateTime:2020"`, false, "", "property 'createdDateTime' cannot be searched"},
		{"unknown property", `"salary:1"`, false, "", "clause 1: unknown property"},
		{"no property", `"ada"`, false, "", `clause 1 must have the form "property:term"`},
		{"unquoted", `displayName:ada`, false, "", `clause 1 must be a double-quoted "property:term"`},
		{"unbalanced quote", `"displayName:ada`, false, "", "clause 1 has no closing double quote"},
		{"odd quotes", `"displayName:a" OR "mail:b`, false, "", "clause 2 has no closing double quote"},
		{"missing operator", `"displayName:a" "mail:b"`, false, "", "expected AND or OR after clause 1"},
		{"NOT is not supported", `"displayName:a" NOT "mail:b"`, false, "", "expected AND or OR after clause 1"},
		{"trailing operator", `"displayName:a" OR`, false, "", `clause 2 must be a double-quoted`},
		{"empty term", `"displayName:"`, false, "", "the search term is empty"},
		{"blank term", `"displayName:   "`, false, "", "the search term is empty"},
		{"backslash", `"displayName:a\"`, false, "", "backslash"},
		{"control char", "\"displayName:a\tb\"", false, "", "control character"},
		{"nul", "\"displayName:a\x00\"", false, "", "control character"},
		{"invalid utf-8", "\"displayName:\xff\"", false, "", "not valid UTF-8"},
		{"long term", `"displayName:` + strings.Repeat("é", 101) + `"`, false, "", "longer than 100 characters"},
		{"too many clauses", strings.TrimSuffix(strings.Repeat(`"mail:a" OR `, 11), " OR "), false, "", "more than 10 clauses"},
		{"very long", strings.Repeat("a", 3000), false, "", "longer than 2048 bytes"},
		{"parentheses", `("displayName:a" OR "mail:b")`, false, "", "clause 1 must be a double-quoted"},
		{"property with spaces", `" displayName:a"`, false, "", "unknown property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.CheckSearch(tt.raw, tt.self)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidQuery) {
					t.Fatalf("CheckSearch = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CheckSearch = %q, %v; want %q", got, err, tt.want)
			}
			if again, err := c.CheckSearch(got, tt.self); err != nil || again != got {
				t.Errorf("not idempotent: %q -> %q, %v", got, again, err)
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
	if _, err := idsOnly.CheckSearch(`"displayName:a"`, false); err == nil {
		t.Error("hidden search accepted")
	}
	if got, err := idsOnly.CheckFilter("id eq 'x' and accountEnabled eq true"); err != nil || got != "id eq 'x' and accountEnabled eq true" {
		t.Errorf("id filter: %q, %v", got, err)
	}
	var nilClient *Client
	for _, err := range []error{
		func() error { _, err := nilClient.CheckFilter("id eq 'x'"); return err }(),
		func() error { _, err := nilClient.CheckSearch(`"mail:x"`, false); return err }(),
		func() error { _, err := nilClient.CheckOrderBy("displayName"); return err }(),
	} {
		if !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("nil client: %v", err)
		}
	}
}
