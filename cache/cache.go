// Package cache is graphgate's short-lived memory cache for data fetched from Microsoft
// Graph. Entries are tenant-scoped, expire after a short TTL (60 s by default, never more
// than MaxTTL), are bounded by count and bytes, and can be purged by user or by tenant.
// Concurrent misses for one key share a single load (singleflight).
//
// The cache holds personal data, so it is strict about forgetting: an entry is never
// returned after its TTL, a purge removes every entry that lists the user, and a purge
// that happens while a load is in flight keeps that load's result out of the cache.
//
// The cache is built on github.com/hashicorp/golang-lru/v2/expirable, whose background
// expiry goroutine cannot be stopped (v2.0.7): create one Cache per process, not per request.
package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// Limits and defaults of Config.
const (
	// MaxTTL is the longest TTL a Config may ask for; New refuses more.
	MaxTTL = 10 * time.Minute
	// DefaultTTL is the TTL used when Config.TTL is zero.
	DefaultTTL = time.Minute
	// DefaultMaxEntries is the entry bound used when Config.MaxEntries is zero.
	DefaultMaxEntries = 10_000
	// DefaultMaxBytes is the byte bound used when Config.MaxBytes is zero (64 MiB).
	DefaultMaxBytes = 64 << 20
)

// Errors returned by the cache; compare them with errors.Is.
var (
	// ErrInvalidConfig is returned by New for a Config it refuses.
	ErrInvalidConfig = errors.New("cache: invalid config")
	// ErrInvalidKey is returned for a Key without tenant or kind, or with a '|' in either.
	ErrInvalidKey = errors.New("cache: invalid key")
	// ErrTooLarge is returned by Set for an item whose size exceeds Config.MaxBytes.
	ErrTooLarge = errors.New("cache: item larger than the byte bound")
	// ErrPurged is returned by SetSince when the key's tenant was purged after the epoch.
	ErrPurged = errors.New("cache: purged since the epoch")
	// ErrLoadPanic is returned to GetOrLoad callers when the load function panicked.
	ErrLoadPanic = errors.New("cache: load panicked")
)

// Config configures a Cache. The zero value is usable: 60 s TTL, 10,000 entries, 64 MiB.
type Config struct {
	// TTL is how long an entry may be returned after it was stored. Zero means DefaultTTL;
	// negative or more than MaxTTL is refused.
	TTL time.Duration
	// NegativeTTL is how long a negative result (Item.Err != nil, e.g. "no photo") may be
	// returned. Zero means TTL; negative or more than TTL is refused.
	NegativeTTL time.Duration
	// MaxEntries bounds the number of entries; the least recently used go first. Zero means
	// DefaultMaxEntries; negative is refused.
	MaxEntries int
	// MaxBytes bounds the sum of entry sizes (Item.Size plus the key's length); the least
	// recently used entries go first, and an item larger than MaxBytes is not stored. Zero
	// means DefaultMaxBytes; negative is refused.
	MaxBytes int64
	// Logger receives the cache's few log records (never keys or user ids). Nil discards.
	Logger *slog.Logger
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.TTL < 0:
		return cfg, fmt.Errorf("%w: negative TTL %s", ErrInvalidConfig, cfg.TTL)
	case cfg.TTL > MaxTTL:
		return cfg, fmt.Errorf("%w: TTL %s exceeds the maximum of %s", ErrInvalidConfig, cfg.TTL, MaxTTL)
	case cfg.NegativeTTL < 0:
		return cfg, fmt.Errorf("%w: negative NegativeTTL %s", ErrInvalidConfig, cfg.NegativeTTL)
	case cfg.MaxEntries < 0:
		return cfg, fmt.Errorf("%w: negative MaxEntries %d", ErrInvalidConfig, cfg.MaxEntries)
	case cfg.MaxBytes < 0:
		return cfg, fmt.Errorf("%w: negative MaxBytes %d", ErrInvalidConfig, cfg.MaxBytes)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = cfg.TTL
	}
	if cfg.NegativeTTL > cfg.TTL {
		return cfg, fmt.Errorf("%w: NegativeTTL %s exceeds TTL %s", ErrInvalidConfig, cfg.NegativeTTL, cfg.TTL)
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// Key identifies an entry. Tenant scopes it: keys of different tenants never collide.
// Tenant and Kind must be non-empty and must not contain '|'; ID may hold anything
// (e.g. "<oid or lowercased UPN>|<field set>"). A Key holds personal data: never log it.
type Key struct {
	Tenant string // tenant id (GUID)
	Kind   string // what the entry holds, e.g. "user", "photo", "list"
	ID     string // the entry's identity within tenant and kind
}

// String joins the key's parts with '|'. It is unambiguous for valid keys because only
// the last part may contain the separator. It holds personal data: never log it.
func (k Key) String() string { return k.Tenant + "|" + k.Kind + "|" + k.ID }

// validate reports whether k may be used.
func (k Key) validate() error {
	if k.Tenant == "" || k.Kind == "" || strings.ContainsRune(k.Tenant, '|') || strings.ContainsRune(k.Kind, '|') {
		return ErrInvalidKey
	}
	return nil
}

// Item is a cached value with what the cache needs to know about it. Items returned by
// the cache share Value and Users with the stored entry: treat them as read-only.
type Item[V any] struct {
	// Value is the cached data, already minimised to the fields some policy allows.
	Value V
	// Size is the caller's estimate of Value's size in bytes; it counts toward MaxBytes.
	Size int
	// Users lists the ids of every user whose data the entry holds (one for a profile,
	// many for a search result); PurgeUser finds entries through it. Ids are compared
	// case-insensitively.
	Users []string
	// Err, if non-nil, makes the item a cached negative result (e.g. "no photo"): it lives
	// for Config.NegativeTTL and GetOrLoad returns Err as its error on a hit.
	Err error
}

// Outcome says how GetOrLoad answered.
type Outcome string

// Outcomes of GetOrLoad.
const (
	OutcomeHit    Outcome = "hit"    // served from the cache
	OutcomeMiss   Outcome = "miss"   // this caller ran the load (or gave up before a result)
	OutcomeShared Outcome = "shared" // joined a load another caller started
)

// entry is what the LRU stores.
type entry[V any] struct {
	item    Item[V]   // Users normalised (lowercased, deduplicated)
	expires time.Time // by c.now; TTL or NegativeTTL after the store
	charge  int64     // bytes counted toward MaxBytes
}

// Cache is a tenant-scoped, byte-bounded, expiring LRU with singleflight loads. It is safe
// for concurrent use.
//
// Locking: mu serialises every change (store, evict, purge) and guards gens; the LRU's
// own lock is taken inside it; idxMu, innermost, guards the index and the removal claim
// and is taken by onEvict, which the LRU calls under its lock (also from its expiry
// goroutine, without mu). Code holding idxMu never calls into the LRU.
type Cache[V any] struct {
	cfg   Config
	log   *slog.Logger
	lru   *expirable.LRU[Key, *entry[V]]
	group singleflight.Group
	now   func() time.Time // time.Now; tests replace it before use

	mu   sync.Mutex
	gens map[string]uint64 // tenant -> purge generation

	idxMu sync.Mutex
	idx   map[string]*tenantIndex
	claim claim

	stats   counters
	waiting atomic.Int64 // callers currently waiting for a load (tests observe it)
}

// New returns a Cache configured by cfg, or an error wrapping ErrInvalidConfig.
func New[V any](cfg Config) (*Cache[V], error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache[V]{
		cfg:  cfg,
		log:  cfg.Logger,
		now:  time.Now,
		gens: make(map[string]uint64),
		idx:  make(map[string]*tenantIndex),
	}
	// Size 0: the LRU itself is unbounded; enforceLimits bounds entries and bytes so that
	// every eviction is claimed and counted.
	c.lru = expirable.NewLRU[Key, *entry[V]](0, c.onEvict, cfg.TTL)
	return c, nil
}

// Get returns the item stored under key, if it is present and not expired.
func (c *Cache[V]) Get(key Key) (Item[V], bool) {
	if key.validate() != nil {
		return Item[V]{}, false
	}
	it, ok := c.lookup(key)
	if ok {
		c.stats.hits.Add(1)
	} else {
		c.stats.misses.Add(1)
	}
	return it, ok
}

// lookup is Get without validation and statistics.
func (c *Cache[V]) lookup(key Key) (Item[V], bool) {
	e, ok := c.lru.Get(key)
	if !ok {
		return Item[V]{}, false
	}
	if !c.now().Before(e.expires) {
		c.dropStale(key, e)
		return Item[V]{}, false
	}
	return e.item, true
}

// dropStale removes e, found expired under key, unless key was stored again meanwhile.
func (c *Cache[V]) dropStale(key Key, e *entry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.lru.Peek(key); ok && cur == e {
		c.removeLocked(key, causeExpired)
	}
}

// Set stores item under key, replacing what was there. It returns ErrInvalidKey for an
// invalid key and ErrTooLarge (removing any old entry) for an item over MaxBytes. Data
// loaded before a purge may outlive it when stored with Set: prefer GetOrLoad, or take an
// Epoch before loading and store with SetSince.
func (c *Cache[V]) Set(key Key, item Item[V]) error {
	if err := key.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storeLocked(key, item)
}

// storeLocked stores item under key and enforces the bounds. c.mu must be held.
func (c *Cache[V]) storeLocked(key Key, item Item[V]) error {
	e := c.newEntry(key, item)
	c.removeLocked(key, causeReplaced)
	if e.charge > c.cfg.MaxBytes {
		return ErrTooLarge
	}
	c.idxMu.Lock()
	c.indexLocked(key, e)
	c.idxMu.Unlock()
	c.lru.Add(key, e)
	c.enforceLimitsLocked()
	return nil
}

// newEntry wraps item for storage, normalising its user ids.
func (c *Cache[V]) newEntry(key Key, item Item[V]) *entry[V] {
	ttl := c.cfg.TTL
	if item.Err != nil {
		ttl = c.cfg.NegativeTTL
	}
	item.Users = normaliseUsers(item.Users)
	charge := int64(max(item.Size, 0)) + int64(len(key.Tenant)+len(key.Kind)+len(key.ID))
	return &entry[V]{item: item, expires: c.now().Add(ttl), charge: charge}
}

// normaliseUsers returns users lowercased, without empty ids and duplicates, in a new slice.
func normaliseUsers(users []string) []string {
	if len(users) == 0 {
		return nil
	}
	out := make([]string, 0, len(users))
	for _, u := range users {
		u = strings.ToLower(u)
		if u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// enforceLimitsLocked evicts least recently used entries until both bounds hold. c.mu
// must be held.
func (c *Cache[V]) enforceLimitsLocked() {
	for c.stats.entries.Load() > int64(c.cfg.MaxEntries) || c.stats.bytes.Load() > c.cfg.MaxBytes {
		key, _, ok := c.lru.GetOldest()
		if !ok {
			return
		}
		c.removeLocked(key, causeEvicted)
	}
}
