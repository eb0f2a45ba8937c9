package emulator_test

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

func TestDirectoryJSONKeys(t *testing.T) {
	e := shared(t)
	resp, b := do(t, e, http.MethodGet, "/_emulator/directory", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	top := decodeObj(t, b)
	if got := keys(top); !slices.Equal(got, []string{"tenants"}) {
		t.Fatalf("top keys %v", got)
	}
	tenants := top["tenants"].([]any)
	if len(tenants) != 2 {
		t.Fatalf("%d tenants", len(tenants))
	}
	wantTenant := []string{"access_token_version", "clients", "domain", "gateway_app_id", "gateway_client_secret", "id", "password", "scope", "users"}
	for _, x := range tenants {
		ten := x.(map[string]any)
		if got := keys(ten); !slices.Equal(got, wantTenant) {
			t.Fatalf("tenant keys %v", got)
		}
		if ten["scope"] != "api://"+ten["gateway_app_id"].(string)+"/access_as_user" {
			t.Fatalf("scope %v", ten["scope"])
		}
		for _, c := range ten["clients"].([]any) {
			if got := keys(c.(map[string]any)); !slices.Equal(got, []string{"id", "name"}) {
				t.Fatalf("client keys %v", got)
			}
		}
		for _, u := range ten["users"].([]any) {
			if got := keys(u.(map[string]any)); !slices.Equal(got, []string{"accountEnabled", "id", "roles", "userPrincipalName"}) {
				t.Fatalf("user keys %v", got)
			}
		}
	}
}

var (
	guidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	phoneRE = regexp.MustCompile(`^\+1 555 01\d\d$`)
)

// checkTenant asserts the structural invariants of a generated tenant.
func checkTenant(t *testing.T, ten *emulator.Tenant) (disabled, admins, analysts, photos int) {
	t.Helper()
	ids, upns := map[string]bool{}, map[string]bool{}
	for _, u := range ten.Users {
		if !guidRE.MatchString(u.ID) || ids[u.ID] || upns[u.UserPrincipalName] ||
			!strings.HasSuffix(u.UserPrincipalName, "@"+ten.Domain) || !strings.HasSuffix(ten.Domain, ".example") {
			t.Fatalf("bad or duplicate user %+v", u)
		}
		ids[u.ID], upns[u.UserPrincipalName] = true, true
		for _, p := range append(slices.Clone(u.BusinessPhones), u.MobilePhone) {
			if p != "" && !phoneRE.MatchString(p) {
				t.Fatalf("phone %q outside the fictitious range", p)
			}
		}
		if !u.AccountEnabled {
			disabled++
		}
		if slices.Contains(u.Roles, "Gateway.Admin") {
			admins++
		}
		if slices.Contains(u.Roles, "Gateway.Analyst") {
			analysts++
		}
		if u.HasPhoto {
			photos++
		}
	}
	for i, u := range ten.Users {
		if (i == 0) != (u.ManagerID == "") || (u.ManagerID != "" && !ids[u.ManagerID]) {
			t.Fatalf("user %d has manager %q", i, u.ManagerID)
		}
	}
	return disabled, admins, analysts, photos
}

func TestDefaultDirectory(t *testing.T) {
	d := emulator.DefaultDirectory()
	if len(d.Tenants) != 2 || d.Tenants[0].Domain != "contoso.example" || d.Tenants[1].Domain != "fabrikam.example" {
		t.Fatalf("tenants %+v", d.Tenants)
	}
	c := d.Tenants[0]
	disabled, admins, analysts, photos := checkTenant(t, c)
	n := len(c.Users)
	if n < 50 || disabled < 3 || admins < 2 || analysts < 2 {
		t.Fatalf("contoso: %d users, %d disabled, %d admins, %d analysts, %d photos", n, disabled, admins, analysts, photos)
	}
	if photos > n*5/6 || photos < n/2 {
		t.Fatalf("photos for %d of %d users, want about two thirds", photos, n)
	}
	if len(d.Tenants[1].Users) < 10 {
		t.Fatalf("fabrikam has %d users", len(d.Tenants[1].Users))
	}
	checkTenant(t, d.Tenants[1])
	var names []string
	for _, cl := range c.Clients {
		names = append(names, cl.Name)
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{"chat-web", "intranet-directory", "mobile"}) {
		t.Fatalf("clients %v", names)
	}
	if c.GatewayAppID == d.Tenants[1].GatewayAppID || c.ID == d.Tenants[1].ID {
		t.Fatal("tenants share the gateway app id or tenant id")
	}
	again := emulator.DefaultDirectory()
	if again.Tenants[0].Users[17].ID != c.Users[17].ID || again.Tenants[0].GatewayClientSecret != c.GatewayClientSecret {
		t.Fatal("DefaultDirectory is not deterministic")
	}
}

func TestGenerateDirectoryLarge(t *testing.T) {
	d := emulator.GenerateDirectory(42, 2, 50_000)
	total := 0
	for _, ten := range d.Tenants {
		disabled, admins, _, photos := checkTenant(t, ten)
		total += len(ten.Users)
		if disabled == 0 || admins < 2 || photos == 0 {
			t.Fatalf("tenant %s: disabled %d admins %d photos %d", ten.Domain, disabled, admins, photos)
		}
	}
	contoso := len(d.Tenants[0].Users) // 50,000 generated, then the edge-case users
	if total != 100_000+len(emulatorEdgeUPNs) || contoso != 50_000+len(emulatorEdgeUPNs) {
		t.Fatalf("%d users", total)
	}
	e, err := emulator.New(emulator.Options{Directory: d})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tok := appToken(t, e, "contoso.example")
	st, m := graphGet(t, e, tok, "/v1.0/users?$count=true&$top=999&$select=id", eventual)
	if st != 200 || m["@odata.count"] != float64(contoso) || len(m["value"].([]any)) != 999 {
		t.Fatalf("list: %d count=%v", st, m["@odata.count"])
	}
}

func TestDirectoryMutations(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	u, err := e.AddUser(ti.Domain, emulator.User{UserPrincipalName: "new.hire@contoso.example", DisplayName: "New Hire",
		AccountEnabled: true, ManagerID: ti.Users[0].ID, Roles: []string{"Gateway.Analyst"}})
	if err != nil || u.ID == "" || u.CreatedDateTime.IsZero() {
		t.Fatalf("AddUser: %+v %v", u, err)
	}
	if st, m := graphGet(t, e, tok, "/v1.0/users/new.hire@contoso.example/manager?$select=id", nil); st != 200 || m["id"] != ti.Users[0].ID {
		t.Fatalf("new user's manager: %d %v", st, m)
	}
	tests := []struct {
		name string
		u    emulator.User
		want error
	}{
		{"duplicate upn", emulator.User{UserPrincipalName: "NEW.HIRE@contoso.example"}, emulator.ErrConflict},
		{"no upn", emulator.User{DisplayName: "x"}, emulator.ErrInvalid},
		{"unknown manager", emulator.User{UserPrincipalName: "y@contoso.example", ManagerID: "nope"}, emulator.ErrUserNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.AddUser(ti.ID, tc.u); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := e.AddUser("nowhere.example", emulator.User{UserPrincipalName: "z@x"}); !errors.Is(err, emulator.ErrTenantNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	if err := e.SetAccountEnabled(ti.ID, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if st, m := graphGet(t, e, tok, "/v1.0/users/"+u.ID+"?$select=accountEnabled", nil); st != 200 || m["accountEnabled"] != false {
		t.Fatalf("after disable: %d %v", st, m)
	}
	if err := e.SetAccountEnabled(ti.ID, "nobody", true); !errors.Is(err, emulator.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, ui := range e.Directory().Tenants[0].Users {
		if ui.ID == u.ID && (ui.AccountEnabled || !slices.Equal(ui.Roles, []string{"Gateway.Analyst"})) {
			t.Fatalf("directory entry %+v", ui)
		}
	}
}

func TestControlAPI(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	user := "/v1.0/users/" + ti.Users[0].ID
	ctl := func(method, path string, body any) int {
		t.Helper()
		resp, b := do(t, e, method, "/_emulator/"+path, "", jsonBody(t, body), map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode >= 300 {
			t.Logf("%s %s: %s", method, path, b)
		}
		return resp.StatusCode
	}
	steps := []struct {
		name         string
		method, path string
		body         any
		ctlStatus    int
		graphStatus  int
	}{
		{"fault", "PUT", "faults", map[string]any{"route": "GET /v1.0/users/{id}", "error_rate": 1, "status": 502}, 204, 502},
		{"reset faults", "DELETE", "faults", nil, 204, 200},
		{"throttle", "PUT", "throttle", map[string]any{"budget": 1, "window_ms": 60000, "retry_after_seconds": 2.5}, 204, 200},
		{"throttled", "GET", "count", nil, 200, 429},
		{"throttle off", "PUT", "throttle", map[string]any{}, 204, 200},
		{"disable user", "PATCH", "users/" + ti.ID + "/" + ti.Users[0].ID, map[string]any{"accountEnabled": false}, 200, 200},
		{"add user", "POST", "users", map[string]any{"tenant": "contoso.example", "user": map[string]any{"userPrincipalName": "ctl@contoso.example"}}, 201, 200},
		{"duplicate user", "POST", "users", map[string]any{"tenant": "contoso.example", "user": map[string]any{"userPrincipalName": "ctl@contoso.example"}}, 409, 200},
		{"presence", "PUT", "presence/" + ti.Domain + "/" + ti.Users[0].ID, map[string]any{"availability": "Away", "activity": "Away"}, 204, 200},
		{"rotate", "POST", "keys/" + ti.ID + "/rotate", nil, 200, 200},
		{"retire", "POST", "keys/" + ti.ID + "/retire", nil, 204, 401},
	}
	for _, s := range steps {
		if got := ctl(s.method, s.path, s.body); got != s.ctlStatus {
			t.Fatalf("%s: control status %d, want %d", s.name, got, s.ctlStatus)
		}
		if st, m := graphGet(t, e, tok, user, nil); st != s.graphStatus {
			t.Fatalf("%s: graph status %d, want %d: %v", s.name, st, s.graphStatus, m)
		}
	}
	if u, _ := e.User(ti.ID, ti.Users[0].ID); u.AccountEnabled {
		t.Fatal("PATCH did not disable the user")
	}
	resp, b := do(t, e, http.MethodGet, "/_emulator/requests", "", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"route":"GET /v1.0/users/{id}"`) {
		t.Fatalf("requests: %d %.200s", resp.StatusCode, b)
	}
	resp, b = do(t, e, http.MethodPost, "/_emulator/token", "", jsonBody(t, map[string]any{"tenant": ti.ID, "user": ti.Users[2].UserPrincipalName}), nil)
	if m := decodeObj(t, b); resp.StatusCode != 200 || m["access_token"] == nil {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, e, http.MethodGet, "/_emulator/ca.pem", "", nil, nil); resp.StatusCode != 200 || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Fatalf("ca.pem: %d", resp.StatusCode)
	}
	ctl("PUT", "outage", map[string]any{"on": true})
	req, _ := http.NewRequest(http.MethodGet, e.URL()+user, nil)
	if resp, err := e.HTTPClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("outage via control API did not fail the request")
	}
	ctl("PUT", "outage", map[string]any{"on": false})
}
