package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

// Route templates of the emulator's request log.
const (
	routeUser      = "GET /v1.0/users/{id}"
	routeList      = "GET /v1.0/users"
	routeManager   = "GET /v1.0/users/{id}/manager"
	routeReports   = "GET /v1.0/users/{id}/directReports"
	routePhoto     = "GET /v1.0/users/{id}/photo/$value"
	routePhotoSize = "GET /v1.0/users/{id}/photos/{size}/$value"
	routePresence  = "GET /v1.0/users/{id}/presence"
	routePresences = "POST /v1.0/communications/getPresencesByUserId"
	routeBatch     = "POST /v1.0/$batch"
	routeRevoke    = "POST /v1.0/users/{id}/revokeSignInSessions"
	routeAll       = "" // every Graph route
)

// testFields is the directory's $select: some policy fields plus the internal ones.
var testFields = []string{"id", "accountEnabled", "signInSessionsValidFromDateTime",
	"displayName", "userPrincipalName", "jobTitle"}

// unknownID is an object id no tenant of the emulator holds.
const unknownID = "0badc0de-0000-4000-8000-000000000000"

// env is a directory serving every tenant of a private emulator through real graph
// clients over TLS.
type env struct {
	emu *emulator.Emulator
	dir *directory.Directory
	a   emulator.TenantInfo // contoso, the tenant most tests read
	b   emulator.TenantInfo // fabrikam
}

// newEnv starts an emulator and a directory on it; cfg adjusts the directory's
// configuration. Graph clients never retry, so every call is one upstream request.
func newEnv(t *testing.T, cfg ...func(*directory.Config)) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	info := emu.Directory()
	c := directory.Config{Fields: testFields}
	for _, tn := range info.Tenants {
		up, err := graph.New(graph.Config{TenantID: tn.ID, ClientID: tn.GatewayAppID,
			ClientSecret: tn.GatewayClientSecret, AuthorityHost: emu.URL() + "/",
			BaseURL: emu.URL() + "/v1.0", HTTPClient: emu.HTTPClient(),
			Timeout: 5 * time.Second, MaxRetries: -1})
		if err != nil {
			t.Fatalf("graph.New: %v", err)
		}
		c.Tenants = append(c.Tenants, directory.Tenant{ID: tn.ID, Upstream: up})
	}
	for _, f := range cfg {
		f(&c)
	}
	dir, err := directory.New(c)
	if err != nil {
		t.Fatalf("directory.New: %v", err)
	}
	return &env{emu: emu, dir: dir, a: info.Tenants[0], b: info.Tenants[1]}
}

// enabled lists the enabled users of a tenant.
func enabled(tn emulator.TenantInfo) []emulator.UserInfo {
	var out []emulator.UserInfo
	for _, u := range tn.Users {
		if u.AccountEnabled {
			out = append(out, u)
		}
	}
	return out
}

// disabled returns a deactivated user of a tenant.
func disabled(t *testing.T, tn emulator.TenantInfo) emulator.UserInfo {
	t.Helper()
	for _, u := range tn.Users {
		if !u.AccountEnabled {
			return u
		}
	}
	t.Fatal("no deactivated user in the fixture")
	return emulator.UserInfo{}
}

// userWhere returns the full fixture record of the first enabled user of tenant A that
// ok accepts.
func (e *env) userWhere(t *testing.T, ok func(emulator.User) bool) emulator.User {
	t.Helper()
	for _, ui := range enabled(e.a) {
		if u, found := e.emu.User(e.a.ID, ui.ID); found && ok(u) {
			return u
		}
	}
	t.Fatal("no such user in the fixture")
	return emulator.User{}
}

// addUser adds a user to tenant A.
func (e *env) addUser(t *testing.T, u emulator.User) emulator.User {
	t.Helper()
	u, err := e.emu.AddUser(e.a.ID, u)
	if err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	return u
}

// count returns how many Graph HTTP requests (not $batch items, not token requests)
// the emulator logged for route; routeAll counts every Graph route.
func (e *env) count(route string) int {
	n := 0
	for _, r := range e.emu.Requests() {
		if !r.InBatch && strings.Contains(r.Route, " /v1.0/") && (route == routeAll || r.Route == route) {
			n++
		}
	}
	return n
}

// wantCalls fails unless the emulator logged exactly want requests for route. The log
// entry is written as the response completes, so it waits a little for late entries.
func (e *env) wantCalls(t *testing.T, route string, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	got := e.count(route)
	for got < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		got = e.count(route)
	}
	if got != want {
		t.Errorf("upstream calls to %q = %d, want %d", route, got, want)
	}
}

// user reads a user of tenant A through User.
func (e *env) user(idOrUPN string) (graph.User, cache.Outcome, error) {
	return e.dir.User(context.Background(), e.a.ID, idOrUPN)
}

// mustUser reads an enabled user of tenant A and checks its id and outcome.
func (e *env) mustUser(t *testing.T, idOrUPN, wantID string, wantOutcome cache.Outcome) {
	t.Helper()
	u, outcome, err := e.user(idOrUPN)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if !strings.EqualFold(u.ID(), wantID) {
		t.Errorf("User ID = %q, want %q", u.ID(), wantID)
	}
	if outcome != wantOutcome {
		t.Errorf("User outcome = %q, want %q", outcome, wantOutcome)
	}
}

// wantErr fails unless err matches target with errors.Is.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s error = %v, want %v", what, err, target)
	}
}

// lastRequest returns the newest request the emulator logged for route.
func (e *env) lastRequest(t *testing.T, route string) emulator.Request {
	t.Helper()
	rs := e.emu.Requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Route == route {
			return rs[i]
		}
	}
	t.Fatalf("no request to %q in the emulator's log", route)
	return emulator.Request{}
}
