package graph

import (
	"context"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/graphgate/graphgate/graph/spec"
)

// organizationUsers is the $filter of every People API read: only people who are users
// of the directory, so that mailbox contacts and people met in mail (other people's
// personal data that no directory policy covers) never leave Graph.
// See https://learn.microsoft.com/graph/people-insights-overview#use-a-filter-to-limit-the-response.
const organizationUsers = "personType/class eq '" + spec.PersonClassPerson +
	"' and personType/subclass eq '" + spec.PersonOrganizationUser + "'"

// People returns the object ids of the directory users among the people most relevant to
// the user id (GET /users/{id}/people, application permission People.Read.All), in
// Graph's order of relevance, at most top (1..spec.MaxPeopleTop) of them. A non-empty
// search is the People API's $search text (a word prefix of the name or e-mail address,
// matched fuzzily by Graph), sent quoted; it must not hold '"' or '\\'. With directory,
// Graph is asked with X-PeopleQuery-QuerySources: Mailbox,Directory, so a search also
// finds colleagues the user never wrote to; without, with Mailbox only. Graph is asked
// only for organisation users' ids and types. Contacts, people from outside the
// directory and persons without an object id are dropped even if Graph returned them.
// See https://learn.microsoft.com/graph/api/user-list-people.
func (c *Client) People(ctx context.Context, id, search string, directory bool, top int) (_ []string, err error) {
	defer c.observe(opPeople, time.Now(), &err)
	const op = "list people"
	if err := validateID(op, id); err != nil {
		return nil, err
	}
	if top < 1 || top > spec.MaxPeopleTop || strings.ContainsAny(search, "\"\\") {
		return nil, badRequest(op, "invalid_people_query")
	}
	filter, t := organizationUsers, int32(top)
	q := &users.ItemPeopleRequestBuilderGetQueryParameters{Select: spec.PeopleSelect(), Filter: &filter, Top: &t}
	if search != "" {
		quoted := `"` + search + `"`
		q.Search = &quoted
	}
	h := abstractions.NewRequestHeaders()
	sources := "Mailbox"
	if directory {
		sources = "Mailbox,Directory"
	}
	h.Add(spec.PeopleQuerySourcesHeader, sources)
	var out []string
	err = c.call(ctx, op, people, func(ctx context.Context) error {
		resp, err := c.sdk.Users().ByUserId(id).People().Get(ctx,
			&users.ItemPeopleRequestBuilderGetRequestConfiguration{QueryParameters: q, Headers: h})
		if err != nil {
			return err
		}
		for _, p := range resp.GetValue() {
			pt, pid := p.GetPersonType(), p.GetId()
			if pid == nil || !spec.IsObjectID(*pid) || pt == nil || pt.GetSubclass() == nil ||
				!strings.EqualFold(*pt.GetSubclass(), spec.PersonOrganizationUser) {
				continue
			}
			out = append(out, strings.ToLower(*pid))
		}
		return nil
	})
	return out, err
}
