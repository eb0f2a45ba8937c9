package emulator_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
)

// Microsoft Graph Toolkit 4.6's people filters, verbatim: no space between the closing
// quote and "and" (mgt-components dist/es6/graph/graph.people.js, getPeople/findPeople).
const (
	mgtUserFilter    = "personType/class eq 'Person'and personType/subclass eq 'OrganizationUser'"
	mgtContactFilter = "personType/class eq 'Person'and (personType/subclass eq 'ImplicitContact' or personType/subclass eq 'PersonalContact')"
)

// peopleQuery GETs a user's people with raw (unencoded) query options.
func peopleQuery(t *testing.T, e *emulator.Emulator, tok, owner string, opts map[string]string, hdr map[string]string) listResult {
	t.Helper()
	q := url.Values{}
	for k, v := range opts {
		q.Set(k, v)
	}
	return listURL(t, e, tok, peoplePath(owner)+"?"+q.Encode(), hdr)
}

// pick returns the ids of ps that keep accepts.
func pickPeople(ps []emulator.Person, keep func(p emulator.Person) bool) []string {
	out := []string{}
	for _, p := range ps {
		if keep(p) {
			out = append(out, p.ID)
		}
	}
	return out
}

// TestPeopleFilter checks the $filter grammar (the Toolkit's spellings, Graph's
// documented ones, any case, and binding tighter than or, doubled quotes) against the
// Go API's list.
func TestPeopleFilter(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[17].ID // Kai O'Neill's deactivated manager
	ps := mustPeople(t, e, ti.ID, owner)
	sub := func(subs ...string) func(p emulator.Person) bool {
		return func(p emulator.Person) bool { return slices.Contains(subs, p.Subclass) }
	}
	tests := []struct {
		name, filter string
		keep         func(p emulator.Person) bool
	}{
		{"Toolkit users", mgtUserFilter, sub(spec.PersonOrganizationUser)},
		{"Toolkit contacts", mgtContactFilter, sub(spec.PersonImplicitContact, spec.PersonPersonalContact)},
		{"documented", "personType/class eq 'Person' and personType/subclass eq 'OrganizationUser'", sub(spec.PersonOrganizationUser)},
		{"any case", "PersonType/Class EQ 'PERSON' AND personType/SUBCLASS eq 'organizationcontact'", sub(spec.PersonOrganizationContact)},
		{"and binds tighter", "personType/subclass eq 'ImplicitContact' or personType/subclass eq 'PersonalContact' and personType/class eq 'Group'", sub(spec.PersonImplicitContact)},
		{"groups", "personType/class eq 'Group'", sub()},
		{"displayName", "displayName eq '" + ps[3].DisplayName + "'", func(p emulator.Person) bool { return p.ID == ps[3].ID }},
		{"doubled quote", "displayName eq 'kai o''neill'", func(p emulator.Person) bool { return p.DisplayName == "Kai O'Neill" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := pickPeople(ps, tc.keep)
			r := peopleQuery(t, e, tok, owner, map[string]string{"$filter": tc.filter, "$top": "1000"}, nil)
			if r.status != 200 || !slices.Equal(r.ids, want) {
				t.Fatalf("%d %v, want %v", r.status, r.ids, want)
			}
			if tc.name == "doubled quote" && len(want) != 1 {
				t.Fatalf("Kai O'Neill not among %s's people", owner)
			}
		})
	}
}

// TestPeopleUserFilterDropsContacts: with the Toolkit's user filter and its page size
// ($top=6), every user gets six organisation users and none of the tenant's contacts,
// although contacts rank within everyone's first six people.
func TestPeopleUserFilterDropsContacts(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	contacts := peopleIDs(e.Contacts(ti.ID))
	for _, ui := range ti.Users {
		want := pickPeople(mustPeople(t, e, ti.ID, ui.ID), func(p emulator.Person) bool {
			return p.Subclass == spec.PersonOrganizationUser
		})
		want = want[:min(6, len(want))]
		r := peopleQuery(t, e, tok, ui.ID, map[string]string{"$filter": mgtUserFilter, "$top": "6"},
			map[string]string{spec.PeopleQuerySourcesHeader: "Mailbox,Directory"})
		if u, _ := e.User(ti.ID, ui.ID); u.UserType == "Guest" {
			// A guest has no mailbox in the tenant (see handlePeople).
			if r.status != 404 || r.code() != "MailboxNotEnabledForRESTAPI" {
				t.Fatalf("guest %s: %d %v", ui.ID, r.status, r.body)
			}
			continue
		}
		if !slices.Equal(r.ids, want) || slices.ContainsFunc(r.ids, func(id string) bool { return slices.Contains(contacts, id) }) {
			t.Fatalf("%s: %v, want %v", ui.ID, r.ids, want)
		}
	}
}

// TestPeopleSearch: a person matches when a word of the displayName, the displayName or
// an email address starts with the term (quoted or bare, any case, accents folded); the
// directory's other users are searched only with X-PeopleQuery-QuerySources: Directory,
// after the relevant people, deactivated ones included.
func TestPeopleSearch(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[10].ID
	ps := mustPeople(t, e, ti.ID, owner)
	mgr, _ := e.User(ti.ID, ps[0].ID)
	contact := ps[1]
	outsider, deactivated := outsiders(t, e, ti, ps)
	dir := map[string]string{spec.PeopleQuerySourcesHeader: "Mailbox, directory"}
	tests := []struct {
		name, search string
		hdr          map[string]string
		want, not    []string
	}{
		{"surname prefix, bare", strings.ToLower(mgr.Surname[:4]), nil, []string{mgr.ID}, nil},
		{"displayName prefix, quoted", `"` + mgr.DisplayName[:len(mgr.GivenName)+3] + `"`, nil, []string{mgr.ID}, nil},
		{"email, quoted", `"` + strings.ToUpper(mgr.Mail) + `"`, nil, []string{mgr.ID}, nil},
		{"contact email prefix", `"` + contact.Emails[0][:len(contact.Emails[0])-3] + `"`, nil, []string{contact.ID}, nil},
		{"directory user, mailbox only", `"` + outsider.DisplayName + `"`, map[string]string{spec.PeopleQuerySourcesHeader: "Mailbox"}, nil, []string{outsider.ID}},
		{"directory user, no header", outsider.DisplayName, nil, nil, []string{outsider.ID}},
		{"directory user, Directory", `"` + outsider.DisplayName + `"`, dir, []string{outsider.ID}, nil},
		{"deactivated directory user", `"` + deactivated.DisplayName + `"`, dir, []string{deactivated.ID}, nil},
		{"inner word no match", mgr.Surname[1:], dir, nil, []string{mgr.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := peopleQuery(t, e, tok, owner, map[string]string{"$search": tc.search, "$top": "1000"}, tc.hdr)
			if r.status != 200 || len(only(r.ids, tc.want)) != len(tc.want) || len(only(r.ids, tc.not)) != 0 {
				t.Fatalf("%d %v: want %v, not %v", r.status, r.ids, tc.want, tc.not)
			}
		})
	}
	t.Run("relevant before directory", func(t *testing.T) {
		term := strings.ToLower(mgr.GivenName[:1])
		r := peopleQuery(t, e, tok, owner, map[string]string{"$search": term, "$top": "1000"}, dir)
		relevant := peopleQuery(t, e, tok, owner, map[string]string{"$search": term, "$top": "1000"}, nil)
		if len(r.ids) <= len(relevant.ids) || !slices.Equal(r.ids[:len(relevant.ids)], relevant.ids) ||
			!slices.Equal(relevant.ids, only(peopleIDs(ps), relevant.ids)) {
			t.Fatalf("with directory %v, relevant %v", r.ids, relevant.ids)
		}
	})
}

// outsiders returns a user and a deactivated user of the tenant who are not among ps.
func outsiders(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo, ps []emulator.Person) (emulator.User, emulator.User) {
	t.Helper()
	listed := peopleIDs(ps)
	var out, off emulator.User
	for _, ui := range ti.Users {
		u, _ := e.User(ti.ID, ui.ID)
		switch {
		case slices.Contains(listed, u.ID):
		case !u.AccountEnabled && off.ID == "":
			off = u
		case u.AccountEnabled && out.ID == "" && u.UserType == "":
			out = u
		}
	}
	if out.ID == "" || off.ID == "" {
		t.Fatal("no users outside the owner's people")
	}
	return out, off
}

// TestPeopleSearchFoldsAccents: "soren" finds Søren, "angstrom" finds Ångström, and a
// contact with an accented given name is found by it spelled without accents.
func TestPeopleSearchFoldsAccents(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[0].ID
	dir := map[string]string{spec.PeopleQuerySourcesHeader: "Mailbox,Directory"}
	for _, tc := range []struct{ term, prefix string }{{"soren", "Søren "}, {"ANGSTROM", "Ångström"}, {"zoe", "Zoë "}} {
		r := peopleQuery(t, e, tok, owner, map[string]string{"$search": tc.term, "$select": "displayName", "$top": "100"}, dir)
		found := false
		for _, v := range r.body["value"].([]any) {
			name := v.(map[string]any)["displayName"].(string)
			found = found || strings.Contains(name, tc.prefix)
		}
		if r.status != 200 || !found {
			t.Errorf("%s: %d %v", tc.term, r.status, r.body)
		}
	}
	fold := strings.NewReplacer("ø", "o", "é", "e", "ö", "o", "å", "a")
	for _, ui := range ti.Users {
		for _, p := range mustPeople(t, e, ti.ID, ui.ID) {
			plain := fold.Replace(strings.ToLower(p.GivenName))
			if p.Subclass == spec.PersonOrganizationUser || plain == strings.ToLower(p.GivenName) {
				continue
			}
			r := peopleQuery(t, e, tok, ui.ID, map[string]string{"$search": plain, "$top": "100"}, nil)
			if !slices.Contains(r.ids, p.ID) {
				t.Fatalf("%q did not find contact %s", plain, p.ID)
			}
			r = peopleQuery(t, e, tok, ui.ID, map[string]string{"$search": plain, "$filter": mgtUserFilter}, nil)
			if slices.Contains(r.ids, p.ID) {
				t.Fatalf("contact %s passed the Toolkit's user filter", p.ID)
			}
			return
		}
	}
	t.Fatal("no contact with an accented given name in any list")
}

// TestPeopleOrderBy: $orderby=displayName sorts the whole list, asc or desc.
func TestPeopleOrderBy(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[1].ID
	all := mustPeople(t, e, ti.ID, owner)
	names := map[string]string{}
	for _, p := range all {
		names[p.ID] = strings.ToLower(p.DisplayName)
	}
	asc := peopleQuery(t, e, tok, owner, map[string]string{"$orderby": "displayName", "$top": "1000"}, nil)
	desc := peopleQuery(t, e, tok, owner, map[string]string{"orderby": "DisplayName DESC", "$top": "1000"}, nil)
	if len(asc.ids) != len(all) || !slices.IsSortedFunc(asc.ids, func(a, b string) int { return strings.Compare(names[a], names[b]) }) {
		t.Fatalf("asc %v", asc.ids)
	}
	if slices.Reverse(desc.ids); !slices.Equal(desc.ids, asc.ids) {
		t.Fatalf("desc reversed %v, asc %v", desc.ids, asc.ids)
	}
}

// TestPeopleBadQueries: each malformed or unsupported option is 400 BadRequest.
func TestPeopleBadQueries(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[1].ID
	tests := []struct{ name, key, value, msg string }{
		{"$top 0", "$top", "0", "$top"},
		{"$top negative", "$top", "-1", "non-negative integer"},
		{"$top not a number", "top", "ten", "non-negative integer"},
		{"$top fraction", "$top", "1.5", "$top"},
		{"$skip negative", "$skip", "-3", "$skip query option requires a non-negative integer"},
		{"$skip not a number", "$SKIP", "x", "$skip"},
		{"$orderby other property", "$orderby", "surname", "displayName only"},
		{"$orderby unknown property", "$orderby", "mail", "Could not find a property named 'mail' on type 'microsoft.graph.person'."},
		{"$orderby two keys", "$orderby", "displayName,surname", "displayName only"},
		{"$orderby bad direction", "$orderby", "displayName up", "Syntax error"},
		{"$count", "$count", "true", "'$count' is not supported"},
		{"$expand", "$expand", "manager", "'$expand' is not supported"},
		{"$skiptoken", "$skiptoken", "abc", "'$skiptoken' is not supported"},
		{"empty $search", "$search", `""`, "non-empty"},
		{"blank $search", "$search", " ", "non-empty"},
		{"filter other property", "$filter", "jobTitle eq 'Engineer'", "property 'jobTitle' is not supported"},
		{"filter unknown property", "$filter", "mail eq 'x'", "Could not find a property named 'mail'"},
		{"filter unknown personType member", "$filter", "personType/kind eq 'x'", "type 'microsoft.graph.personType'"},
		{"filter ne", "$filter", "personType/class ne 'Person'", "operator 'ne'"},
		{"filter not", "$filter", "not personType/class eq 'Person'", "operator 'not'"},
		{"filter function", "$filter", "startswith(displayName,'A')", "function 'startswith'"},
		{"filter unquoted value", "$filter", "personType/class eq Person", "string literal"},
		{"filter unbalanced", "$filter", "(personType/class eq 'Person'", "expected ')'"},
		{"filter trailing", "$filter", "personType/class eq 'Person' xor", "unexpected 'xor'"},
		{"filter unterminated", "$filter", "displayName eq 'Kai", "unterminated string literal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := peopleQuery(t, e, tok, owner, map[string]string{tc.key: tc.value}, nil)
			if r.status != 400 || r.code() != "BadRequest" || !strings.Contains(r.message(), tc.msg) {
				t.Fatalf("%d %s %q", r.status, r.code(), r.message())
			}
		})
	}
	for _, key := range []string{"top", "$TOP", "$top"} {
		if r := peopleQuery(t, e, tok, owner, map[string]string{key: "2"}, nil); r.status != 200 || len(r.ids) != 2 {
			t.Fatalf("%s=2: %d %d people", key, r.status, len(r.ids))
		}
	}
}
