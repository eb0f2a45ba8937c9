package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// User returns an enabled user of the tenant by object id or userPrincipalName.
// Deactivated and unknown accounts are both ErrNotFound. The record holds the internal
// fields too; callers project it to what the caller may see.
func (d *Directory) User(ctx context.Context, tenantID, idOrUPN string) (graph.User, cache.Outcome, error) {
	u, outcome, err := d.AnyUser(ctx, tenantID, idOrUPN)
	if err == nil && !u.AccountEnabled() {
		return nil, outcome, ErrNotFound
	}
	return u, outcome, err
}

// AnyUser is User without hiding deactivated accounts: for an initials avatar in place
// of a deactivated user's photo, for session checks and for the admin API.
func (d *Directory) AnyUser(ctx context.Context, tenantID, idOrUPN string) (graph.User, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindUser, idOrUPN, ErrNotFound,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			u, err := up.User(ctx, idOrUPN, d.fields)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{user: u}, Size: sizeOfUser(u), Users: []string{u.ID()}}, nil
		})
	return e.user, outcome, err
}

// Users returns one page of a user listing (GET /users with $search, $filter, $orderby,
// $top, $count, $skiptoken), asking Graph for Fields. The query must already be
// checked against the caller's policy. Deactivated accounts are left out, also when
// Graph's eventually consistent index still lists them (see confirmEnabled).
func (d *Directory) Users(ctx context.Context, tenantID string, q graph.Query) (graph.UserPage, cache.Outcome, error) {
	q.Fields = d.fields
	e, outcome, err := d.load(ctx, tenantID, kindList, listKey(q), nil,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			epoch := d.cache.Epoch(tenantID)
			p, err := up.Users(ctx, q)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			ids := idsOf(p.Users)
			p.Users = enabledOnly(p.Users)
			if q.EventuallyConsistent() {
				listed := len(p.Users)
				if p.Users, err = d.confirmEnabled(ctx, tenantID, up.UsersByID, func() cache.Epoch { return epoch }, idsOf(p.Users)); err != nil {
					return cache.Item[entry]{}, err
				}
				if dropped := int64(listed - len(p.Users)); p.Count != nil && dropped > 0 {
					n := max(*p.Count-dropped, 0) // the index counted them too
					p.Count = &n
				}
			}
			return cache.Item[entry]{Value: entry{page: p}, Size: sizeOfUsers(p.Users), Users: ids}, nil
		})
	return e.page, outcome, err
}

// confirmEnabled keeps the users of an eventually consistent listing whose own record
// says the account is enabled. $search and $count answers come from an index that lags
// behind the directory, so an account disabled moments ago is still listed there as
// enabled (https://learn.microsoft.com/graph/aad-advanced-queries); its record, read by
// id, is current. Records come from the cache or, for the rest, from fetch (one $batch
// per 20 users: Upstream.UsersByID); fetched records are cached, as reads of them are
// likely next. A record that cannot be read fails the listing: an unconfirmed account is
// never shown.
//
// ids are the listed users' object ids; epoch is called, before fetching, for the cache
// epoch that fetched records are stored under (see cache.Cache.SetSince).
func (d *Directory) confirmEnabled(ctx context.Context, tenantID string,
	fetch func(ctx context.Context, ids, fields []string) (map[string]graph.BatchResult, error),
	epoch func() cache.Epoch, ids []string) ([]graph.User, error) {
	records := make(map[string]graph.User, len(ids))
	var missing []string
	for _, id := range ids {
		id = strings.ToLower(id)
		it, ok := d.cache.Get(key(tenantID, kindUser, id))
		switch {
		case !ok:
			missing = append(missing, id)
		case it.Err == nil:
			records[id] = it.Value.user
		}
	}
	if len(missing) > 0 {
		epoch := epoch()
		results, err := fetch(ctx, missing, d.fields)
		if err != nil {
			return nil, err
		}
		for _, id := range missing {
			r, ok := results[id]
			switch {
			case ok && r.Err == nil && r.User != nil:
				records[id] = r.User
				_ = d.cache.SetSince(epoch, key(tenantID, kindUser, id),
					cache.Item[entry]{Value: entry{user: r.User}, Size: sizeOfUser(r.User), Users: []string{r.User.ID()}})
			case ok && errors.Is(r.Err, graph.ErrNotFound):
				_ = d.cache.SetSince(epoch, key(tenantID, kindUser, id), negative(ErrNotFound))
			case ok:
				return nil, r.Err
			default:
				return nil, fmt.Errorf("directory: confirm listed users: no answer for one of them: %w", ErrUnavailable)
			}
		}
	}
	out := make([]graph.User, 0, len(ids))
	for _, id := range ids {
		if rec, ok := records[strings.ToLower(id)]; ok && rec.AccountEnabled() {
			out = append(out, rec)
		}
	}
	return out, nil
}

// listKey identifies a list query in the cache.
func listKey(q graph.Query) string {
	return fmt.Sprintf("s=%q f=%q o=%q t=%d c=%t k=%q", q.Search, q.Filter, q.OrderBy, q.Top, q.Count, q.SkipToken)
}

// Prefetch loads the records of many users of a tenant by object id with as few
// upstream calls as Graph's $batch allows and caches them; ids already cached are
// skipped. Errors are ignored: each later read then makes its own call and reports its
// own error.
func (d *Directory) Prefetch(ctx context.Context, tenantID string, ids []string) {
	t, ok := d.tenants[tenantID]
	if !ok {
		return
	}
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.ToLower(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := d.cache.Get(key(tenantID, kindUser, id)); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) < 2 {
		return
	}
	// A purge (e.g. a logout) during the fetch must win: store only if none happened.
	epoch := d.cache.Epoch(tenantID)
	var results map[string]graph.BatchResult
	err := t.call(ctx, func(ctx context.Context) error {
		var err error
		results, err = t.up.UsersByID(ctx, missing, d.fields)
		return err
	})
	if err != nil {
		return
	}
	for id, r := range results {
		k := key(tenantID, kindUser, id)
		switch {
		case r.Err == nil && r.User != nil:
			_ = d.cache.SetSince(epoch, k, cache.Item[entry]{Value: entry{user: r.User}, Size: sizeOfUser(r.User), Users: []string{r.User.ID()}})
		case errors.Is(r.Err, graph.ErrNotFound):
			_ = d.cache.SetSince(epoch, k, negative(ErrNotFound))
		}
	}
}
