package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// BenchmarkHitPathMetrics measures the cache-hit path with the Prometheus metrics off and
// on (request counter + histogram per request; cache metrics are read at scrape time).
func BenchmarkHitPathMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, func(c *proxy.Config) {
				c.RateLimit = proxy.RateLimitConfig{PerUserRPS: 1e9, PerUserBurst: 1e9, PerClientRPS: 1e9, PerClientBurst: 1e9}
				if on {
					c.Metrics = metrics.New()
				}
			})
			tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
			path := "/v1.0/users/" + e.enabledUsers(0)[1].ID + "?$select=displayName,jobTitle,mail"
			h := e.srv.Handler()
			if r := e.get(path, tok); r.Status != http.StatusOK {
				b.Fatalf("warm-up: %d %s", r.Status, r.Body)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		})
	}
}
