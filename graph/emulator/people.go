package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/graphgate/graphgate/graph/spec"
)

// GET /v1.0/users/{id}/people, the People API ("List people",
// https://learn.microsoft.com/graph/api/user-list-people; "Use the People API",
// https://learn.microsoft.com/graph/people-insights-overview, whose examples are cited
// below). With application permissions only /users/{id}/people exists (there is no
// signed-in user) and it needs People.Read.All. A user's relevant people come from
// people_fixtures.go; $filter and $search from people_filter.go.
//
//   - "People are ordered by relevance"; "By default, each response returns 10 records,
//     but you can change this by using the $top parameter" (the examples ask $top=1000,
//     spec.MaxPeopleTop); $skip pages; $select limits the fields, id is always returned;
//     $orderby=displayName sorts.
//   - "$search=j" finds people whose displayName or email address has a word beginning
//     with "j"; a quoted address finds that address. "By default, Microsoft Graph serves
//     mailbox-only results ... To retrieve organizational wide directory results, specify
//     a HTTP header X-PeopleQuery-QuerySources: Mailbox,Directory": with it, a search also
//     finds every user of the tenant that is not among the owner's relevant people
//     (deactivated ones included: the index lags the directory), after the relevant ones,
//     in directory order.
//   - Paging: with $top, @odata.nextLink repeats the query with $skip=skip+top while more
//     people follow ("https://graph.microsoft.com/v1.0/me/people?%24top=10&%24skip=10",
//     microsoftgraph/microsoft-graph-docs-contrib#658). Without $top, Graph's nextLink
//     says $skip=0 and points to the first page again, so following it loops
//     (microsoftgraph/msgraph-sdk-javascript#1656, microsoftgraph/msgraph-sdk-dotnet#1102),
//     and it is there even when every person fits one page: "the returned @odata.nextLink
//     always points to itself" (microsoftgraph/microsoft-graph-docs#9008). The emulator
//     reproduces both.
//   - $skip is served here only: on /users Graph refuses it ("'$skip' is not supported by
//     the service.", microsoftgraph/microsoft-graph-docs#9279).

// handlePeople serves GET /v1.0/users/{id}/people in every key spelling (keys.go).
func (e *Emulator) handlePeople(w http.ResponseWriter, r *http.Request, ts *tenantState) {
	pq, qerr := parsePeopleQuery(r)
	if qerr != nil {
		writeQueryError(w, r, qerr)
		return
	}
	id := userKey(r)
	e.mu.RLock()
	u := ts.lookup(id)
	var people []Person
	var owner string
	if u != nil {
		owner, people = u.ID, ts.peopleFor(u, pq)
	}
	e.mu.RUnlock()
	switch {
	case u == nil:
		notFound(w, r, id)
		return
	case u.UserType == "Guest":
		// A B2B guest has no mailbox in the tenant, and the People API is computed from
		// the mailbox. Graph's mailbox-backed APIs answer such users 404
		// MailboxNotEnabledForRESTAPI (microsoftgraph/msgraph-sdk-powershell#3531,
		// microsoftgraph/microsoft-graph-docs-contrib#405); that the People API answers
		// the same is inferred, not documented.
		graphError(w, r, http.StatusNotFound, "MailboxNotEnabledForRESTAPI",
			"The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
		return
	}
	writeJSON(w, http.StatusOK, e.peoplePage(r, pq, owner, people))
}

// peopleFor returns the people of u that pq selects, in answer order, before paging;
// callers hold e.mu.
func (ts *tenantState) peopleFor(u *User, pq *peopleQuery) []Person {
	out := ts.relevantOf(u)
	if pq.search != nil {
		out = ts.searchPeople(out, pq)
	}
	if pq.match != nil {
		out = slices.DeleteFunc(out, func(x Person) bool { return !pq.match(&x) })
	}
	if pq.order != 0 {
		slices.SortStableFunc(out, func(a, b Person) int {
			return pq.order * strings.Compare(foldText(a.DisplayName), foldText(b.DisplayName))
		})
	}
	return out
}

// searchPeople keeps the relevant people matching pq.search and, when pq asks the
// directory, adds the tenant's other matching users after them, scored on from the last
// relevant rank; callers hold e.mu.
func (ts *tenantState) searchPeople(relevant []Person, pq *peopleQuery) []Person {
	listed := make(map[string]bool, len(relevant))
	out := make([]Person, 0, len(relevant))
	for _, x := range relevant {
		listed[x.ID] = true
		if pq.search.matches(&x) {
			out = append(out, x)
		}
	}
	if !pq.directory {
		return out
	}
	rank := len(relevant)
	for _, d := range ts.users {
		if listed[d.ID] {
			continue
		}
		probe := Person{DisplayName: d.DisplayName}
		if d.Mail != "" {
			probe.Emails = []string{d.Mail}
		}
		if pq.search.matches(&probe) {
			x := userPerson(d)
			x.RelevanceScore = relevance(rank)
			rank++
			out = append(out, x)
		}
	}
	return out
}

// peoplePage renders one page of people: @odata.context, @odata.nextLink (see the
// paging notes above) and the value.
func (e *Emulator) peoplePage(r *http.Request, pq *peopleQuery, owner string, people []Person) ordered {
	start := min(pq.skip, len(people))
	end := min(start+pq.top, len(people))
	props := spec.PersonProperties()
	value := make([]ordered, 0, end-start)
	for i := start; i < end; i++ {
		value = append(value, personJSON(&people[i], pq.sel, props))
	}
	body := ordered{{"@odata.context", e.url + "/v1.0/$metadata#users('" + owner + "')/people" + selectSuffix(pq.sel)}}
	switch {
	case !pq.hasTop:
		body = append(body, kv{"@odata.nextLink", e.peopleNextLink(r, 0)})
	case end < len(people):
		body = append(body, kv{"@odata.nextLink", e.peopleNextLink(r, end)})
	}
	return append(body, kv{"value", value})
}

// peopleNextLink repeats the request's path and query, in the order sent and
// percent-encoded as Graph encodes them ("%24top=10&%24skip=10"), with $skip replaced
// by skip at the end.
func (e *Emulator) peopleNextLink(r *http.Request, skip int) string {
	var sb strings.Builder
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || key == "" || strings.EqualFold(strings.TrimPrefix(key, "$"), "skip") {
			continue
		}
		if val, err := url.QueryUnescape(v); err == nil {
			v = val
		}
		sb.WriteString(url.QueryEscape(key) + "=" + url.QueryEscape(v) + "&")
	}
	return e.url + requestPath(r) + "?" + sb.String() + "%24skip=" + strconv.Itoa(skip)
}

// personJSON renders x as Graph's person resource, its members in documentation order
// (props); with sel, only the selected ones and id ("id" is always returned,
// https://learn.microsoft.com/graph/people-insights-overview).
func personJSON(x *Person, sel, props []string) ordered {
	o := make(ordered, 0, len(props))
	for _, name := range props {
		if sel == nil || name == "id" || slices.Contains(sel, name) {
			o = append(o, kv{name, personValue(x, name)})
		}
	}
	return o
}

// personValue is one member of the person resource, with the values of Graph's
// documented example: "" for birthday, personNotes, yomiCompany and profession, empty
// postal addresses and websites, "sip:{upn}" as the imAddress of an organisation user,
// null for what a person lacks.
func personValue(x *Person, name string) any {
	switch name {
	case "id":
		return x.ID
	case "displayName":
		return x.DisplayName
	case "givenName":
		return nullable(x.GivenName)
	case "surname":
		return nullable(x.Surname)
	case "jobTitle":
		return nullable(x.JobTitle)
	case "companyName":
		return nullable(x.CompanyName)
	case "department":
		return nullable(x.Department)
	case "officeLocation":
		return nullable(x.OfficeLocation)
	case "userPrincipalName":
		return x.UserPrincipalName
	case "isFavorite":
		return false
	case "imAddress":
		if x.Subclass == spec.PersonOrganizationUser && x.UserPrincipalName != "" {
			return "sip:" + strings.ToLower(x.UserPrincipalName)
		}
		return nil
	case "scoredEmailAddresses":
		out := make([]ordered, 0, len(x.Emails))
		for _, m := range x.Emails {
			out = append(out, ordered{{"address", m}, {"relevanceScore", x.RelevanceScore}})
		}
		return out
	case "phones":
		out := make([]ordered, 0, len(x.Phones))
		for _, p := range x.Phones {
			out = append(out, ordered{{"type", p.Type}, {"number", p.Number}})
		}
		return out
	case "postalAddresses", "websites":
		return []any{}
	case "personType":
		return ordered{{"class", x.Class}, {"subclass", x.Subclass}}
	}
	return "" // birthday, personNotes, yomiCompany, profession
}
