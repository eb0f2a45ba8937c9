package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/spec"
)

// personMapping is the person-field ↔ user-field mapping graphgate promises (README,
// issue 11), written out independently of personSources so that a change to either
// fails a test: a person property and the user properties it may be made of.
var personMapping = map[string][]string{
	"id":                   {"id"},
	"displayName":          {"displayName"},
	"givenName":            {"givenName"},
	"surname":              {"surname"},
	"jobTitle":             {"jobTitle"},
	"companyName":          {"companyName"},
	"department":           {"department"},
	"officeLocation":       {"officeLocation"},
	"userPrincipalName":    {"userPrincipalName"},
	"scoredEmailAddresses": {"mail"},
	"phones":               {"businessPhones", "mobilePhone"},
	"personType":           {},
}

// neverServed are the person properties with no user property behind them.
var neverServed = []string{"birthday", "personNotes", "isFavorite", "yomiCompany", "profession",
	"imAddress", "postalAddresses", "websites"}

// personClient parses a one-client policy with the given operations and fields.
func personClient(t *testing.T, ops string, self, others []string) *Client {
	t.Helper()
	list := func(fs []string) string { return "[" + strings.Join(fs, ", ") + "]" }
	p, err := Parse([]byte(fmt.Sprintf(`clients:
  - app_id: 0f0e0d0c-0b0a-4900-8800-070605040302
    name: people-app
    purpose: Test the person mapping.
    operations: %s
    fields: {self: %s, others: %s}
`, ops, list(self), list(others))))
	if err != nil {
		t.Fatal(err)
	}
	return p.Clients()[0]
}

// want is a person decision's lists.
type want struct{ fields, users, withheld []string }

// decideCase is one DecidePerson table test: a client app's operations ("" = me.read and
// people.read) and fields, the requested person properties, and the decision.
type decideCase struct {
	name           string
	ops            string
	self, others   []string
	requested      []string
	want           want
	wantNotAllowed bool
}

func TestDecidePerson(t *testing.T) {
	const ops = "[me.read, people.read]"
	tests := []decideCase{
		{name: "phones from businessPhones only", others: []string{"businessPhones"}, requested: []string{"phones"},
			want: want{fields: []string{"id", "phones"}, users: []string{"businessPhones", "id"}}},
		{name: "phones from mobilePhone only", others: []string{"mobilePhone"}, requested: []string{"phones"},
			want: want{fields: []string{"id", "phones"}, users: []string{"id", "mobilePhone"}}},
		{name: "phones from both", others: []string{"mobilePhone", "businessPhones"}, requested: []string{"phones"},
			want: want{fields: []string{"id", "phones"}, users: []string{"businessPhones", "id", "mobilePhone"}}},
		{name: "phones from neither", others: []string{"displayName"}, requested: []string{"phones"},
			want: want{fields: []string{"id"}, users: []string{"id"}, withheld: []string{"phones"}}},
		{name: "scoredEmailAddresses from mail", others: []string{"mail"}, requested: []string{"scoredEmailAddresses"},
			want: want{fields: []string{"id", "scoredEmailAddresses"}, users: []string{"id", "mail"}}},
		{name: "userPrincipalName is not mail", others: []string{"userPrincipalName"}, requested: []string{"scoredEmailAddresses", "userPrincipalName"},
			want: want{fields: []string{"id", "userPrincipalName"}, users: []string{"id", "userPrincipalName"}, withheld: []string{"scoredEmailAddresses"}}},
		{name: "mail is not userPrincipalName", others: []string{"mail"}, requested: []string{"scoredEmailAddresses", "userPrincipalName"},
			want: want{fields: []string{"id", "scoredEmailAddresses"}, users: []string{"id", "mail"}, withheld: []string{"userPrincipalName"}}},
		{name: "personType needs no field", others: []string{"city"}, requested: []string{"personType"},
			want: want{fields: []string{"id", "personType"}, users: []string{"id"}}},
		{name: "id alone", others: nil, requested: []string{"id"},
			want: want{fields: []string{"id"}, users: []string{"id"}}},
		{name: "self fields do not count", self: []string{"displayName", "mail", "mobilePhone"}, others: []string{"jobTitle"},
			requested: []string{"displayName", "scoredEmailAddresses", "phones", "jobTitle"},
			want:      want{fields: []string{"id", "jobTitle"}, users: []string{"id", "jobTitle"}, withheld: []string{"displayName", "phones", "scoredEmailAddresses"}}},
		{name: "default set", others: []string{"displayName", "mail", "mobilePhone"},
			want: want{fields: []string{"displayName", "id", "personType", "phones", "scoredEmailAddresses"},
				users:    []string{"displayName", "id", "mail", "mobilePhone"},
				withheld: []string{"companyName", "department", "givenName", "jobTitle", "officeLocation", "surname", "userPrincipalName"}}},
		{name: "default set of an app that sees nothing", others: nil,
			want: want{fields: []string{"id", "personType"}, users: []string{"id"},
				withheld: []string{"companyName", "department", "displayName", "givenName", "jobTitle", "officeLocation",
					"phones", "scoredEmailAddresses", "surname", "userPrincipalName"}}},
		{name: "never-served fields are withheld from an app that sees everything", others: grantableOthers(),
			requested: append([]string{"displayName"}, neverServed...),
			want: want{fields: []string{"displayName", "id"}, users: []string{"displayName", "id"},
				withheld: sortedCopy(neverServed)}},
		{name: "unknown field is withheld", others: []string{"displayName"}, requested: []string{"salary", "displayName"},
			want: want{fields: []string{"displayName", "id"}, users: []string{"displayName", "id"}, withheld: []string{"salary"}}},
		{name: "no people.read", ops: "[me.read, users.read, users.list]", others: []string{"displayName"},
			requested: []string{"displayName"}, wantNotAllowed: true},
	}
	tests = append(tests, mappingCases()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.ops
			if o == "" {
				o = ops
			}
			d := personClient(t, o, tt.self, tt.others).DecidePerson(tt.requested)
			if tt.wantNotAllowed {
				if d.Allowed || len(d.Fields) != 0 || len(d.UserFields) != 0 || !strings.Contains(d.Reason, string(OpPeopleRead)) {
					t.Errorf("decision = %+v, want not allowed with a reason naming %s", d, OpPeopleRead)
				}
				return
			}
			if !d.Allowed {
				t.Fatalf("not allowed: %s", d.Reason)
			}
			got := want{fields: d.Fields, users: d.UserFields, withheld: d.Withheld}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decision = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}

// mappingCases are a shown and a hidden case for each person property made of one user
// property of the same name.
func mappingCases() []decideCase {
	var tests []decideCase
	for f, src := range personMapping {
		if len(src) != 1 || f == "id" || f == "scoredEmailAddresses" {
			continue
		}
		tests = append(tests,
			decideCase{name: f + " from " + src[0], others: []string{src[0]}, requested: []string{f},
				want: want{fields: sortedCopy([]string{"id", f}), users: sortedCopy([]string{"id", src[0]})}},
			decideCase{name: f + " hidden", self: []string{src[0]}, others: []string{"city"}, requested: []string{f},
				want: want{fields: []string{"id"}, users: []string{"id"}, withheld: []string{f}}})
	}
	return tests
}

// grantableOthers is every user property a policy may grant of others.
func grantableOthers() []string {
	var out []string
	for _, f := range KnownFields {
		if !internalOnly[f] {
			out = append(out, f)
		}
	}
	return out
}

// TestDecidePersonEveryGrant checks DecidePerson's default decision against the mapping
// for every combination of the user properties behind a person: a person property is
// shown exactly when one of its sources is visible of others, and the user properties a
// person is built from are exactly the visible sources of the shown properties.
func TestDecidePersonEveryGrant(t *testing.T) {
	sources := []string{"displayName", "givenName", "surname", "jobTitle", "companyName", "department",
		"officeLocation", "userPrincipalName", "mail", "businessPhones", "mobilePhone"}
	for mask := range 1 << len(sources) {
		var others []string
		for i, f := range sources {
			if mask&(1<<i) != 0 {
				others = append(others, f)
			}
		}
		d := personClient(t, "[people.read]", sources, others).DecidePerson(nil)
		var fields, users, withheld []string
		for pf, src := range personMapping {
			shown := len(src) == 0 || pf == "id"
			for _, s := range src {
				if slices.Contains(others, s) || s == "id" {
					shown = true
					if !slices.Contains(users, s) {
						users = append(users, s)
					}
				}
			}
			if shown {
				fields = append(fields, pf)
			} else {
				withheld = append(withheld, pf)
			}
		}
		slices.Sort(fields)
		slices.Sort(users)
		slices.Sort(withheld)
		if !d.Allowed || !slices.Equal(d.Fields, fields) || !slices.Equal(d.UserFields, users) || !slices.Equal(d.Withheld, withheld) {
			t.Fatalf("others %v: decision %+v, want fields %v, users %v, withheld %v", others, d, fields, users, withheld)
		}
	}
}

func TestDecidePersonNilClient(t *testing.T) {
	var c *Client
	d := c.DecidePerson([]string{"displayName"})
	if d.Allowed || len(d.Fields) != 0 || len(d.UserFields) != 0 || d.Reason == "" {
		t.Errorf("nil client: %+v", d)
	}
}

// TestPeopleSearch: a people search may match by the names and addresses the app may
// see of others, never by its own (self) fields; the hidden ones are reported as the
// person properties they would show as (mail as scoredEmailAddresses).
func TestPeopleSearch(t *testing.T) {
	all := []string{"displayName", "givenName", "mail", "surname", "userPrincipalName"}
	allPerson := []string{"displayName", "givenName", "scoredEmailAddresses", "surname", "userPrincipalName"}
	tests := []struct {
		name                 string
		self, others         []string
		names, addrs, hidden []string
	}{
		{"names only", nil, []string{"displayName"}, []string{"displayName"}, nil, []string{"givenName", "scoredEmailAddresses", "surname", "userPrincipalName"}},
		{"addresses only", nil, []string{"mail", "userPrincipalName"}, nil, []string{"mail", "userPrincipalName"}, []string{"displayName", "givenName", "surname"}},
		{"userPrincipalName not mail", nil, []string{"userPrincipalName", "givenName"}, []string{"givenName"}, []string{"userPrincipalName"}, []string{"displayName", "scoredEmailAddresses", "surname"}},
		{"everything", nil, all, []string{"displayName", "givenName", "surname"}, []string{"mail", "userPrincipalName"}, nil},
		{"no name, no address", []string{"displayName", "mail"}, []string{"jobTitle", "department", "mobilePhone"}, nil, nil, allPerson},
		{"phones do not search", nil, []string{"businessPhones", "surname"}, []string{"surname"}, nil, []string{"displayName", "givenName", "scoredEmailAddresses", "userPrincipalName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := personClient(t, "[people.read]", tt.self, tt.others).PeopleSearch()
			if !slices.Equal(ps.Names, tt.names) || !slices.Equal(ps.Addresses, tt.addrs) || !slices.Equal(ps.Hidden, tt.hidden) {
				t.Errorf("names %v addresses %v hidden %v, want %v %v %v", ps.Names, ps.Addresses, ps.Hidden, tt.names, tt.addrs, tt.hidden)
			}
		})
	}
	t.Run("nil client", func(t *testing.T) {
		var c *Client
		ps := c.PeopleSearch()
		if len(ps.Names)+len(ps.Addresses) != 0 || !slices.Equal(ps.Hidden, allPerson) {
			t.Errorf("%+v", ps)
		}
	})
}

func TestPersonSources(t *testing.T) {
	for f, want := range personMapping {
		got, ok := PersonSources(f)
		if !ok || !slices.Equal(sortedCopy(got), sortedCopy(want)) {
			t.Errorf("PersonSources(%q) = %v, %v; want %v", f, got, ok, want)
		}
		if len(got) > 0 {
			got[0] = "employeeId" // the caller's copy
			if again, _ := PersonSources(f); slices.Contains(again, "employeeId") {
				t.Errorf("PersonSources(%q) returns the table itself", f)
			}
		}
	}
	for _, f := range append([]string{"salary", "DisplayName"}, neverServed...) {
		if src, ok := PersonSources(f); ok {
			t.Errorf("PersonSources(%q) = %v, true; it is never served", f, src)
		}
	}
	if pt := ConstantPersonType(); !reflect.DeepEqual(pt, map[string]any{"class": "Person", "subclass": "OrganizationUser"}) {
		t.Errorf("ConstantPersonType() = %v", pt)
	}
}

// TestPersonSourcesArePersonProperties: every person property graphgate serves is one of
// Graph's person resource, and every user property behind it is one a policy can grant.
func TestPersonSourcesArePersonProperties(t *testing.T) {
	props := spec.PersonProperties()
	for f, src := range personSources {
		if !slices.Contains(props, f) {
			t.Errorf("%q is not a property of Graph's person resource", f)
		}
		for _, u := range src {
			if _, ok := CanonicalField(u); !ok {
				t.Errorf("%q is made of %q, which is no user property graphgate knows", f, u)
			}
		}
	}
}
