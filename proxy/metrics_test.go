package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// scrapeMetrics reads the exposition text of m as Prometheus would.
func scrapeMetrics(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// labelValues returns every label value in an exposition text.
func labelValues(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		if open < 0 || end < open {
			continue
		}
		for _, pair := range strings.Split(line[open+1:end], `",`) {
			if _, v, ok := strings.Cut(pair, `="`); ok {
				out = append(out, strings.TrimSuffix(v, `"`))
			}
		}
	}
	return out
}

func TestMetricsAfterTraffic(t *testing.T) {
	m := metrics.New()
	e := newEnvWith(t, proxytest.Options{Metrics: m})
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	// Reads by id and by UPN (a raw path holding a UPN), cache hits, a 404, a bad token.
	for _, u := range users[1:6] {
		for range 2 {
			if r := e.get("/v1.0/users/"+u.ID, tok); r.Status != http.StatusOK {
				t.Fatalf("user by id: %d %s", r.Status, r.Body)
			}
		}
		if r := e.get("/v1.0/users/"+url.PathEscape(u.UserPrincipalName), e.token(0, "mobile", u)); r.Status != http.StatusOK {
			t.Fatalf("user by UPN: %d %s", r.Status, r.Body)
		}
	}
	e.get("/v1.0/me", tok)
	e.get("/v1.0/users/"+users[1].UserPrincipalName+"/nothing-here", tok)
	e.get("/v1.0/me", "not-a-token")
	// Graph throttles: upstream throttled calls and 429s answered.
	e.emu.SetThrottle(emulator.Throttle{Budget: 1, Window: 10 * time.Second, RetryAfter: 1500 * time.Millisecond})
	t.Cleanup(e.emu.ResetFaults)
	throttled := 0
	for _, u := range users[6:14] {
		if r := e.get("/v1.0/users/"+u.ID, tok); r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("no request was throttled")
	}

	out := scrapeMetrics(t, m)
	for _, want := range []string{
		`graphgate_http_requests_total{client_app="chat-web",route="GET /v1.0/users/{id}",status_class="2xx"} `,
		`graphgate_http_requests_total{client_app="mobile",route="GET /v1.0/users/{id}",status_class="2xx"} 5`,
		`graphgate_http_requests_total{client_app="chat-web",route="GET /v1.0/me",status_class="2xx"} 1`,
		`graphgate_http_requests_total{client_app="none",route="GET /v1.0/me",status_class="4xx"} 1`,
		`graphgate_http_requests_total{client_app="chat-web",route="GET /v1.0/{unparsable}",status_class="4xx"} 1`,
		`graphgate_http_request_duration_seconds_bucket{route="GET /v1.0/users/{id}",status_class="2xx",le="+Inf"} `,
		`graphgate_http_throttled_responses_total{route="GET /v1.0/users/{id}"} `,
		`graphgate_upstream_requests_total{operation="user",outcome="ok"} `,
		`graphgate_upstream_requests_total{operation="user",outcome="throttled"} `,
		`graphgate_upstream_request_duration_seconds_count{operation="user"} `,
		`graphgate_cache_hits_total{cache="profiles"} `,
		`graphgate_cache_misses_total{cache="profiles"} `,
		`graphgate_cache_evictions_total{cache="profiles"} 0`,
		`graphgate_cache_entries{cache="profiles"} `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, `graphgate_cache_hits_total{cache="profiles"} 0`) {
		t.Error("repeated reads produced no cache hit")
	}
	assertNoPersonalLabels(t, e, out)
}

// assertNoPersonalLabels fails if any label value holds a user id, UPN, tenant id,
// client app id or a raw path segment of the directory.
func assertNoPersonalLabels(t *testing.T, e *env, text string) {
	t.Helper()
	var forbidden []string
	for _, tn := range e.dir.Tenants {
		forbidden = append(forbidden, tn.ID, tn.Domain)
		for _, c := range tn.Clients {
			forbidden = append(forbidden, c.ID)
		}
		for _, u := range tn.Users {
			forbidden = append(forbidden, u.ID, u.UserPrincipalName)
		}
	}
	values := labelValues(text)
	if len(values) < 20 {
		t.Fatalf("parsed only %d label values; the label parser is broken", len(values))
	}
	for _, v := range values {
		lv := strings.ToLower(v)
		if strings.Contains(lv, "@") {
			t.Errorf("label value %q looks like a UPN or mail", v)
		}
		for _, f := range forbidden {
			if f != "" && strings.Contains(lv, strings.ToLower(f)) {
				t.Errorf("label value %q holds a directory identifier", v)
			}
		}
	}
}

// TestMetricsCountRevocations checks the remote-logout counters: one revocation carried
// out, and the refusals of the victim's old token.
func TestMetricsCountRevocations(t *testing.T) {
	m := metrics.New()
	e := newEnvWith(t, proxytest.Options{Metrics: m})
	victim, admin := e.victim(0), e.withRole(0, proxy.RoleAdmin)
	tok := e.token(0, "chat-web", victim)
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("before logout: %d", r.Status)
	}
	decodeLogout(t, e.logout(e.token(0, "chat-web", admin), victim.ID))
	for range 2 {
		assertRevoked(t, e.get("/v1.0/me", tok), "old token")
	}
	out := scrapeMetrics(t, m)
	for _, want := range []string{
		`graphgate_revocation_requests_total{outcome="ok"} 1`,
		`graphgate_revocation_refused_tokens_total 2`,
		`graphgate_upstream_requests_total{operation="revoke_sign_in_sessions",outcome="ok"} 1`,
		`route="POST /admin/v1/users/{id}/logout",status_class="2xx"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	assertNoPersonalLabels(t, e, out)
}
