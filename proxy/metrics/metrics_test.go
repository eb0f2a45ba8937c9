package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// scrape returns the exposition text of m's handler.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSeries(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("GET /v1.0/users/{id}", 200, "chat-web", 3*time.Millisecond)
	m.ObserveRequest("GET /v1.0/users/{id}", 200, "chat-web", 4*time.Millisecond)
	m.ObserveRequest("GET /v1.0/me", 429, "mobile", time.Millisecond)
	m.ObserveRequest("GET /healthz", 200, "", time.Millisecond)
	m.ObserveUpstream("user", metrics.OutcomeOK, 20*time.Millisecond)
	m.ObserveUpstream("user", metrics.OutcomeThrottled, 20*time.Millisecond)
	m.ObserveRevocation(nil)
	m.ObserveRevocation(errors.New("boom"))
	m.RevokedTokenRefused()
	stats := cache.Stats{Hits: 7, Misses: 3, Evictions: 2, Entries: 5, Bytes: 640}
	if err := m.WatchCache("profiles", func() cache.Stats { return stats }); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchCache("profiles", func() cache.Stats { return stats }); err == nil {
		t.Error("watching the same cache twice: want an error")
	}
	out := scrape(t, m)
	for _, want := range []string{
		`graphgate_http_requests_total{client_app="chat-web",route="GET /v1.0/users/{id}",status_class="2xx"} 2`,
		`graphgate_http_requests_total{client_app="mobile",route="GET /v1.0/me",status_class="4xx"} 1`,
		`graphgate_http_requests_total{client_app="none",route="GET /healthz",status_class="2xx"} 1`,
		`graphgate_http_request_duration_seconds_count{route="GET /v1.0/users/{id}",status_class="2xx"} 2`,
		`graphgate_http_request_duration_seconds_bucket{route="GET /v1.0/users/{id}",status_class="2xx",le="0.005"} 2`,
		`graphgate_http_throttled_responses_total{route="GET /v1.0/me"} 1`,
		`graphgate_upstream_requests_total{operation="user",outcome="ok"} 1`,
		`graphgate_upstream_requests_total{operation="user",outcome="throttled"} 1`,
		`graphgate_upstream_request_duration_seconds_count{operation="user"} 2`,
		`graphgate_revocation_requests_total{outcome="ok"} 1`,
		`graphgate_revocation_requests_total{outcome="error"} 1`,
		`graphgate_revocation_refused_tokens_total 1`,
		`graphgate_cache_hits_total{cache="profiles"} 7`,
		`graphgate_cache_misses_total{cache="profiles"} 3`,
		`graphgate_cache_evictions_total{cache="profiles"} 2`,
		`graphgate_cache_entries{cache="profiles"} 5`,
		`graphgate_cache_bytes{cache="profiles"} 640`,
		`go_goroutines `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// The collector reads the stats at scrape time.
	stats.Hits = 8
	if out := scrape(t, m); !strings.Contains(out, `graphgate_cache_hits_total{cache="profiles"} 8`) {
		t.Error("cache hits not re-read at scrape time")
	}
}

func TestStatusClass(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   string
	}{{100, "1xx"}, {200, "2xx"}, {204, "2xx"}, {304, "3xx"}, {404, "4xx"}, {429, "4xx"}, {503, "5xx"}, {0, "other"}, {600, "other"}} {
		t.Run(tc.want, func(t *testing.T) {
			if got := metrics.StatusClass(tc.status); got != tc.want {
				t.Errorf("StatusClass(%d) = %q, want %q", tc.status, got, tc.want)
			}
		})
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("GET /x", 200, "a", time.Millisecond)
	m.ObserveUpstream("user", metrics.OutcomeOK, time.Millisecond)
	m.ObserveRevocation(nil)
	m.RevokedTokenRefused()
	if err := m.WatchCache("c", nil); err != nil {
		t.Errorf("nil WatchCache: %v", err)
	}
	if m.Registry() != nil {
		t.Error("nil Registry should be nil")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil handler: status %d, want 404", rec.Code)
	}
}

// TestOutcomeWords pins the outcome words to the literals graph's TestOutcomeWords
// pins graph.Outcome* to: graph owns them, this package repeats them.
func TestOutcomeWords(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{metrics.OutcomeOK, "ok"},
		{metrics.OutcomeThrottled, "throttled"},
		{metrics.OutcomeGated, "gated"},
		{metrics.OutcomeNotFound, "not_found"},
		{metrics.OutcomeBadRequest, "bad_request"},
		{metrics.OutcomeDenied, "denied"},
		{metrics.OutcomeUnavailable, "unavailable"},
		{metrics.OutcomeError, "error"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("outcome word %q, want %q", tc.got, tc.want)
			}
		})
	}
}
