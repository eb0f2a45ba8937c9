package proxy

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// errPeopleSearchHidden refuses a people $search by a client app that may see none of
// the properties a people search matches: whatever it found would be found through
// hidden data.
var errPeopleSearchHidden = errBadRequest("Invalid $search: this client app may not see the name or " +
	"e-mail address of others, which a people search matches.")

// errOthersPeople refuses another user's people to a client app that may read neither
// managers nor direct reports: that list shows only such relationships.
var errOthersPeople = errForbidden("Another user's relevant people are their manager, direct reports and peers: " +
	"this client app may read neither managers (manager.read) nor direct reports (directReports.read).")

// handlePeople serves GET /me/people and /users/{id}/people: the people most relevant to
// the user, as Graph's People API ranks them, limited to enabled users of the caller's
// own directory (contacts and outside people never leave graphgate), each shown as
// the person resource made from the user's record with the fields the caller's policy
// allows of others (policy.Client.DecidePerson). A $search finds only people whom the
// text matches by a property the caller may see, and reaches beyond the user's relevant
// people into the whole directory only for an app that may list users (users.list).
// Another user's list holds only the org-chart relationships the app may read (see
// peopleKeep). Pages ($top, $skip) and @odata.nextLink are counted after all of that, so
// they never show that anyone was left out; only the first directory.PeopleWindow
// people Graph ranks are served.
func handlePeople(dir *directory.Directory, dec *decider, ln links) gin.HandlerFunc {
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
		d := dec.personDecision(sc.client, q)
		if !d.Allowed {
			abortWithError(c, errForbidden(d.Reason))
			return
		}
		var people []graph.User
		var hidden []string
		more := false
		if q.OrganizationUsers && q.Skip < directory.PeopleWindow { // else no one is served
			if people, more, hidden, err = readPeople(c, dir, q, owner); err != nil {
				abortWithError(c, err)
				return
			}
		}
		noteWithheld(c, d.Withheld) // on an answer only: an error withholds nothing
		noteWithheld(c, hidden)
		people = people[min(q.Skip, len(people)):]
		value := make([]map[string]any, 0, len(people))
		for _, u := range people {
			value = append(value, personOf(u, d))
		}
		t := targetOf(c)
		body := gin.H{"@odata.context": ln.context(c, "users('"+owner.ID()+"')/people"), "value": value}
		if more {
			body["@odata.nextLink"] = ln.base(c) + "/v1.0" + subjectPath(t) + "/people?" + q.Encode(q.Skip+q.Top)
		}
		writeJSON(c, body)
	}
}

// readPeople reads the first $skip+$top people of the owner's list the caller may be
// shown (peopleKeep), at most directory.PeopleWindow (q.Skip is below it), and whether
// more follow; hidden are the properties a search could not use.
func readPeople(c *gin.Context, dir *directory.Directory, q odata.PeopleQuery, owner graph.User) (
	people []graph.User, more bool, hidden []string, err error) {
	keep, hidden, err := peopleKeep(c, dir, q, owner)
	if err != nil {
		return nil, false, nil, err
	}
	sc := scopeOf(c)
	people, more, outcome, err := dir.People(c.Request.Context(), sc.tenantID(), directory.PeopleQuery{
		Owner: owner.ID(), Search: q.Search, Directory: sc.client.Allows(policy.OpUsersList),
		N: min(q.Skip+q.Top, directory.PeopleWindow)}, keep)
	sc.setOutcome(outcome)
	return people, more, hidden, err
}

// peopleKeep returns which listed people the caller may be shown: with a $search, those
// the text matches by a property the caller may see of others (hidden are the others,
// to report as withheld); for another user's list, only relationships the app could read
// anyway — the user's manager with manager.read, their direct reports with
// directReports.read, their peers with both (directory.Directory.Related).
func peopleKeep(c *gin.Context, dir *directory.Directory, q odata.PeopleQuery, owner graph.User) (
	keep func(graph.User) bool, hidden []string, err error) {
	sc := scopeOf(c)
	keep = func(graph.User) bool { return true }
	if q.Search != "" {
		ps := sc.client.PeopleSearch()
		if len(ps.Names) == 0 && len(ps.Addresses) == 0 {
			return nil, nil, errPeopleSearchHidden
		}
		text := foldSearch(q.Search)
		keep, hidden = func(u graph.User) bool { return peopleMatch(u, text, ps) }, ps.Hidden
	}
	if isSelf(sc, owner) {
		return keep, hidden, nil
	}
	manager, reports := sc.client.Allows(policy.OpManagerRead), sc.client.Allows(policy.OpDirectReportsRead)
	if !manager && !reports {
		return nil, nil, errOthersPeople
	}
	related, err := dir.Related(c.Request.Context(), sc.tenantID(), owner.ID(), manager, reports)
	if err != nil {
		return nil, nil, err
	}
	match := keep
	return func(u graph.User) bool { return related[strings.ToLower(u.ID())] && match(u) }, hidden, nil
}

// personType is the personType every person graphgate serves shows; shared, read only.
var personType = policy.ConstantPersonType()

// personOf builds the person resource of a user record with the decision's fields: each
// person property from the user properties policy.PersonSources names, as far as
// d.UserFields holds them.
func personOf(u graph.User, d policy.PersonDecision) map[string]any {
	p := make(map[string]any, len(d.Fields))
	visible := func(f string) bool { return slices.Contains(d.UserFields, f) }
	for _, f := range d.Fields {
		switch f {
		case "personType":
			p[f] = personType
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
			out = append(out, map[string]any{"type": spec.PhoneTypeBusiness, "number": n})
		}
	}
	if mobile {
		if s, ok := u["mobilePhone"].(string); ok && s != "" {
			out = append(out, map[string]any{"type": spec.PhoneTypeMobile, "number": s})
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
