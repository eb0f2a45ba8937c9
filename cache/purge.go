package cache

import (
	"fmt"
	"strings"
)

// Epoch marks a point in a tenant's purge history; see SetSince.
type Epoch struct {
	tenant string
	gen    uint64
}

// Epoch returns the current epoch of tenant. Take it before loading data that will be
// stored with SetSince.
func (c *Cache[V]) Epoch(tenant string) Epoch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Epoch{tenant: tenant, gen: c.gens[tenant]}
}

// SetSince is Set, except that it stores nothing and returns ErrPurged if the key's
// tenant had a purge (of any of its users, or of the whole tenant) after e was taken.
// An epoch of another tenant gives ErrInvalidKey.
func (c *Cache[V]) SetSince(e Epoch, key Key, item Item[V]) error {
	if err := key.validate(); err != nil {
		return err
	}
	if e.tenant != key.Tenant {
		return fmt.Errorf("%w: epoch of another tenant", ErrInvalidKey)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[key.Tenant] != e.gen {
		c.stats.discarded.Add(1)
		return ErrPurged
	}
	return c.storeLocked(key, item)
}

// PurgeUser removes every entry of tenant that lists userID in its Users and keeps loads
// of that tenant already in flight from being stored. It returns the number of entries
// removed.
func (c *Cache[V]) PurgeUser(tenant, userID string) int {
	if tenant == "" || userID == "" {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[tenant]++
	c.idxMu.Lock()
	keys := c.userKeysLocked(tenant, strings.ToLower(userID))
	c.idxMu.Unlock()
	n := c.removeAllLocked(keys, causePurged)
	c.log.Debug("cache: purged user", "entries", n)
	return n
}

// PurgeUsersWhere removes every entry of tenant that lists a user for which match
// returns true, and, like PurgeUser, keeps loads of that tenant already in flight from
// being stored. match receives the normalised (lowercased) user ids the tenant's cached
// entries list; it is called with the cache's locks held, so it must be a pure function
// that does not call back into the cache. It lets a caller that knows a user only by a
// keyed hash purge that user. It returns the number of entries removed.
func (c *Cache[V]) PurgeUsersWhere(tenant string, match func(userID string) bool) int {
	if tenant == "" || match == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[tenant]++
	c.idxMu.Lock()
	keys := c.matchingUserKeysLocked(tenant, match)
	c.idxMu.Unlock()
	n := c.removeAllLocked(keys, causePurged)
	c.log.Debug("cache: purged matching users", "entries", n)
	return n
}

// PurgeTenant removes every entry of tenant and keeps loads of that tenant already in
// flight from being stored. It returns the number of entries removed.
func (c *Cache[V]) PurgeTenant(tenant string) int {
	if tenant == "" {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[tenant]++
	c.idxMu.Lock()
	keys := c.tenantKeysLocked(tenant)
	c.idxMu.Unlock()
	n := c.removeAllLocked(keys, causePurged)
	c.log.Debug("cache: purged tenant", "entries", n)
	return n
}

// removeAllLocked removes keys and returns how many were present. c.mu must be held.
func (c *Cache[V]) removeAllLocked(keys []Key, cause cause) int {
	n := 0
	for _, k := range keys {
		if c.removeLocked(k, cause) {
			n++
		}
	}
	return n
}
