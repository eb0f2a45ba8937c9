package cache

import "sync/atomic"

// Stats is a snapshot of a Cache's counters. Hits + Misses counts lookups (Get and
// GetOrLoad); the hit ratio is Hits / (Hits + Misses).
type Stats struct {
	Hits        int64 // lookups answered from the cache
	Misses      int64 // lookups not answered from the cache, including Shared
	Shared      int64 // GetOrLoad misses that joined a load another caller started
	Loads       int64 // load function calls
	LoadErrors  int64 // load calls that failed (not cached)
	Discarded   int64 // loaded items not stored because their tenant was purged meanwhile
	Evictions   int64 // entries removed to respect MaxEntries or MaxBytes
	Expirations int64 // entries removed because their TTL passed
	Purged      int64 // entries removed by PurgeUser and PurgeTenant
	Entries     int64 // entries held now (expired ones until they are collected)
	Bytes       int64 // bytes held now, as counted toward MaxBytes
}

// counters are the live values behind Stats.
type counters struct {
	hits, misses, shared, loads, loadErrors, discarded atomic.Int64
	evictions, expirations, purged                     atomic.Int64
	entries, bytes                                     atomic.Int64 // written under idxMu
}

// Stats returns a snapshot of the cache's counters. The fields are read one by one, so a
// snapshot taken under load may be slightly inconsistent.
func (c *Cache[V]) Stats() Stats {
	s := &c.stats
	return Stats{
		Hits:        s.hits.Load(),
		Misses:      s.misses.Load(),
		Shared:      s.shared.Load(),
		Loads:       s.loads.Load(),
		LoadErrors:  s.loadErrors.Load(),
		Discarded:   s.discarded.Load(),
		Evictions:   s.evictions.Load(),
		Expirations: s.expirations.Load(),
		Purged:      s.purged.Load(),
		Entries:     s.entries.Load(),
		Bytes:       s.bytes.Load(),
	}
}
