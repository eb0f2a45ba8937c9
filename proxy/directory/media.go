package directory

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// Photo returns the photo of the user with object id userID in a size Graph serves
// ("" for the largest). A user without a photo is ErrNoPhoto. Callers check that the
// account is enabled first (a deactivated account gets an initials avatar instead).
func (d *Directory) Photo(ctx context.Context, tenantID, userID, size string) (graph.Photo, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindPhoto, userID+"|"+size, ErrNoPhoto,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			p, err := up.Photo(ctx, userID, size)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{photo: p}, Size: len(p.Data) + 64, Users: []string{userID}}, nil
		})
	return e.photo, outcome, err
}

// Presence returns the presence of the user with object id userID. Callers check that
// the account is enabled first (as for Photo): it is not read again here.
func (d *Directory) Presence(ctx context.Context, tenantID, userID string) (graph.Presence, cache.Outcome, error) {
	e, outcome, err := d.load(ctx, tenantID, kindPresence, userID, ErrNotFound,
		func(ctx context.Context, up Upstream) (cache.Item[entry], error) {
			p, err := up.Presence(ctx, userID)
			if err != nil {
				return cache.Item[entry]{}, err
			}
			return cache.Item[entry]{Value: entry{presence: p}, Size: 128, Users: []string{userID}}, nil
		})
	return e.presence, outcome, err
}

// Presences returns the presence of each enabled user of the tenant among ids (object
// ids), in one upstream call. Unknown, foreign and deactivated ids are left out, as if
// they had no presence; an id given twice is asked for and answered once. Presences
// are not cached: the answer is as fresh as Graph's.
func (d *Directory) Presences(ctx context.Context, tenantID string, ids []string) ([]graph.Presence, error) {
	t, ok := d.tenants[tenantID]
	if !ok {
		return nil, ErrUnknownTenant
	}
	ids = uniqueFold(ids)
	d.Prefetch(ctx, tenantID, ids)
	var visible []string
	for _, id := range ids {
		u, _, err := d.User(ctx, tenantID, id)
		switch {
		case err == nil:
			visible = append(visible, u.ID())
		case !errors.Is(err, ErrNotFound):
			return nil, err // throttled, busy, unavailable: not "no presence"
		}
	}
	if len(visible) == 0 {
		return nil, nil
	}
	var ps []graph.Presence
	err := t.call(ctx, func(ctx context.Context) error {
		var err error
		ps, err = t.up.Presences(ctx, visible)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := ps[:0:0]
	for _, p := range ps {
		if slices.ContainsFunc(visible, func(v string) bool { return strings.EqualFold(v, p.ID) }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// uniqueFold returns ids without repeats (object ids compare case-insensitively), in
// the order given.
func uniqueFold(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if k := strings.ToLower(id); !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	return out
}
