package proxy_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

func TestLogoutSingleInstance(t *testing.T) {
	base := newEnv(t)
	clk := testkit.NewClock(time.Now())
	revs, err := revoke.NewMemory(revoke.Config{Secret: []byte("logout-test-secret-0123456789"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	aud := newAuditBuffer(t)
	e := gatewayOn(t, base, clk.Now, func(c *proxy.Config) { c.Revocations, c.Audit = revs, aud.log })
	victim, admin := e.victim(0), e.withRole(0, proxy.RoleAdmin)
	tok := e.mint(0, "chat-web", victim, clk.Now())
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("before logout: %d %s", r.Status, r.Body)
	}

	logoutAt := clk.Now()
	a := decodeLogout(t, e.logout(e.mint(0, "chat-web", admin, clk.Now()), victim.UserPrincipalName))
	if want := logoutAt.Add(revoke.DefaultLockout); a.CutOff.Sub(want).Abs() > time.Millisecond {
		t.Errorf("cut-off %v, want %v", a.CutOff, want)
	}
	if !a.Graph.Succeeded || a.Cache.EntriesPurged < 1 || a.Instances.Shared || a.Instances.Notified {
		t.Errorf("answer %+v", a)
	}
	if n := e.emu.Count("POST /v1.0/users/{id}/revokeSignInSessions"); n != 1 {
		t.Errorf("revokeSignInSessions called %d times", n)
	}
	assertRevoked(t, e.get("/v1.0/me", tok), "same token right after logout")

	clk.Add(2 * time.Minute)
	assertRevoked(t, e.get("/v1.0/me", e.mint(0, "chat-web", victim, clk.Now())), "new token within the lock-out")

	clk.Add(revoke.DefaultLockout - 2*time.Minute + 2*time.Second)
	if r := e.get("/v1.0/me", e.mint(0, "chat-web", victim, clk.Now())); r.Status != http.StatusOK {
		t.Errorf("fresh login after the lock-out: %d %s", r.Status, r.Body)
	}
	assertRevoked(t, e.get("/v1.0/me", tok), "old token after the lock-out")

	recs := aud.records(t)
	if len(recs) != 1 || recs[0]["action"] != "user.logout" || recs[0]["result"] != "success" ||
		recs[0]["tenant"] != e.tenant(0).ID || recs[0]["request_id"] == "" {
		t.Fatalf("audit records %v", recs)
	}
	for _, raw := range []string{victim.ID, victim.UserPrincipalName, admin.ID, admin.UserPrincipalName} {
		if strings.Contains(strings.ToLower(aud.raw()), strings.ToLower(raw)) {
			t.Errorf("audit record holds a raw id or UPN")
		}
	}
}

// TestLogoutKeepsTheSameObjectIDInAnotherTenant logs a user out of the first tenant while
// a user with the same object id lives in the second: the twin's token is still accepted
// and its cached profile is not purged (revocations and cache purges are keyed by tenant).
func TestLogoutKeepsTheSameObjectIDInAnotherTenant(t *testing.T) {
	e := newEnv(t)
	victim := e.victim(0)
	twin := e.twin(1, victim)
	victimTok, twinTok := e.token(0, "chat-web", victim), e.token(1, "chat-web", twin)
	reader := e.token(1, "chat-web", e.withRole(1, ""))
	for _, tok := range []string{victimTok, twinTok} {
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("before logout: %d %s", r.Status, r.Body)
		}
	}
	if r := e.get("/v1.0/users/"+twin.ID, reader); r.Status != http.StatusOK { // caches the twin
		t.Fatalf("the twin's profile: %d %s", r.Status, r.Body)
	}
	decodeLogout(t, e.logout(e.token(0, "chat-web", e.withRole(0, proxy.RoleAdmin)), victim.ID))
	assertRevoked(t, e.get("/v1.0/me", victimTok), "the logged-out user")

	e.emu.ResetRequests()
	if r := e.get("/v1.0/users/"+twin.ID, reader); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Twin Of") {
		t.Fatalf("the twin's profile after the logout: %d %s", r.Status, r.Body)
	}
	if n := e.emu.Count("GET /v1.0/users/{id}"); n != 0 {
		t.Errorf("the twin's cached profile was purged by another tenant's logout: %d upstream reads", n)
	}
	if r := e.get("/v1.0/me", twinTok); r.Status != http.StatusOK {
		t.Errorf("the same object id in another tenant was logged out too: %d %s", r.Status, r.Body)
	}
}

func TestLogoutSurvivesRestartThroughEntra(t *testing.T) {
	e := newEnv(t)
	victim, admin := e.victim(0), e.withRole(0, proxy.RoleAdmin)
	tok := e.token(0, "chat-web", victim)
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("before logout: %d", r.Status)
	}
	decodeLogout(t, e.logout(e.token(0, "chat-web", admin), victim.ID))

	restarted := gatewayOn(t, e, nil) // new server, empty cache, empty in-memory list
	assertRevoked(t, restarted.get("/v1.0/me", tok), "revoked token after a restart")
	// Entra's token service still redeems revoked refresh tokens for a while, so the
	// lock-out after Entra's signInSessionsValidFromDateTime holds after a restart too.
	soon := restarted.mint(0, "chat-web", victim, time.Now().Add(2*time.Second))
	assertRevoked(t, restarted.get("/v1.0/me", soon), "a token issued within the lock-out, restarted gateway")

	later := time.Now().Add(revoke.DefaultLockout + 5*time.Second)
	afterwards := gatewayOn(t, e, func() time.Time { return later })
	fresh := afterwards.mint(0, "chat-web", victim, later.Add(-time.Second))
	if r := afterwards.get("/v1.0/me", fresh); r.Status != http.StatusOK {
		t.Errorf("a token issued after the lock-out, restarted gateway: %d %s", r.Status, r.Body)
	}
}

func TestDeactivatedCallerIsRefused(t *testing.T) {
	e := newEnv(t)
	assertRevoked(t, e.get("/v1.0/me", e.token(0, "chat-web", e.disabledUser(0))), "deactivated caller")
}

func TestLogoutRefusals(t *testing.T) {
	aud := newAuditBuffer(t)
	e := newEnv(t, func(c *proxy.Config) { c.Audit = aud.log })
	victim := e.victim(0)
	victimTok := e.token(0, "chat-web", victim)
	if r := e.get("/v1.0/me", victimTok); r.Status != http.StatusOK {
		t.Fatalf("before: %d", r.Status)
	}
	admin, foreignAdmin := e.token(0, "chat-web", e.withRole(0, proxy.RoleAdmin)), e.token(1, "chat-web", e.withRole(1, proxy.RoleAdmin))
	plain := e.token(0, "chat-web", e.withRole(0, ""))
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		status int
		code   string
		result string // audit result; "" = no audit record (unauthenticated)
	}{
		{"no token", http.MethodPost, "/admin/v1/users/" + victim.ID + "/logout", "", 401, "InvalidAuthenticationToken", ""},
		{"no admin role", http.MethodPost, "/admin/v1/users/" + victim.ID + "/logout", plain, 403, "Authorization_RequestDenied", "denied"},
		{"no admin role, purge", http.MethodPost, "/admin/v1/cache/purge", plain, 403, "Authorization_RequestDenied", "denied"},
		{"other tenant's admin by id", http.MethodPost, "/admin/v1/users/" + victim.ID + "/logout", foreignAdmin, 404, "Request_ResourceNotFound", "not_found"},
		{"other tenant's admin by UPN", http.MethodPost, "/admin/v1/users/" + victim.UserPrincipalName + "/logout", foreignAdmin, 404, "Request_ResourceNotFound", "not_found"},
		{"malformed id", http.MethodPost, "/admin/v1/users/not-a-user-id/logout", admin, 400, "Request_BadRequest", "invalid"},
		{"unknown user", http.MethodPost, "/admin/v1/users/00000000-0000-4000-8000-000000000000/logout", admin, 404, "Request_ResourceNotFound", "not_found"},
		{"GET is not allowed", http.MethodGet, "/admin/v1/users/" + victim.ID + "/logout", admin, 405, "Request_BadRequest", ""},
	}
	for _, tc := range tests {
		// Each case counts only the audit records its own request wrote, so it holds
		// whichever cases ran before it (go test -run selects any subset).
		t.Run(tc.name, func(t *testing.T) {
			before := len(aud.records(t))
			r := e.do(tc.method, tc.path, tc.token, nil)
			if r.Status != tc.status || errorCode(t, r) != tc.code {
				t.Errorf("%d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			recs := aud.records(t)[before:]
			switch {
			case tc.result == "" && len(recs) != 0:
				t.Errorf("audit: %d records %v, want none", len(recs), recs)
			case tc.result != "" && (len(recs) != 1 || recs[0]["result"] != tc.result):
				t.Errorf("audit: records %v, want one with result %s", recs, tc.result)
			}
		})
	}
	if n := e.emu.Count("POST /v1.0/users/{id}/revokeSignInSessions"); n != 0 {
		t.Errorf("revokeSignInSessions called %d times", n)
	}
	if r := e.get("/v1.0/me", victimTok); r.Status != http.StatusOK {
		t.Errorf("nothing was to be revoked, but: %d %s", r.Status, r.Body)
	}
	if strings.Contains(aud.raw(), victim.ID) || strings.Contains(strings.ToLower(aud.raw()), strings.ToLower(victim.UserPrincipalName)) {
		t.Error("audit holds a raw id or UPN")
	}
}

func TestAdminAPINeedsNoReadPolicy(t *testing.T) {
	e := newEnv(t)
	only, err := policy.Parse([]byte(strings.ReplaceAll(`clients:
  - app_id: "ID"
    name: chat-web
    purpose: Chat.
    operations: [me.read]
    fields:
      self: [displayName]
      others: [displayName]
`, "ID", e.clientID(0, "chat-web"))))
	if err != nil {
		t.Fatal(err)
	}
	g := gatewayOn(t, e, nil, func(c *proxy.Config) { c.Policy = only })
	admin := g.token(0, "mobile", g.withRole(0, proxy.RoleAdmin))
	if r := g.get("/v1.0/me", admin); r.Status != http.StatusForbidden {
		t.Fatalf("an app outside the read policy reads: %d", r.Status)
	}
	a := decodeLogout(t, g.logout(admin, g.victim(0).UserPrincipalName))
	if a.Status != "revoked" {
		t.Errorf("answer %+v", a)
	}
	r := g.do(http.MethodPost, "/admin/v1/cache/purge", admin, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"entriesPurged"`) {
		t.Errorf("purge: %d %s", r.Status, r.Body)
	}
}

func TestLogoutWhenGraphFails(t *testing.T) {
	e := newEnv(t)
	victim := e.victim(0)
	tok := e.token(0, "chat-web", victim)
	e.get("/v1.0/me", tok)
	admin := e.token(0, "chat-web", e.withRole(0, proxy.RoleAdmin))
	e.get("/v1.0/me", admin)
	e.emu.SetFault("POST /v1.0/users/{id}/revokeSignInSessions", emulatorFault503())
	a := decodeLogout(t, e.logout(admin, victim.ID))
	if a.Graph.Succeeded || a.Graph.Error == "" || !strings.Contains(a.Graph.Message, "gateway-side revocation holds") {
		t.Errorf("graph failure not reported: %+v", a.Graph)
	}
	assertRevoked(t, e.get("/v1.0/me", tok), "token after a logout whose Graph call failed")
}

// unverifiable is a revocation list whose shared view is not current (fail_closed).
type unverifiable struct{ proxy.Revocations }

func (unverifiable) Check(string, string, time.Time) revoke.Verdict { return revoke.Unverifiable }
func (unverifiable) Subscribe(revoke.Subscriber)                    {}

func TestUncheckableTokensAre503(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.Revocations = unverifiable{} })
	r := e.get("/v1.0/me", e.token(0, "chat-web", e.victim(0)))
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || errorCode(t, r) != "serviceNotAvailable" {
		t.Errorf("%d %v %s, want 503 with Retry-After", r.Status, r.Header, r.Body)
	}
}
