// Package ratelimit is the gateway's abuse protection: token buckets per user (tenant +
// object id) and per client app (tenant + app id), charged all or nothing. It knows
// nothing of HTTP; the gateway's middleware calls Limiter.Take and answers 429 with
// Retry-After when it returns a positive wait.
package ratelimit

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/graphgate/graphgate/graph/spec"
)

// Config configures the gateway's abuse protection: one token bucket per user
// (tenant + object id) and one per client app (tenant + app id). A zero field takes its
// default; a negative rate switches that limit off.
type Config struct {
	// PerUserRPS is the sustained requests per second one user may make (default 20).
	PerUserRPS float64
	// PerUserBurst is how many requests one user may make at once (default 100, at least
	// 20 so that a full $batch fits; a page of 100 colleagues' photos fits the default).
	PerUserBurst int
	// PerClientRPS is the sustained requests per second one client app may make in one
	// tenant, across all its users (default 1000).
	PerClientRPS float64
	// PerClientBurst is the client app's burst (default 2000, at least 20).
	PerClientBurst int
	// MaxTrackedUsers bounds the memory the per-user limiters take (default 100000): the
	// least recently seen user's bucket is dropped first.
	MaxTrackedUsers int
}

// Defaults of Config, and the bound on tracked client apps.
const (
	defaultUserRPS     = 20
	defaultUserBurst   = 100
	defaultClientRPS   = 1000
	defaultClientBurst = 2000
	defaultMaxUsers    = 100_000
	maxTrackedClients  = 10_000
	// minBurst is the smallest burst a bucket is given: a full $batch, charged at once,
	// must always be able to pass.
	minBurst = spec.MaxBatchRequests
)

// WithDefaults returns c with its zero fields set to their defaults (a non-positive
// MaxTrackedUsers too) and both bursts raised to at least spec.MaxBatchRequests (20).
func (c Config) WithDefaults() Config {
	if c.PerUserRPS == 0 {
		c.PerUserRPS = defaultUserRPS
	}
	if c.PerUserBurst == 0 {
		c.PerUserBurst = defaultUserBurst
	}
	if c.PerClientRPS == 0 {
		c.PerClientRPS = defaultClientRPS
	}
	if c.PerClientBurst == 0 {
		c.PerClientBurst = defaultClientBurst
	}
	if c.MaxTrackedUsers <= 0 {
		c.MaxTrackedUsers = defaultMaxUsers
	}
	c.PerUserBurst = max(c.PerUserBurst, minBurst)
	c.PerClientBurst = max(c.PerClientBurst, minBurst)
	return c
}

// Limiter holds the per-user and per-client-app buckets. It is safe for concurrent use.
// A nil *Limiter allows everything.
type Limiter struct {
	users   *bucketSet // nil = off
	clients *bucketSet // nil = off
}

// New returns a Limiter configured by cfg, after WithDefaults. Buckets start full.
func New(cfg Config) *Limiter {
	cfg = cfg.WithDefaults()
	return &Limiter{
		users:   newBucketSet(cfg.PerUserRPS, cfg.PerUserBurst, cfg.MaxTrackedUsers),
		clients: newBucketSet(cfg.PerClientRPS, cfg.PerClientBurst, maxTrackedClients),
	}
}

// Take charges n requests, made at now, to the bucket of the user userID and to the
// bucket of the client app clientAppID, both in tenant tenantID. It returns 0 if the
// requests may proceed, or else how long to wait before retrying (> 0); a refused charge
// is taken from neither bucket. A charge larger than a bucket's burst takes the whole
// burst. n <= 0 charges nothing and returns 0.
func (l *Limiter) Take(now time.Time, tenantID, clientAppID, userID string, n int) time.Duration {
	if l == nil || n <= 0 {
		return 0
	}
	var taken []*rate.Reservation
	var wait time.Duration
	for _, set := range []struct {
		b  *bucketSet
		id string
	}{{l.users, userID}, {l.clients, clientAppID}} {
		if set.b == nil {
			continue
		}
		r := set.b.bucket(tenantID, set.id).ReserveN(now, min(n, set.b.burst))
		taken = append(taken, r)
		if d := r.DelayFrom(now); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	return wait
}

// bucketSet is a bounded set of token buckets keyed by tenant and id. The keys live in
// this process's memory only, like the profile cache, and are never logged or written.
type bucketSet struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex // serialises get-or-create so two requests share one bucket
	lru   *lru.Cache[bucketKey, *rate.Limiter]
}

// bucketKey identifies one bucket: a user or client app id within a tenant.
type bucketKey struct{ tenant, id string }

// newBucketSet returns a set of at most size buckets of rps and burst, or nil (the
// limit is off) if rps is negative.
func newBucketSet(rps float64, burst, size int) *bucketSet {
	if rps < 0 {
		return nil
	}
	c, err := lru.New[bucketKey, *rate.Limiter](size)
	if err != nil {
		panic(err) // size is always positive here
	}
	return &bucketSet{limit: rate.Limit(rps), burst: burst, lru: c}
}

// bucket returns the limiter of (tenant, id), creating it full.
func (b *bucketSet) bucket(tenant, id string) *rate.Limiter {
	k := bucketKey{tenant, id}
	b.mu.Lock()
	defer b.mu.Unlock()
	if l, ok := b.lru.Get(k); ok {
		return l
	}
	l := rate.NewLimiter(b.limit, b.burst)
	b.lru.Add(k, l)
	return l
}
