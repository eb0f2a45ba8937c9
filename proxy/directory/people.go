package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// PeopleWindow is how many of a user's relevant people graphgate asks Graph for (one
// People API read per owner and search, cached): people lists are served from this
// many, so $skip beyond it finds nobody.
const PeopleWindow = 100

// confirmChunk is how many listed people a people read confirms at a time: one Graph
// $batch of user records (spec.MaxBatchRequests).
const confirmChunk = 20

// People returns, in Graph's order of relevance, the first n people most relevant to the
// enabled user ownerID (an object id) whom keep accepts, and whether more such people
// follow. A non-empty search is the People API's $search text (see graph.Client.People).
//
// Only users of the tenant's directory are returned, each as its own current record
// (fetched with Fields, like every user read): Graph is asked for organisation users'
// ids only, and every id is confirmed by its record, so a contact, a person of another
// directory, an unknown id and a deactivated account (the People index lags behind the
// directory) never reach keep or the caller. Since the ranked ids are filtered before
// counting, a page never shows that anyone was left out. The ranked ids are cached per
// owner and search (single-flighted, purged with the owner's and with every listed
// user's records); records come from the cache or one $batch per 20 people.
func (d *Directory) People(ctx context.Context, tenantID, ownerID, search string, n int,
	keep func(graph.User) bool) ([]graph.User, bool, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindPeople, ownerID+"\x00"+search, nil,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			ids, err := up.People(ctx, ownerID, search, PeopleWindow)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{ids: ids}, Size: 64 + 40*len(ids),
				Users: append([]string{ownerID}, ids...)}, nil
		})
	if err != nil {
		return nil, false, outcome, err
	}
	out := make([]graph.User, 0, n)
	for start := 0; start < len(e.ids); start += confirmChunk {
		records, err := d.confirmIDs(ctx, tenantID, e.ids[start:min(start+confirmChunk, len(e.ids))])
		if err != nil {
			return nil, false, outcome, err
		}
		for _, u := range records {
			if !keep(u) {
				continue
			}
			if len(out) == n {
				return out, true, outcome, nil
			}
			out = append(out, u)
		}
	}
	return out, false, outcome, nil
}

// confirmIDs returns the records of the enabled users among ids, in their order (see
// confirmEnabled); only the records not cached take an upstream slot of the tenant.
func (d *Directory) confirmIDs(ctx context.Context, tenantID string, ids []string) ([]graph.User, error) {
	t, ok := d.tenants[tenantID]
	if !ok {
		return nil, ErrUnknownTenant
	}
	listed := make([]graph.User, len(ids))
	for i, id := range ids {
		listed[i] = graph.User{"id": id}
	}
	fetch := func(ctx context.Context, ids, fields []string) (map[string]graph.BatchResult, error) {
		var out map[string]graph.BatchResult
		err := t.call(ctx, func(ctx context.Context) error {
			var err error
			out, err = t.up.UsersByID(ctx, ids, fields)
			return err
		})
		return out, err
	}
	out, err := d.confirmEnabled(ctx, tenantID, fetch, d.cache.Epoch(tenantID), listed)
	return out, domainError(err)
}

// Related returns the object ids (lower case) of the people with a public relationship to
// the enabled user userID in the org chart: their manager, their direct reports and
// their peers (the manager's other reports). For another user's relevant people, Graph
// shows only people with such a public relationship, since "if the profile owner
// communicates with someone and there is no public relationship between them ... the
// fact that they've been communicating will not be visible to others"
// (https://learn.microsoft.com/graph/people-insights-overview#working-with-feature-implementation);
// graphgate reads the People API with an application permission, which does not apply
// that rule, so it applies it itself. (Graph also counts small public groups, which
// graphgate does not read.)
func (d *Directory) Related(ctx context.Context, tenantID, userID string) (map[string]bool, error) {
	related := map[string]bool{}
	reports, _, err := d.DirectReports(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		related[strings.ToLower(r.ID())] = true
	}
	m, _, err := d.Manager(ctx, tenantID, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return related, nil
	case err != nil:
		return nil, err
	}
	related[strings.ToLower(m.ID())] = true
	peers, _, err := d.DirectReports(ctx, tenantID, m.ID())
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		related[strings.ToLower(p.ID())] = true
	}
	delete(related, strings.ToLower(userID))
	return related, nil
}
