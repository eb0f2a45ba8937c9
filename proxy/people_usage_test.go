package proxy_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy/metrics"
	"github.com/graphgate/graphgate/proxy/proxytest"
	"github.com/graphgate/graphgate/proxy/usage"
)

// TestPeopleInMetricsAndUsage: people lists are counted like every route: Prometheus
// by route template and as Graph operation "people", the usage store by route template
// and client app, with no identifier of the people listed.
func TestPeopleInMetricsAndUsage(t *testing.T) {
	m := metrics.New()
	e := newEnvWith(t, proxytest.Options{Metrics: m})
	users := e.enabledUsers(0)
	for _, u := range users[:6] {
		tok := e.token(0, "chat-web", u)
		for _, path := range []string{"/v1.0/me/people?$top=6", "/v1.0/me/people?$top=6"} {
			if r := e.get(path, tok); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
		}
		if r := e.get("/v1.0/users/"+users[7].ID+"/people", e.token(0, "intranet-directory", u)); r.Status != http.StatusOK {
			t.Fatalf("another user's people: %d %s", r.Status, r.Body)
		}
	}
	out := scrapeMetrics(t, m)
	for _, want := range []string{
		`{client_app="chat-web",route="GET /v1.0/me/people",status_class="2xx"} 12`,
		`{client_app="intranet-directory",route="GET /v1.0/users/{id}/people",status_class="2xx"} 6`,
		`graphgate_upstream_requests_total{operation="people",outcome="ok"} 7`, // 6 owners + users[7] once
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	assertNoPersonalLabels(t, e, out)

	store, err := usage.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), usage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	u := newUsageEnv(t, store)
	for _, usr := range u.enabledUsers(0)[:6] {
		u.get("/v1.0/me/people", u.token(0, "chat-web", usr))
	}
	if err := u.rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cells, err := store.Cells(context.Background(), u.tenant(0).ID, time.Now().Add(-2*time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var counted int64
	for _, c := range cells {
		if c.Operation == "GET /v1.0/me/people" && c.ClientApp == "chat-web" && c.StatusClass == "2xx" {
			counted += c.Requests
		}
	}
	if counted != 6 {
		t.Errorf("usage cells count %d people lists, want 6 (cells %+v)", counted, cells)
	}
}
