package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

// BenchmarkHitPath measures the gateway's cache-hit path in process: token validation
// (cached verification), policy decision, cache lookup, projection and JSON encoding.
func BenchmarkHitPath(b *testing.B) {
	// The rate limiter stays in the path (its cost is measured) but never refuses.
	e := newEnv(b, func(c *proxy.Config) {
		c.RateLimit = proxy.RateLimitConfig{PerUserRPS: 1e9, PerUserBurst: 1e9, PerClientRPS: 1e9, PerClientBurst: 1e9}
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
}
