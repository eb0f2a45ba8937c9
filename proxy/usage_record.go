package proxy

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/proxy/usage"
)

// UsageRecorder receives one anonymised event per authenticated request.
// *usage.Recorder implements it; Record must not block.
type UsageRecorder interface {
	Record(ev usage.Event)
}

// recordUsage hands an event to the usage recorder after each request whose caller is
// known: the tenant, the client app's policy name, the route template (never the raw
// path), the status, the cache outcome, the latency and the caller's oid, which the
// recorder only hashes for distinct counting. Requests refused before a token was
// verified are not counted.
func (s *Server) recordUsage() gin.HandlerFunc {
	rec := s.cfg.Usage
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		p, ok := principalOf(c)
		if !ok {
			return
		}
		route := routeTemplate(c)
		c.Set(ctxRoute, route) // the access log reuses it
		end := time.Now()
		rec.Record(usage.Event{
			Time:      end,
			Tenant:    p.TenantID,
			ClientApp: s.clientName(p.ClientAppID),
			Operation: route,
			Status:    c.Writer.Status(),
			Cache:     c.GetString(ctxCacheOutcome),
			Latency:   end.Sub(start),
			UserKey:   p.ObjectID,
		})
	}
}
