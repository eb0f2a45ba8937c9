package proxy_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
)

// limited returns a tweak that sets the gateway's rate limits.
func limited(rl proxy.RateLimitConfig) func(*proxy.Config) {
	return func(c *proxy.Config) { c.RateLimit = rl }
}

// assertLimited checks a 429 in Graph's envelope with a whole-second Retry-After.
func assertLimited(t *testing.T, r response) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
	}
	if code := errorCode(t, r); code != "TooManyRequests" {
		t.Errorf("error code %q, want TooManyRequests", code)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Errorf("Retry-After %q, want whole seconds >= 1", r.Header.Get("Retry-After"))
	}
}

func TestPerUserRateLimit(t *testing.T) {
	// A tiny refill rate: the burst of 20 is all a user gets during the test.
	e := newEnv(t, limited(proxy.RateLimitConfig{PerUserRPS: 0.001, PerUserBurst: 20, PerClientRPS: -1}))
	users := e.enabledUsers(0)
	alice, bob := e.token(0, "chat-web", users[0]), e.token(0, "chat-web", users[1])
	for i := range 20 {
		if r := e.get("/v1.0/me", alice); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := e.get("/v1.0/me", alice)
	assertLimited(t, r)
	if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 900 {
		t.Errorf("Retry-After %d s, want about 1000 s at 0.001 rps", secs)
	}
	t.Run("other users are not affected", func(t *testing.T) {
		if r := e.get("/v1.0/me", bob); r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("the same user through another client app shares the user's bucket", func(t *testing.T) {
		assertLimited(t, e.get("/v1.0/me", e.token(0, "intranet-directory", users[0])))
	})
	t.Run("the beta presence routes are limited too", func(t *testing.T) {
		assertLimited(t, e.get("/beta/me/presence", alice))
	})
	t.Run("the same object id in another tenant has its own bucket", func(t *testing.T) {
		twin := e.twin(1, users[0]) // alice's object id, in the second tenant
		if r := e.get("/v1.0/me", e.token(1, "chat-web", twin)); r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestPerClientRateLimit(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{PerUserRPS: -1, PerClientRPS: 0.001, PerClientBurst: 20}))
	users := e.enabledUsers(0)
	for i := range 20 {
		tok := e.token(0, "chat-web", users[i%5])
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	assertLimited(t, e.get("/v1.0/me", e.token(0, "chat-web", users[7])))
	if r := e.get("/v1.0/me", e.token(0, "intranet-directory", users[7])); r.Status != http.StatusOK {
		t.Fatalf("another client app: %d %s", r.Status, r.Body)
	}
	if r := e.get("/v1.0/me", e.token(1, "chat-web", e.enabledUsers(1)[0])); r.Status != http.StatusOK {
		t.Fatalf("the same client app in another tenant: %d %s", r.Status, r.Body)
	}
}

func TestBatchCostsOnePerItem(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{PerUserRPS: 0.001, PerUserBurst: 20, PerClientRPS: -1}))
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	if r := e.do(http.MethodPost, "/v1.0/$batch", tok, userBatch(users[1:16])); r.Status != http.StatusOK {
		t.Fatalf("batch of 15: %d %s", r.Status, r.Body)
	}
	// 5 requests are left: a batch of 10 is refused and costs only the one request the
	// envelope itself is charged before its body is read.
	assertLimited(t, e.do(http.MethodPost, "/v1.0/$batch", tok, userBatch(users[1:11])))
	for i := range 4 {
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("request %d after the refused batch: %d %s", i+1, r.Status, r.Body)
		}
	}
	assertLimited(t, e.get("/v1.0/me", tok))
}

func TestRateLimitsOff(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{PerUserRPS: -1, PerClientRPS: -1}))
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	for i := range 100 {
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
}

func TestDefaultRateLimitAllowsABurst(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{}))
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	n := 0
	for ; n < 400; n++ {
		r := e.get("/v1.0/me", tok)
		if r.Status == http.StatusTooManyRequests {
			break
		}
		if r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", n+1, r.Status, r.Body)
		}
	}
	// Default: burst 100 at 20 rps. Sequential loopback requests outrun a refill of 20 per
	// second, so the loop is refused before 400, and not before the burst.
	if n < 100 || n == 400 {
		t.Fatalf("%d requests passed before the first 429; want at least the burst of 100, and a limit", n)
	}
}

func TestRequestSizeLimits(t *testing.T) {
	e := newEnv(t, limited(proxy.RateLimitConfig{}))
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	tests := []struct {
		name    string
		path    string
		headers []string
		status  int
	}{
		{"long URL", "/v1.0/users?$filter=" + strings.Repeat("a", 9000), nil, http.StatusRequestURITooLong},
		{"long URL on an unknown route", "/" + strings.Repeat("a", 9000), nil, http.StatusRequestURITooLong},
		{"huge header", "/v1.0/me", []string{"X-Padding", strings.Repeat("a", 17<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"many headers", "/v1.0/me", manyHeaders(120), http.StatusRequestHeaderFieldsTooLarge},
		{"normal request", "/v1.0/me", []string{"client-request-id", "8a8b3c1e-0000-4000-8000-000000000001"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tok, tc.headers...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status != http.StatusOK && errorCode(t, r) == "" {
				t.Errorf("no Graph error envelope: %s", r.Body)
			}
		})
	}
	// Bodies over 1 MiB (raw or decompressed) are refused with 413 exactly:
	// TestHostileBatchEnvelope ("body over 1 MiB", "gzip bomb") sends otherwise valid batches.
}

func manyHeaders(n int) []string {
	var h []string
	for i := range n {
		h = append(h, fmt.Sprintf("X-H%d", i), "v")
	}
	return h
}
