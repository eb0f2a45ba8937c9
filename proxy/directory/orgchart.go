package directory

import (
	"context"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// Manager returns the manager of the user with object id userID. No manager, and a
// deactivated manager, are both ErrNotFound.
func (d *Directory) Manager(ctx context.Context, tenantID, userID string) (graph.User, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindManager, userID, ErrNotFound,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			m, err := up.Manager(ctx, userID, d.fields)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{user: m}, Size: sizeOfUser(m), Users: []string{userID, m.ID()}}, nil
		})
	if err == nil && !e.user.AccountEnabled() {
		return nil, outcome, ErrNotFound
	}
	return e.user, outcome, err
}

// DirectReports returns the enabled direct reports of the user with object id userID.
// The slice is shared with the cache: read only.
func (d *Directory) DirectReports(ctx context.Context, tenantID, userID string) ([]graph.User, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindReports, userID, nil,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			rs, err := up.DirectReports(ctx, userID, d.fields)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			ids := append(idsOf(rs), userID)
			rs = enabledOnly(rs)
			return cache.Item[entry]{Value: entry{users: rs}, Size: sizeOfUsers(rs), Users: ids}, nil
		})
	return e.users, outcome, err
}
