package proxy

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// errPeopleSearchHidden refuses a people $search by a client app that may see none of
// the properties a people search matches: whatever it found would be found through
// hidden data.
var errPeopleSearchHidden = errBadRequest("Invalid $search: this client app may not see the name or " +
	"e-mail address of others, which a people search matches.")

// handlePeople serves GET /me/people and /users/{id}/people: the people most relevant to
// the user, as Graph's People API ranks them, limited to enabled users of the caller's
// own directory (contacts and outside people never leave graphgate), each shown as
// the person resource made from the user's record with the fields the caller's policy
// allows of others (policy.Client.DecidePerson). A $search finds only people whom the
// text matches by a property the caller may see; another user's list holds only people
// with a public relationship to them in the org chart (directory.Directory.Related).
// Pages ($top, $skip) and @odata.nextLink are counted after all of that, so they never
// show that anyone was left out.
func handlePeople(dir *directory.Directory, ln links) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, err := odata.ParsePeople(c.Request.URL.RawQuery)
		var owner graph.User
		if err == nil {
			owner, err = lookupSubject(c, dir)
		}
		if err != nil {
			abortWithError(c, err)
			return
		}
		sc := scopeOf(c)
		d := sc.client.DecidePerson(q.Select)
		if !d.Allowed {
			abortWithError(c, errForbidden(d.Reason))
			return
		}
		noteWithheld(c, d.Withheld)
		keep, err := peopleKeep(c, dir, q, owner)
		if err != nil {
			abortWithError(c, err)
			return
		}
		var people []graph.User
		more := false
		if q.OrganizationUsers { // else the filter keeps no one graphgate serves
			people, more, err = readPeople(c, dir, q, owner, keep)
			if err != nil {
				abortWithError(c, err)
				return
			}
		}
		people = people[min(q.Skip, len(people)):]
		value := make([]map[string]any, 0, len(people))
		for _, u := range people {
			value = append(value, personOf(u, d))
		}
		t := targetOf(c)
		body := gin.H{"@odata.context": ln.context(c, peopleContext(t)), "value": value}
		if more {
			body["@odata.nextLink"] = ln.base(c) + "/v1.0" + subjectPath(t) + "/people?" + q.Encode(q.Skip+q.Top)
		}
		writeJSON(c, body)
	}
}

// readPeople reads the first $skip+$top people of the owner's list that keep accepts.
func readPeople(c *gin.Context, dir *directory.Directory, q odata.PeopleQuery, owner graph.User,
	keep func(graph.User) bool) ([]graph.User, bool, error) {
	sc := scopeOf(c)
	people, more, outcome, err := dir.People(c.Request.Context(), sc.tenantID(), owner.ID(), q.Search, q.Skip+q.Top, keep)
	sc.setOutcome(outcome)
	return people, more, err
}

// peopleKeep returns which listed people the caller may be shown: with a $search, those
// the text matches by a property the caller may see of others (the hidden ones are
// reported as withheld); for another user's list, those with a public relationship to
// that user.
func peopleKeep(c *gin.Context, dir *directory.Directory, q odata.PeopleQuery, owner graph.User) (func(graph.User) bool, error) {
	sc := scopeOf(c)
	keep := func(graph.User) bool { return true }
	if q.Search != "" {
		visible, hidden := sc.client.PeopleSearchFields()
		if len(visible) == 0 {
			return nil, errPeopleSearchHidden
		}
		noteWithheld(c, hidden)
		text := foldSearch(q.Search)
		keep = func(u graph.User) bool { return peopleMatch(u, text, visible) }
	}
	if isSelf(sc, owner) {
		return keep, nil
	}
	related, err := dir.Related(c.Request.Context(), sc.tenantID(), owner.ID())
	if err != nil {
		return nil, err
	}
	match := keep
	return func(u graph.User) bool { return related[strings.ToLower(u.ID())] && match(u) }, nil
}

// personOf builds the person resource of a user record with the decision's fields: each
// person property from the user properties policy.PersonSources names, as far as
// d.UserFields holds them.
func personOf(u graph.User, d policy.PersonDecision) map[string]any {
	p := make(map[string]any, len(d.Fields))
	visible := func(f string) bool { return slices.Contains(d.UserFields, f) }
	for _, f := range d.Fields {
		switch f {
		case "personType":
			p[f] = policy.ConstantPersonType()
		case "scoredEmailAddresses":
			p[f] = scoredEmails(u)
		case "phones":
			p[f] = phonesOf(u, visible("businessPhones"), visible("mobilePhone"))
		default:
			p[f] = u[f]
		}
	}
	return p
}

// scoredEmails is a person's scoredEmailAddresses made from the user's mail: one address,
// without the relevance score graphgate does not read from Graph.
func scoredEmails(u graph.User) []map[string]any {
	mail, _ := u["mail"].(string)
	if mail == "" {
		return []map[string]any{}
	}
	return []map[string]any{{"address": mail}}
}

// phonesOf is a person's phones made from the user's businessPhones (type "business")
// and mobilePhone (type "mobile"), each only if the caller may see it. The types are
// the phoneType enumeration's members
// (https://learn.microsoft.com/graph/api/resources/phone).
func phonesOf(u graph.User, business, mobile bool) []map[string]any {
	out := []map[string]any{}
	if business {
		for _, n := range stringsOf(u["businessPhones"]) {
			out = append(out, map[string]any{"type": "business", "number": n})
		}
	}
	if mobile {
		if s, ok := u["mobilePhone"].(string); ok && s != "" {
			out = append(out, map[string]any{"type": "mobile", "number": s})
		}
	}
	return out
}

// stringsOf returns the non-empty strings of a JSON array value.
func stringsOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// peopleContext is the @odata.context fragment of a people list, like Graph's.
func peopleContext(t odata.Target) string {
	if t.Me {
		return "users('me')/people"
	}
	return "users/people"
}
