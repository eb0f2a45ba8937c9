package proxy_test

// Hostile and odd-but-legal inputs, end to end through HTTP: every refusal must be a clear
// error in Graph's envelope with the right status, no-store and a request-id; nothing
// beyond the caller's policy may come back.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage"
)

func TestHostileAdminAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole(0, proxy.RoleAdmin)
	atok := e.token(0, "chat-web", admin)
	victim := e.victim(0)
	vtok := e.token(0, "chat-web", victim)
	tests := []struct {
		name, who string
		status    int
	}{
		{"other tenant's UPN", e.enabledUsers(1)[0].UserPrincipalName, 404},
		{"other tenant's id", e.enabledUsers(1)[0].ID, 404},
		{"double-encoded at", "x%2540contoso.example", 400},
		{"NUL", "x%00@contoso.example", 400},
		{"odd casing of the victim's UPN", strings.ToUpper(victim.UserPrincipalName[:1]) + strings.ToUpper(victim.UserPrincipalName[1:3]) + victim.UserPrincipalName[3:], 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/admin/v1/users/"+tc.who+"/logout", atok, nil)
			if tc.status != 200 {
				assertGraphError(t, r, tc.status, "")
				return
			}
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if got := e.get("/v1.0/me", vtok); got.Status != http.StatusUnauthorized {
				t.Errorf("the victim's token still works after a logout by odd-cased UPN: %d", got.Status)
			}
		})
	}
}

// hostileReports is a usage store answer whose text columns hold spreadsheet formulas.
type hostileReports struct{}

func (hostileReports) Requests(_ context.Context, _ string, p usage.Params) (usage.Report[usage.RequestRow], error) {
	n := int64(7)
	return usage.Report[usage.RequestRow]{From: p.From.Format("2006-01-02"), To: p.To.Format("2006-01-02"), GroupBy: p.GroupBy, K: 5,
		Rows: []usage.RequestRow{{Time: "2025-01-01T00:00:00Z", ClientApp: `=HYPERLINK("https://evil.example","x")`,
			Operation: "+SUM(1,2)", StatusClass: "-2+3", Cache: "@cmd", Requests: 7}}, Total: &n}, nil
}

func (hostileReports) Latency(_ context.Context, _ string, p usage.Params) (usage.Report[usage.LatencyRow], error) {
	return usage.Report[usage.LatencyRow]{GroupBy: p.GroupBy, Rows: []usage.LatencyRow{{Time: "\t=1", ClientApp: "-x"}}}, nil
}

func (hostileReports) Cache(context.Context, string, usage.Params) (usage.Report[usage.CacheRow], error) {
	return usage.Report[usage.CacheRow]{}, nil
}

func (hostileReports) ActiveUsers(context.Context, string, usage.Params) (usage.Report[usage.UsersRow], error) {
	return usage.Report[usage.UsersRow]{}, nil
}

func TestHostileUsageAPI(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.UsageReports = hostileReports{} })
	tok := e.token(0, "chat-web", e.withRole(0, proxy.RoleAnalyst))
	t.Run("csv cells are neutralised", func(t *testing.T) {
		r := e.get("/usage/v1/requests?format=csv&group_by=client_app,operation,status_class,cache", tok)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
		want := `2025-01-01T00:00:00Z,"'=HYPERLINK(""https://evil.example"",""x"")","'+SUM(1,2)",'-2+3,'@cmd,7`
		if len(lines) != 2 || lines[1] != want {
			t.Fatalf("csv %q", r.Body)
		}
		r = e.get("/usage/v1/latency?group_by=client_app", tok, "Accept", "text/csv")
		if !strings.Contains(string(r.Body), "\n'\t=1,'-x,") {
			t.Errorf("latency csv %q", r.Body)
		}
		// JSON is data, not a spreadsheet: values stay as they are.
		if r := e.get("/usage/v1/requests?group_by=client_app", tok); !strings.Contains(string(r.Body), `"client_app":"=HYPERLINK`) {
			t.Errorf("json %s", r.Body)
		}
	})
	for _, q := range []string{"from=2025-01-02&to=2025-01-01", "from=2000-01-01&to=2025-01-01", "granularity=minute",
		"granularity=HOUR", "format=CSV", "group_by=,", "group_by=client_app,client_app", "from=2025-02-30", "to=" + strings.Repeat("9", 100)} {
		t.Run(q, func(t *testing.T) {
			assertGraphError(t, e.get("/usage/v1/requests?"+q, tok), 400, "BadRequest")
		})
	}
}

// TestHostileDashboardAssets: the dashboard's files are served, anything else under
// /usage/assets is a 404 in Graph's envelope with no-store.
func TestHostileDashboardAssets(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.UsageReports = hostileReports{} })
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/usage/assets/app.js", 200},
		{"/usage/assets/style.css", 200},
		{"/usage/assets/nonexistent.js", 404},
		{"/usage/assets/", 404},
		{"/usage/assets/vendor", 404},
		{"/usage/assets/vendor/", 404},
		{"/usage/assets/index.html", 404},
		{"/usage/assets/../../go.mod", 404},
		{"/usage/assets/%2e%2e/%2e%2e/go.mod", 404},
		{"/usage/assets/app.js%00", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.get(tc.path, "")
			if tc.status == 200 {
				if r.Status != 200 || len(r.Body) == 0 {
					t.Fatalf("%d %.200s", r.Status, r.Body)
				}
				return
			}
			assertGraphError(t, r, tc.status, "Request_ResourceNotFound")
		})
	}
}
