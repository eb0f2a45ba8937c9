package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage"
)

// BenchmarkHitPathUsage measures the cache-hit path with usage counting off and on (SQLite
// store, flushed every second in the background).
func BenchmarkHitPathUsage(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			tweak := func(c *proxy.Config) {
				c.RateLimit = proxy.RateLimitConfig{PerUserRPS: 1e9, PerUserBurst: 1e9, PerClientRPS: 1e9, PerClientBurst: 1e9}
			}
			var rec *usage.Recorder
			if on {
				store, err := usage.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), usage.SQLiteFile))
				if err != nil {
					b.Fatal(err)
				}
				rec, err = usage.New(usage.Options{Store: store, FlushInterval: time.Second, Buffer: 1 << 16})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = rec.Close(context.Background()); _ = store.Close() })
				base := tweak
				tweak = func(c *proxy.Config) { base(c); c.Usage = rec }
			}
			e := newEnv(b, tweak)
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
			if rec != nil && rec.Stats().Dropped > 0 {
				b.ReportMetric(float64(rec.Stats().Dropped), "dropped")
			}
		})
	}
}
