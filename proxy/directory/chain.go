package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
)

// MaxChain is the most managers ManagerChain returns: Graph's largest $levels
// (https://learn.microsoft.com/graph/api/user-list-manager).
const MaxChain = 1000

// ManagerChain returns the management chain of the user with object id userID: their
// manager, that manager's manager and so on, at most levels of them (clamped to
// 1..MaxChain). Each step is a Manager lookup, cached and single-flighted, so the cache
// entries and their per-user purge are those of /manager. The chain ends at a user
// without a manager or with a deactivated one (Manager treats both as none), and before
// a manager already in it (a cycle). The outcome is the least cached of the steps'.
// The slice's records are shared with the cache: read only.
func (d *Directory) ManagerChain(ctx context.Context, tenantID, userID string, levels int) ([]graph.User, cache.Outcome, error) {
	return walkChain(userID, levels, func(id string) (graph.User, cache.Outcome, error) {
		return d.Manager(ctx, tenantID, id)
	})
}

// walkChain follows next (a user's manager, ErrNotFound for none) from start.
func walkChain(start string, levels int, next func(id string) (graph.User, cache.Outcome, error)) ([]graph.User, cache.Outcome, error) {
	levels = min(max(levels, 1), MaxChain)
	seen := map[string]bool{strings.ToLower(start): true}
	var chain []graph.User
	outcome := cache.OutcomeHit
	for cur := start; len(chain) < levels; {
		m, o, err := next(cur)
		outcome = leastCached(outcome, o)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return nil, outcome, err
		}
		id := strings.ToLower(m.ID())
		if id == "" || seen[id] {
			break
		}
		seen[id] = true
		chain = append(chain, m)
		cur = m.ID()
	}
	return chain, outcome, nil
}

// leastCached returns the outcome that says less was served from the cache: a miss
// over a shared load over a hit.
func leastCached(a, b cache.Outcome) cache.Outcome {
	rank := map[cache.Outcome]int{cache.OutcomeHit: 0, cache.OutcomeShared: 1, cache.OutcomeMiss: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
