package proxy

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimitConfig configures the gateway's abuse protection: one token bucket per user
// (tenant + object id) and one per client app (tenant + app id). A zero field takes its
// default; a negative rate switches that limit off.
type RateLimitConfig struct {
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

// Rate-limit defaults.
const (
	defaultUserRPS     = 20
	defaultUserBurst   = 100
	defaultClientRPS   = 1000
	defaultClientBurst = 2000
	defaultMaxUsers    = 100_000
	minBurst           = maxBatchItems
	maxTrackedClients  = 10_000
)

// withDefaults fills in zero fields.
func (c RateLimitConfig) withDefaults() RateLimitConfig {
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

// rateLimiter holds the per-user and per-client-app buckets.
type rateLimiter struct {
	users   *bucketSet // nil = off
	clients *bucketSet // nil = off
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	cfg = cfg.withDefaults()
	return &rateLimiter{
		users:   newBucketSet(cfg.PerUserRPS, cfg.PerUserBurst, cfg.MaxTrackedUsers),
		clients: newBucketSet(cfg.PerClientRPS, cfg.PerClientBurst, maxTrackedClients),
	}
}

// take charges n requests to the caller's buckets. It returns 0 if they may proceed, or
// how long to wait otherwise; a refused request is charged to no bucket.
func (rl *rateLimiter) take(now time.Time, tenant, clientAppID, userID string, n int) time.Duration {
	var taken []*rate.Reservation
	var wait time.Duration
	for _, set := range []struct {
		b  *bucketSet
		id string
	}{{rl.users, userID}, {rl.clients, clientAppID}} {
		if set.b == nil {
			continue
		}
		r := set.b.bucket(tenant, set.id).ReserveN(now, min(n, set.b.burst))
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

// errRateLimited answers a caller over its limit, in Graph's envelope.
func errRateLimited(wait time.Duration) *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
		Message:    "Too many requests from this user or client application; retry after the given delay.",
		RetryAfter: max(wait, time.Second)}
}

// rateLimit refuses an authenticated caller over its per-user or per-client-app limit
// with 429 and Retry-After. It runs after authenticate.
func (s *Server) rateLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.charge(c, 1); err != nil {
			abortWithError(c, err)
			return
		}
		c.Next()
	}
}

// prepaidKey marks the context of a $batch whose items were charged up front.
type prepaidKey struct{}

// prepayBatch charges a $batch of n items at once, as Graph counts each item: the route
// charged the batch one request, the rest is charged here, all or nothing. Its items,
// dispatched through the router with the batch's context, are not charged again.
func (s *Server) prepayBatch(c *gin.Context, n int) error {
	if err := s.charge(c, n-1); err != nil {
		return err
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), prepaidKey{}, true))
	return nil
}

// charge takes n requests from the caller's buckets, unless the request is an item of a
// prepaid $batch.
func (s *Server) charge(c *gin.Context, n int) error {
	p, ok := principalOf(c)
	if !ok || n <= 0 || c.Request.Context().Value(prepaidKey{}) != nil {
		return nil
	}
	if wait := s.limiter.take(time.Now(), p.TenantID, p.ClientAppID, p.ObjectID, n); wait > 0 {
		return errRateLimited(wait)
	}
	return nil
}
