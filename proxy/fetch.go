package proxy

import (
	"context"
	"errors"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// entry is what the cache holds: data already minimised to the union of fields some
// policy allows. Exactly one of its fields is set, depending on the key's Kind.
type entry struct {
	user     graph.User
	page     graph.UserPage
	photo    graph.Photo
	presence graph.Presence
}

// Cache key kinds.
const (
	kindUser     = "user"
	kindList     = "list"
	kindManager  = "manager"
	kindReports  = "reports"
	kindPhoto    = "photo"
	kindPresence = "presence"
)

// userID returns a user record's object id.
func userID(u graph.User) string {
	id, _ := u["id"].(string)
	return id
}

// enabled reports whether a user record is of an enabled account. A record without
// accountEnabled is treated as disabled: hiding too much is the safe failure.
func enabled(u graph.User) bool {
	v, ok := u["accountEnabled"].(bool)
	return ok && v
}

// sizeOfUser estimates the memory a user record holds, for the cache's byte bound.
func sizeOfUser(u graph.User) int {
	n := 64
	for k, v := range u {
		n += len(k) + 16
		switch x := v.(type) {
		case string:
			n += len(x)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					n += len(s) + 16
				}
			}
		}
	}
	return n
}

func userIDs(users []graph.User) []string {
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, userID(u))
	}
	return ids
}

// negative returns a cache item that remembers a not-found answer.
func negative(err error) cache.Item[entry] {
	return cache.Item[entry]{Err: err, Size: 64}
}

// load runs a cached, single-flighted upstream call for one tenant. Not-found answers are
// cached as negative entries with notFound as their error.
func (s *Server) load(ctx context.Context, t *tenantState, key cache.Key, notFound error,
	fetch func(ctx context.Context) (cache.Item[entry], error)) (entry, cache.Outcome, error) {
	key.Tenant = t.id
	item, outcome, err := s.cache.GetOrLoad(ctx, key, func(ctx context.Context) (cache.Item[entry], error) {
		var it cache.Item[entry]
		err := t.call(ctx, func(ctx context.Context) error {
			var err error
			it, err = fetch(ctx)
			return err
		})
		if errors.Is(err, graph.ErrNotFound) && notFound != nil {
			return negative(notFound), nil
		}
		return it, err
	})
	if err != nil {
		return entry{}, outcome, upstreamError(err)
	}
	if item.Err != nil {
		return entry{}, outcome, item.Err
	}
	return item.Value, outcome, nil
}

// loadUser returns an enabled user of the caller's tenant by id or UPN. Deactivated and
// unknown accounts are both "not found". The returned record still holds the internal
// fields; handlers project it to the caller's fields.
func (s *Server) loadUser(ctx context.Context, t *tenantState, idOrUPN string) (graph.User, cache.Outcome, error) {
	u, outcome, err := s.loadAnyUser(ctx, t, idOrUPN)
	if err == nil && !enabled(u) {
		return nil, outcome, errNotFound()
	}
	return u, outcome, err
}

// loadAnyUser is loadUser without hiding deactivated accounts; only the photo endpoints
// use it, to draw an initials avatar in place of a deactivated user's photo.
func (s *Server) loadAnyUser(ctx context.Context, t *tenantState, idOrUPN string) (graph.User, cache.Outcome, error) {
	key := cache.Key{Kind: kindUser, ID: strings.ToLower(idOrUPN)}
	e, outcome, err := s.load(ctx, t, key, errNotFound(), func(ctx context.Context) (cache.Item[entry], error) {
		u, err := t.up.User(ctx, idOrUPN, s.fields)
		if err != nil {
			return cache.Item[entry]{}, err
		}
		return cache.Item[entry]{Value: entry{user: u}, Size: sizeOfUser(u), Users: []string{userID(u)}}, nil
	})
	return e.user, outcome, err
}

// prefetchUsers loads the records of many users with as few upstream calls as Graph's
// $batch allows and stores them in the cache; ids already cached are skipped. Errors are
// ignored: each item then makes its own call and reports its own error.
func (s *Server) prefetchUsers(ctx context.Context, t *tenantState, ids []string) {
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.ToLower(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := s.cache.Get(cache.Key{Tenant: t.id, Kind: kindUser, ID: id}); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) < 2 {
		return
	}
	// A purge (e.g. a logout) during the fetch must win: store only if none happened.
	epoch := s.cache.Epoch(t.id)
	var results map[string]graph.BatchResult
	err := t.call(ctx, func(ctx context.Context) error {
		var err error
		results, err = t.up.UsersByID(ctx, missing, s.fields)
		return err
	})
	if err != nil {
		return
	}
	for id, r := range results {
		key := cache.Key{Tenant: t.id, Kind: kindUser, ID: strings.ToLower(id)}
		switch {
		case r.Err == nil && r.User != nil:
			_ = s.cache.SetSince(epoch, key, cache.Item[entry]{Value: entry{user: r.User}, Size: sizeOfUser(r.User), Users: []string{userID(r.User)}})
		case errors.Is(r.Err, graph.ErrNotFound):
			_ = s.cache.SetSince(epoch, key, negative(errNotFound()))
		}
	}
}
