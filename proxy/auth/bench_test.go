package auth

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify compares the cached hot path with a full RS256 verification.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheSize int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			f, clk := newIdP(b), newClock()
			v := newTestVerifier(b, f, clk, func(c *Config) { c.CacheSize = bc.cacheSize })
			raw := sign(b, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", f.claimsFor(tenantA, clk.Now()))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
