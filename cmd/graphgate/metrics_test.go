package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDemoServesMetricsOnItsOwnListener runs the demo with --metrics-addr, sends traffic
// and scrapes the metrics listener; the API port does not serve /metrics.
func TestDemoServesMetricsOnItsOwnListener(t *testing.T) {
	s := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var intro demoIntro
	if err := json.Unmarshal([]byte(s.line(t)), &intro); err != nil {
		t.Fatalf("first stdout line is not JSON: %v", err)
	}
	var metricsURL string
	for metricsURL == "" {
		if l := s.line(t); strings.HasPrefix(l, "metrics on ") {
			metricsURL = strings.TrimPrefix(l, "metrics on ")
		}
	}
	waitReady(t, intro.GatewayURL)
	token := passwordToken(t, intro, intro.Username, intro.Password)
	if status, _ := getAuthorized(t, intro.GatewayURL+"/v1.0/me", token); status != http.StatusOK {
		t.Fatalf("/me: %d", status)
	}

	body := httpGet(t, metricsURL)
	// The demo also seeds traffic of its own in the background: check series, not counts.
	for _, want := range []string{
		`graphgate_http_requests_total{client_app="chat-web",route="GET /v1.0/me",status_class="2xx"} `,
		`graphgate_upstream_requests_total{operation="user",outcome="ok"} `,
		`graphgate_cache_misses_total{cache="profiles"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, intro.Username) || strings.Contains(body, intro.TenantID) {
		t.Error("metrics hold the user's UPN or the tenant id")
	}
	resp, err := http.Get(intro.GatewayURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("API port /metrics: %d, want 404", resp.StatusCode)
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b)
}

func TestSameAddr(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:9090", "127.0.0.1:9090", true},
		{":8080", "127.0.0.1:8080", true},
		{"0.0.0.0:8080", "10.0.0.1:8080", true},
		{"127.0.0.1:9090", "127.0.0.1:8080", false},
		{"127.0.0.1:0", "127.0.0.1:0", false},
		{"10.0.0.1:8080", "10.0.0.2:8080", false},
	} {
		t.Run(tc.a+"|"+tc.b, func(t *testing.T) {
			if got := sameAddr(tc.a, tc.b); got != tc.want {
				t.Errorf("sameAddr(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
