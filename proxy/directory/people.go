package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/spec"
)

// PeopleWindow is how many of a user's relevant people graphgate asks Graph for (one
// People API read per owner, search and source, cached): people lists are served from
// this many, so $skip beyond it finds nobody.
const PeopleWindow = 100

// PeopleQuery says which of a user's relevant people to read.
type PeopleQuery struct {
	// Owner is the object id of the enabled user whose relevant people are read.
	Owner string
	// Search is the People API's $search text (see graph.Client.People); "" for none.
	Search string
	// Directory widens a search from the owner's mailbox to the whole directory.
	Directory bool
	// N is how many people to return, 1..PeopleWindow.
	N int
}

// People returns, in Graph's order of relevance, the first q.N people most relevant to
// q.Owner whom keep accepts, and whether more such people follow.
//
// Only users of the tenant's directory are returned, each as its own current record
// (fetched with Fields, like every user read): Graph is asked for organisation users'
// ids only, and every id is confirmed by its record, so a contact, a person of another
// directory, an unknown id and a deactivated account (the People index lags behind the
// directory) never reach keep or the caller. Since the ranked ids are filtered before
// counting, a page never shows that anyone was left out. The ranked ids are cached per
// owner, search and source (single-flighted, purged with the owner's and with every
// listed user's records); records come from the cache or one $batch per 20 people. An
// owner Graph has no people for (its 404, e.g. a user without a mailbox) has none.
func (d *Directory) People(ctx context.Context, tenantID string, q PeopleQuery,
	keep func(graph.User) bool) ([]graph.User, bool, cache.Outcome, error) {
	id := q.Owner + "\x00" + q.Search
	if q.Directory {
		id += "\x00directory"
	}
	e, outcome, err := d.load(ctx, tenantID, kindPeople, id, nil,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			ids, err := up.People(ctx, q.Owner, q.Search, q.Directory, PeopleWindow)
			if err != nil && !errors.Is(err, graph.ErrNotFound) {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{ids: ids}, Size: 64 + 40*len(ids),
				Users: append([]string{q.Owner}, ids...)}, nil
		})
	if err != nil {
		return nil, false, outcome, err
	}
	n := min(q.N, PeopleWindow)
	out := make([]graph.User, 0, min(n, len(e.ids)))
	for start := 0; start < len(e.ids); start += spec.MaxBatchRequests {
		records, err := d.confirmIDs(ctx, tenantID, e.ids[start:min(start+spec.MaxBatchRequests, len(e.ids))])
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
	fetch := func(ctx context.Context, ids, fields []string) (map[string]graph.BatchResult, error) {
		var out map[string]graph.BatchResult
		err := t.call(ctx, func(ctx context.Context) error {
			var err error
			out, err = t.up.UsersByID(ctx, ids, fields)
			return err
		})
		return out, err
	}
	out, err := d.confirmEnabled(ctx, tenantID, fetch, func() cache.Epoch { return d.cache.Epoch(tenantID) }, ids)
	return out, domainError(err)
}

// Related returns the object ids (lower case) of the people with a public relationship to
// the enabled user userID in the org chart that the caller may read: their manager (if
// manager), their direct reports (if reports) and their peers, the manager's other
// reports (if both). For another user's relevant people, Graph shows only people with
// such a public relationship, since "if the profile owner communicates with someone and
// there is no public relationship between them ... the fact that they've been
// communicating will not be visible to others"
// (https://learn.microsoft.com/graph/people-insights-overview#working-with-feature-implementation);
// graphgate reads the People API with an application permission, which does not apply
// that rule, so it applies it itself, and shows no relationship the caller could not
// read through /manager and /directReports. (Graph also counts small public groups,
// which graphgate does not read.)
func (d *Directory) Related(ctx context.Context, tenantID, userID string, manager, reports bool) (map[string]bool, error) {
	related := map[string]bool{}
	add := func(us []graph.User) {
		for _, u := range us {
			related[strings.ToLower(u.ID())] = true
		}
	}
	if reports {
		rs, _, err := d.DirectReports(ctx, tenantID, userID)
		if err != nil {
			return nil, err
		}
		add(rs)
	}
	if !manager {
		return related, nil
	}
	m, _, err := d.Manager(ctx, tenantID, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return related, nil
	case err != nil:
		return nil, err
	}
	add([]graph.User{m})
	if reports {
		peers, _, err := d.DirectReports(ctx, tenantID, m.ID())
		if err != nil {
			return nil, err
		}
		add(peers)
	}
	delete(related, strings.ToLower(userID))
	return related, nil
}
