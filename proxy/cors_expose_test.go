package proxy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

// TestCORSResponses: answers to an allowed origin expose the headers Graph clients read
// (successes, 401 and 429 alike), never allow credentials, and every answer varies on
// Origin, with or without one, so that a cache cannot hand one origin's answer to another.
func TestCORSResponses(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{corsOrigin} },
		limited(proxy.RateLimitConfig{PerUserRPS: 0.001, PerUserBurst: 20, PerClientRPS: -1}))
	users := e.enabledUsers(0)
	tok, spent := e.token(0, "chat-web", users[0]), e.token(0, "chat-web", users[1])
	for range 20 {
		e.get("/v1.0/me", spent)
	}
	host := strings.TrimPrefix(e.url, "http://")
	exposed := []string{"request-id", "client-request-id", "date", "retry-after", "www-authenticate", "etag",
		"location", strings.ToLower(proxy.HeaderWithheld)}
	tests := []struct {
		name, path, token, origin string
		status                    int
		cors                      bool     // Access-Control-Allow-Origin and -Expose-Headers expected
		vary                      []string // beyond Origin
	}{
		{"allowed origin", "/v1.0/me?$select=displayName,mobilePhone", tok, corsOrigin, 200, true, nil},
		{"allowed origin, 401", "/v1.0/me", "", corsOrigin, 401, true, nil},
		{"allowed origin, 429", "/v1.0/me", spent, corsOrigin, 429, true, nil},
		{"allowed origin, privacy notice", "/privacy", "", corsOrigin, 200, true, []string{"Accept"}},
		{"no origin", "/v1.0/me", tok, "", 200, false, nil},
		{"no origin, privacy notice", "/privacy", "", "", 200, false, []string{"Accept"}},
		{"same origin", "/v1.0/me", tok, "http://" + host, 200, false, nil},
		{"foreign origin", "/v1.0/me", tok, "https://evil.example", 403, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.origin != "" {
				h = append(h, "Origin", tc.origin)
			}
			r := e.get(tc.path, tc.token, h...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
			}
			assertNoCredentials(t, r.Header)
			assertVary(t, r.Header, append([]string{"Origin"}, tc.vary...)...)
			got := strings.Split(strings.ToLower(strings.Join(headerList(r.Header, "Access-Control-Expose-Headers"), ",")), ",")
			if !tc.cors {
				if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Expose-Headers") != "" {
					t.Errorf("CORS headers on a non-CORS or refused request: %v", r.Header)
				}
				return
			}
			if r.Header.Get("Access-Control-Allow-Origin") != corsOrigin {
				t.Errorf("Access-Control-Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
			}
			for _, x := range exposed {
				if !slices.Contains(got, x) {
					t.Errorf("Access-Control-Expose-Headers %q does not expose %s", got, x)
				}
			}
		})
	}
}
