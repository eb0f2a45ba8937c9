package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/usage"
)

// noRefusals keeps the rate limiter in the path (its cost is measured) but never refusing.
func noRefusals(c *proxy.Config) {
	c.RateLimit = proxy.RateLimitConfig{PerUserRPS: 1e9, PerUserBurst: 1e9, PerClientRPS: 1e9, PerClientBurst: 1e9}
}

// benchHitPath measures the gateway's cache-hit path in process: token validation
// (cached verification), session check, rate limits, policy decision, cache lookup,
// projection and JSON encoding, plus whatever tweak switches on.
func benchHitPath(b *testing.B, tweak ...func(*proxy.Config)) {
	e := newEnv(b, append([]func(*proxy.Config){noRefusals}, tweak...)...)
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
	b.StopTimer()
}

// BenchmarkHitPath is the plain cache-hit path.
func BenchmarkHitPath(b *testing.B) { benchHitPath(b) }

// BenchmarkHitPathUsage measures the hit path with usage counting off and on (SQLite
// store, flushed every second in the background).
func BenchmarkHitPathUsage(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchHitPath(b) })
	b.Run("on", func(b *testing.B) {
		store, err := usage.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), usage.SQLiteFile))
		if err != nil {
			b.Fatal(err)
		}
		rec, err := usage.New(usage.Options{Store: store, FlushInterval: time.Second, Buffer: 1 << 16})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rec.Close(context.Background()); _ = store.Close() })
		benchHitPath(b, func(c *proxy.Config) { c.Usage = rec })
		if d := rec.Stats().Dropped; d > 0 {
			b.ReportMetric(float64(d), "dropped")
		}
	})
}

// BenchmarkHitPathMetrics measures the hit path with the Prometheus metrics off and on
// (request counter + histogram per request; cache metrics are read at scrape time).
func BenchmarkHitPathMetrics(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchHitPath(b) })
	b.Run("on", func(b *testing.B) { benchHitPath(b, func(c *proxy.Config) { c.Metrics = metrics.New() }) })
}
