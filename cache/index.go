package cache

// cause says why an entry left the cache.
type cause int

const (
	causeExpired  cause = iota // TTL passed (LRU expiry goroutine or a stale Get)
	causeEvicted               // a bound was exceeded
	causePurged                // PurgeUser or PurgeTenant
	causeReplaced              // Set stored a new entry under the same key
)

// claim marks the one removal the goroutine holding c.mu is making right now, so that
// onEvict can tell it from a removal by the LRU's expiry goroutine.
type claim struct {
	active  bool
	key     Key
	cause   cause
	removed bool // onEvict saw the claimed key
}

// tenantIndex finds a tenant's entries for purges.
type tenantIndex struct {
	keys  map[Key]struct{}
	users map[string]map[Key]struct{} // normalised user id -> keys listing it
}

// removeLocked removes key from the LRU, attributing the removal to cause, and reports
// whether an entry was removed. c.mu must be held; idxMu must not be.
func (c *Cache[V]) removeLocked(key Key, why cause) bool {
	c.idxMu.Lock()
	c.claim = claim{active: true, key: key, cause: why}
	c.idxMu.Unlock()

	c.lru.Remove(key) // calls onEvict under the LRU's lock

	c.idxMu.Lock()
	removed := c.claim.removed
	c.claim = claim{}
	c.idxMu.Unlock()
	return removed
}

// onEvict is the LRU's eviction callback. The LRU calls it under its own lock, from
// removeLocked (c.mu held) and from its expiry goroutine (c.mu not held), so it takes only
// idxMu and never calls into the LRU.
func (c *Cache[V]) onEvict(key Key, e *entry[V]) {
	c.idxMu.Lock()
	defer c.idxMu.Unlock()
	// The cause is counted before the entry is uncounted: Stats reads the counters
	// without idxMu, and a reader that sees the entry gone must see why.
	defer c.unindexLocked(key, e)
	why := causeExpired
	if c.claim.active && c.claim.key == key {
		why = c.claim.cause
		c.claim.removed = true
	}
	switch why {
	case causeExpired:
		c.stats.expirations.Add(1)
	case causeEvicted:
		c.stats.evictions.Add(1)
	case causePurged:
		c.stats.purged.Add(1)
	}
}

// indexLocked records e under key and counts it. idxMu must be held.
func (c *Cache[V]) indexLocked(key Key, e *entry[V]) {
	t := c.idx[key.Tenant]
	if t == nil {
		t = &tenantIndex{keys: make(map[Key]struct{}), users: make(map[string]map[Key]struct{})}
		c.idx[key.Tenant] = t
	}
	t.keys[key] = struct{}{}
	for _, u := range e.item.Users {
		set := t.users[u]
		if set == nil {
			set = make(map[Key]struct{})
			t.users[u] = set
		}
		set[key] = struct{}{}
	}
	c.stats.entries.Add(1)
	c.stats.bytes.Add(e.charge)
}

// unindexLocked forgets e under key and uncounts it. idxMu must be held.
func (c *Cache[V]) unindexLocked(key Key, e *entry[V]) {
	c.stats.entries.Add(-1)
	c.stats.bytes.Add(-e.charge)
	t := c.idx[key.Tenant]
	if t == nil {
		return
	}
	delete(t.keys, key)
	for _, u := range e.item.Users {
		if set := t.users[u]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(t.users, u)
			}
		}
	}
	if len(t.keys) == 0 {
		delete(c.idx, key.Tenant)
	}
}

// userKeysLocked returns the keys of tenant's entries that list user. idxMu must be held.
func (c *Cache[V]) userKeysLocked(tenant, user string) []Key {
	t := c.idx[tenant]
	if t == nil {
		return nil
	}
	return keysOf(t.users[user])
}

// matchingUserKeysLocked returns the keys of tenant's entries that list a user for
// which match returns true, each key once. idxMu must be held.
func (c *Cache[V]) matchingUserKeysLocked(tenant string, match func(string) bool) []Key {
	t := c.idx[tenant]
	if t == nil {
		return nil
	}
	set := make(map[Key]struct{})
	for u, keys := range t.users {
		if !match(u) {
			continue
		}
		for k := range keys {
			set[k] = struct{}{}
		}
	}
	return keysOf(set)
}

// tenantKeysLocked returns the keys of tenant's entries. idxMu must be held.
func (c *Cache[V]) tenantKeysLocked(tenant string) []Key {
	t := c.idx[tenant]
	if t == nil {
		return nil
	}
	return keysOf(t.keys)
}

func keysOf(set map[Key]struct{}) []Key {
	keys := make([]Key, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	return keys
}
