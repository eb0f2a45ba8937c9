package proxy_test

import (
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

// TestEveryResponseCarriesSecurityHeaders checks the headers on answers of every kind:
// personal data, public pages, probes, errors, refusals and unknown routes.
func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{PerUserRPS: 0.001, PerUserBurst: 20, PerClientRPS: -1}))
	u := e.enabledUsers(0)[0]
	tok := e.token(0, "chat-web", u)
	limitedTok := e.token(0, "chat-web", e.enabledUsers(0)[1])
	for range 20 {
		e.get("/v1.0/me", limitedTok)
	}
	tests := []struct {
		name, path, token string
		headers           []string
	}{
		{"profile", "/v1.0/me", tok, nil},
		{"photo bytes", "/v1.0/me/photo/$value", tok, nil},
		{"export", "/privacy/v1/me/export", tok, nil},
		{"privacy JSON", "/privacy", "", nil},
		{"privacy HTML", "/privacy", "", []string{"Accept", "text/html"}},
		{"healthz", "/healthz", "", nil},
		{"readyz", "/readyz", "", nil},
		{"401", "/v1.0/me", "", nil},
		{"403", "/v1.0/users/" + u.ID + "/manager", tok, nil},
		{"404 unknown route", "/nothing/here", "", nil},
		{"414", "/v1.0/users/" + strings.Repeat("a", 9000), tok, nil},
		{"429", "/v1.0/me", limitedTok, nil},
	}
	want := map[string]string{
		"Cache-Control":             "no-store",
		"Pragma":                    "no-cache",
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": "max-age=31536000",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tc.token, tc.headers...)
			for h, v := range want {
				if got := r.Header.Get(h); got != v {
					t.Errorf("status %d: %s = %q, want %q", r.Status, h, got, v)
				}
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Error("a cookie is set")
			}
		})
	}
}
