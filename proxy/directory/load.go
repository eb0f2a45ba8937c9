package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// entry is what the cache holds: data already minimised to the union of fields some
// policy allows. Exactly one of its fields is set, depending on the key's kind.
type entry struct {
	user     graph.User
	users    []graph.User
	page     graph.UserPage
	photo    graph.Photo
	presence graph.Presence
	ids      []string // a people list: object ids, most relevant first
}

// Cache key kinds: the one key scheme. A key is {tenant, kind, id}: the id is a
// lower-cased object id or UPN (with a size for photos), or for lists the query as sent
// to Graph, case kept (a $skiptoken is opaque and case-sensitive).
const (
	kindUser     = "user"
	kindList     = "list"
	kindManager  = "manager"
	kindReports  = "reports"
	kindPhoto    = "photo"
	kindPresence = "presence"
	kindPeople   = "people"
)

// key returns the cache key of a record of a tenant.
func key(tenantID, kind, id string) cache.Key {
	if kind != kindList {
		id = strings.ToLower(id) // object ids and UPNs compare case-insensitively in Graph
	}
	return cache.Key{Tenant: tenantID, Kind: kind, ID: id}
}

// tenant guards one tenant's upstream with a bounded number of concurrent Graph calls.
// Throttling has one owner, the tenant's graph.Client: after a 429 it refuses every
// call at once until Graph's Retry-After has passed (a *graph.ThrottledError carrying
// the remaining delay, mapped to a *ThrottledError here), so reads do not pile up
// behind a throttled tenant.
type tenant struct {
	id        string
	up        Upstream
	slots     chan struct{}
	queueWait time.Duration
}

func newTenant(t Tenant, concurrency int, wait time.Duration) *tenant {
	return &tenant{id: t.ID, up: t.Upstream, slots: make(chan struct{}, concurrency), queueWait: wait}
}

// call runs fn with an upstream slot and returns its error as a domain error.
func (t *tenant) call(ctx context.Context, fn func(ctx context.Context) error) error {
	timer := time.NewTimer(t.queueWait)
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
	case <-timer.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
	defer func() { <-t.slots }()
	return domainError(fn(ctx))
}

// domainError maps an error of the graph package to the directory's errors, keeping it
// as the cause. Errors that already are domain errors pass unchanged.
func domainError(err error) error {
	var te *graph.ThrottledError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return &ThrottledError{RetryAfter: te.RetryAfter, cause: err}
	case errors.Is(err, graph.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, graph.ErrBadRequest) && refusedLocally(err):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, graph.ErrBadRequest):
		return fmt.Errorf("%w: %w", ErrRejected, err)
	case errors.Is(err, graph.ErrForbidden), errors.Is(err, graph.ErrUnauthorized):
		return fmt.Errorf("%w: %w", ErrDenied, err)
	case isDomain(err):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// refusedLocally reports whether err is the graph package's own refusal, made before
// any request reached Graph (its *graph.Error has no HTTP status).
func refusedLocally(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.Status == 0
}

func isDomain(err error) bool {
	var te *ThrottledError
	return errors.As(err, &te) || errors.Is(err, ErrBusy) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrNoPhoto) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRejected) || errors.Is(err, ErrInvalid) ||
		errors.Is(err, ErrDenied) || errors.Is(err, ErrUnknownTenant)
}

// load runs a cached, single-flighted upstream call for one tenant. When notFound is
// set, Graph's not-found answer is cached as a negative entry with notFound as its
// error (ErrNotFound or ErrNoPhoto).
func (d *Directory) load(ctx context.Context, tenantID, kind, id string, notFound error,
	fetch func(ctx context.Context, up Upstream) (cache.Item[entry], error)) (entry, cache.Outcome, error) {
	t, ok := d.tenants[tenantID]
	if !ok {
		return entry{}, "", ErrUnknownTenant
	}
	item, outcome, err := d.cache.GetOrLoad(ctx, key(tenantID, kind, id), func(ctx context.Context) (cache.Item[entry], error) {
		var it cache.Item[entry]
		err := t.call(ctx, func(ctx context.Context) error {
			var err error
			it, err = fetch(ctx, t.up)
			return err
		})
		if notFound != nil && errors.Is(err, ErrNotFound) {
			return negative(notFound), nil
		}
		return it, err
	})
	if err != nil {
		return entry{}, outcome, domainError(err)
	}
	if item.Err != nil {
		return entry{}, outcome, item.Err
	}
	return item.Value, outcome, nil
}

// negative returns a cache item that remembers a not-found answer.
func negative(err error) cache.Item[entry] {
	return cache.Item[entry]{Err: err, Size: 64}
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

// sizeOfUsers is sizeOfUser summed over a list, plus the list's own overhead.
func sizeOfUsers(us []graph.User) int {
	n := 64
	for _, u := range us {
		n += sizeOfUser(u)
	}
	return n
}

// idsOf lists the object ids of users, for the cache's purge index.
func idsOf(users []graph.User) []string {
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID())
	}
	return ids
}

// enabledOnly returns the users whose accounts are enabled, in order.
func enabledOnly(users []graph.User) []graph.User {
	out := make([]graph.User, 0, len(users))
	for _, u := range users {
		if u.AccountEnabled() {
			out = append(out, u)
		}
	}
	return out
}
