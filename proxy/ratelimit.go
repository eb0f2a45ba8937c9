package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/ratelimit"
)

// errRateLimited answers a caller over its limit, in Graph's envelope.
func errRateLimited(wait time.Duration) *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
		Message:    "Too many requests from this user or client application; retry after the given delay.",
		RetryAfter: max(wait, time.Second)}
}

// rateLimit refuses an authenticated caller over its per-user or per-client-app limit
// with 429 and Retry-After. It runs after authentication.
func rateLimit(lim *ratelimit.Limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := charge(c, lim, 1); err != nil {
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
func prepayBatch(c *gin.Context, lim *ratelimit.Limiter, n int) error {
	if err := charge(c, lim, n-1); err != nil {
		return err
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), prepaidKey{}, true))
	return nil
}

// charge takes n requests from the caller's buckets, unless the request is an item of a
// prepaid $batch.
func charge(c *gin.Context, lim *ratelimit.Limiter, n int) error {
	sc := scopeOf(c)
	if !sc.authenticated || n <= 0 || c.Request.Context().Value(prepaidKey{}) != nil {
		return nil
	}
	p := sc.principal
	if wait := lim.Take(time.Now(), p.TenantID, p.ClientAppID, p.ObjectID, n); wait > 0 {
		return errRateLimited(wait)
	}
	return nil
}
