package proxy

import (
	"context"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultUpstreamTimeout is the request deadline when Config.UpstreamTimeout is zero:
// the same 10 s as graph.Client's default per-call timeout, so that a request making
// one upstream call is bounded as before and one making several is bounded as a whole.
const DefaultUpstreamTimeout = 10 * time.Second

// requestDeadlineKey holds, in a request's context, the deadline requestDeadline set:
// $batch items are dispatched on a context without the batch's cancellation (see
// runBatchItem), and find their batch's deadline here.
type requestDeadlineKey struct{}

// requestDeadline bounds all the upstream work of one request by one deadline, d from
// its arrival (DefaultUpstreamTimeout when d <= 0): every call to Microsoft Graph the
// request makes inherits it through the request's context, so that a request making two
// calls (the caller's own record, then the target) takes at most d, not twice the
// per-call timeout. A $batch and all its items share the batch's one deadline. A load
// shared with other requests (cache singleflight) is not cancelled by it: the request
// stops waiting at its deadline, and the load runs on under the graph client's per-call
// timeout for the requests still waiting (cache.GetOrLoad). When the deadline is hit the
// request is answered 503 in Graph's envelope (apiErrorOf: directory.ErrUnavailable
// or ErrBusy), never 500.
//
// The admin and usage APIs are left out: their writes to the revocation list and their
// reads of the usage store must not fail because an earlier Graph call of the same
// request used up the time; each of their Graph calls is bounded by the graph client's
// per-call timeout.
func requestDeadline(d time.Duration) gin.HandlerFunc {
	if d <= 0 {
		d = DefaultUpstreamTimeout
	}
	return func(c *gin.Context) {
		if path := c.Request.URL.Path; strings.HasPrefix(path, "/admin/") || strings.HasPrefix(path, "/usage/") {
			c.Next()
			return
		}
		ctx := c.Request.Context()
		at, ok := ctx.Value(requestDeadlineKey{}).(time.Time)
		if !ok {
			at = time.Now().Add(d)
			ctx = context.WithValue(ctx, requestDeadlineKey{}, at)
		}
		ctx, cancel := context.WithDeadline(ctx, at)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}
