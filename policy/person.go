package policy

import (
	"fmt"
	"sort"

	"github.com/graphgate/graphgate/graph/spec"
)

// A person (Graph's People API, https://learn.microsoft.com/graph/api/resources/person)
// is shown from the user's own directory record, never from what the People API holds:
// each person property graphgate serves is made of user properties, and a client app
// sees a person property only through the user properties its policy lets it see of
// others. Person properties with no user property behind them (birthday, personNotes,
// isFavorite, yomiCompany, profession, imAddress, postalAddresses, websites) are never
// served.

// personSources maps each person property graphgate serves to the user properties it is
// made of: phones lists businessPhones (type "business") and mobilePhone (type
// "mobile"), each only if visible; scoredEmailAddresses holds mail. personType is the
// same for every person graphgate serves (see ConstantPersonType) and needs none.
var personSources = map[string][]string{
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

// PersonSources returns the user properties a served person property is made of, and
// false for a person property graphgate never serves.
func PersonSources(personField string) ([]string, bool) {
	src, ok := personSources[personField]
	return append([]string(nil), src...), ok
}

// ConstantPersonType is the personType of every person graphgate serves: only users of
// the caller's own directory are ever shown, so it tells a client nothing.
func ConstantPersonType() map[string]any {
	return map[string]any{"class": spec.PersonClassPerson, "subclass": spec.PersonOrganizationUser}
}

// PersonDecision is the outcome of a policy check for a people list.
type PersonDecision struct {
	// Allowed reports whether the client app may use OpPeopleRead at all.
	Allowed bool
	// Reason explains the decision for logs and errors; it names no user.
	Reason string
	// Fields are the person properties to show (requested ∩ servable ∩ visible), sorted,
	// always including "id".
	Fields []string
	// UserFields are the visible user properties behind Fields, sorted: a person is
	// built from these properties of the user's record and no others.
	UserFields []string
	// Withheld are the requested person properties not shown, sorted.
	Withheld []string
}

// DecidePerson decides which person properties the client app sees of each person in a
// people list. requested holds person properties in canonical casing (the caller checks
// $select against the person resource); empty means every person property, Graph's
// default. A person property is shown when at least one user property behind it is
// visible of others; phones then holds only the visible numbers. A nil Client is
// denied.
func (c *Client) DecidePerson(requested []string) PersonDecision {
	if c == nil {
		return PersonDecision{Reason: "unknown client app: no policy grants it anything"}
	}
	if !c.ops[OpPeopleRead] {
		return PersonDecision{Reason: fmt.Sprintf("client %q may not use operation %q", c.Name, OpPeopleRead)}
	}
	if len(requested) == 0 {
		requested = servablePeopleDefault
	}
	fields, users, withheld := map[string]bool{"id": true}, map[string]bool{"id": true}, map[string]bool{}
	for _, f := range requested {
		src, served := personSources[f]
		shown := served && len(src) == 0 // personType
		for _, u := range src {
			if c.visible(u, false) {
				users[u], shown = true, true
			}
		}
		if shown {
			fields[f] = true
		} else {
			withheld[f] = true
		}
	}
	d := PersonDecision{Allowed: true, Fields: sortedSet(fields), UserFields: sortedSet(users)}
	if len(withheld) > 0 {
		d.Withheld = sortedSet(withheld)
	}
	d.Reason = fmt.Sprintf("client %q may use operation %q; %d person field(s) shown, %d withheld",
		c.Name, OpPeopleRead, len(d.Fields), len(d.Withheld))
	return d
}

// servablePeopleDefault is the person properties graphgate can serve, sorted: what a
// people list without $select shows as far as the policy allows. Properties it never
// serves are left out silently rather than reported on every default request.
var servablePeopleDefault = func() []string {
	out := make([]string, 0, len(personSources))
	for f := range personSources {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}()

// peopleSearchNames and peopleSearchAddresses are the user properties by which
// graphgate lets a People API $search find someone: a name matches by any of its words,
// an address by its start. Graph matches "people whose displayName or emailAddress has
// a word that begins with" the text, fuzzily
// (https://learn.microsoft.com/graph/people-insights-overview#search-people), and an
// address may be the user's mail or another of their addresses; graphgate re-checks
// every person Graph found against these properties as the caller may see them.
var (
	peopleSearchNames     = []string{"displayName", "givenName", "surname"}
	peopleSearchAddresses = []string{"mail", "userPrincipalName"}
)

// PeopleSearch is what a people $search may match for one client app.
type PeopleSearch struct {
	// Names are the visible name properties: one matches when a word of it (or the
	// whole value) starts with the search text.
	Names []string
	// Addresses are the visible address properties: one matches when it starts with
	// the search text.
	Addresses []string
	// Hidden are the person properties made of the searchable user properties the app
	// may not see, sorted: they may not decide a match and are reported as withheld.
	Hidden []string
}

// PeopleSearch returns the properties by which a people $search may find someone for
// the client app: those it may see of others. With no visible one (Names and Addresses
// empty), a people search must be refused.
func (c *Client) PeopleSearch() PeopleSearch {
	var s PeopleSearch
	hidden := map[string]bool{}
	for _, group := range []struct {
		fields []string
		into   *[]string
	}{{peopleSearchNames, &s.Names}, {peopleSearchAddresses, &s.Addresses}} {
		for _, f := range group.fields {
			if c.visible(f, false) {
				*group.into = append(*group.into, f)
			} else {
				hidden[personFieldOf(f)] = true
			}
		}
	}
	if len(hidden) > 0 {
		s.Hidden = sortedSet(hidden)
	}
	return s
}

// personFieldOf is the person property a user property shows as.
func personFieldOf(userField string) string {
	for p, src := range personSources {
		if len(src) == 1 && src[0] == userField {
			return p
		}
	}
	return userField
}
