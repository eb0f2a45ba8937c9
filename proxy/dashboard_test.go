package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// seedUsage writes two weeks of aggregates for a tenant: three client apps, a few
// operations, hits and misses, latency buckets, and enough distinct users per app-day to
// pass the release rule.
func seedUsage(t *testing.T, store usage.Store, tenant string, days int) {
	t.Helper()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	apps := []string{"chat-web", "mobile", "intranet-directory"}
	ops := []string{"GET /v1.0/users/{id}", "GET /v1.0/me", "GET /v1.0/users/{id}/photo/$value", "GET /v1.0/users"}
	b := usage.Batch{ID: fmt.Sprintf("seed-%d", time.Now().UnixNano())}
	for d := 1; d <= days; d++ {
		day := today.AddDate(0, 0, -d)
		for i, app := range apps {
			for j, op := range ops {
				for _, hour := range []int{8, 11, 15} {
					for _, cache := range []string{"hit", "miss"} {
						n := int64(10 + (d*7+i*5+j*3+hour)%25)
						if cache == "miss" {
							n /= 3
						}
						c := usage.Cell{Hour: day.Add(time.Duration(hour) * time.Hour), Tenant: tenant, ClientApp: app,
							Operation: op, StatusClass: "2xx", Cache: cache, Requests: n}
						c.Latency[0], c.Latency[4], c.Latency[6] = n*6/10, n*3/10, n-n*6/10-n*3/10
						b.Cells = append(b.Cells, c)
					}
				}
			}
			b.Users = append(b.Users, usage.DailyUsers{Day: day, Tenant: tenant, ClientApp: app, Users: int64(6 + (d+i)%9)})
		}
		b.Users = append(b.Users, usage.DailyUsers{Day: day, Tenant: tenant, ClientApp: usage.AllClients, Users: 20})
	}
	if err := store.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// analystOf returns a fixture user holding exactly the Gateway.Analyst role.
func analystOf(t *testing.T, e *env) emulator.UserInfo {
	t.Helper()
	for _, u := range e.enabledUsers(0) {
		if len(u.Roles) == 1 && u.Roles[0] == proxy.RoleAnalyst {
			return u
		}
	}
	t.Fatal("no analyst in the fixture")
	return emulator.UserInfo{}
}

// TestDashboardEndToEnd serves the dashboard from the gateway over the real usage API:
// seeded history plus today's real traffic, an analyst token pasted into the page, and
// every chart drawn in headless Chromium with no console error.
func TestDashboardEndToEnd(t *testing.T) {
	store, err := usage.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), usage.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	u := newUsageEnv(t, store)
	seedUsage(t, store, u.tenant(0).ID, 13)
	// Today's figures come from real requests of enough distinct users.
	for _, usr := range u.enabledUsers(0)[:8] {
		tok := u.token(0, "chat-web", usr)
		u.get("/v1.0/me", tok)
		u.get("/v1.0/me", tok)
	}
	if err := u.rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	t.Run("page and assets through the gateway", func(t *testing.T) {
		for _, tc := range []struct {
			path, ctype string
			status      int
		}{
			{"/usage/", "text/html; charset=utf-8", 200},
			{"/usage/assets/app.js", "text/javascript; charset=utf-8", 200},
			{"/usage/assets/vendor/chart.umd.min.js", "text/javascript; charset=utf-8", 200},
			{"/usage/assets/", "", 404},
		} {
			resp, err := http.Get(u.url + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
				continue
			}
			if tc.status == 200 && (resp.Header.Get("Content-Type") != tc.ctype ||
				!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'")) {
				t.Errorf("%s: headers %v", tc.path, resp.Header)
			}
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(u.url + "/usage")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/usage/" {
			t.Errorf("/usage: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("charts in Chromium", func(t *testing.T) {
		tok := u.token(0, "intranet-directory", analystOf(t, u.env))
		res := browsertest.Open(t, u.url+"/usage/", tok)
		if len(res.Charts) != 5 {
			t.Fatalf("want 5 charts, got %+v", res.Charts)
		}
		for _, c := range res.Charts {
			if c.Ready != "true" || c.Error || c.Series == 0 || c.Points == 0 {
				t.Errorf("chart %s not drawn from the API: %+v", c.ID, c)
			}
		}
		if res.ErrorText != "" {
			t.Errorf("error banner: %q", res.ErrorText)
		}
		if len(res.Console) > 0 {
			t.Errorf("console errors: %q", res.Console)
		}
	})
}
