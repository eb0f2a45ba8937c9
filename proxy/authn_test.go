package proxy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage"
)

// resign rewrites a token's header with alg and signs header.payload with the given
// HMAC key (or leaves the signature empty for "none").
func resign(t *testing.T, tok, alg string, key []byte) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	var hdr map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	hdr["alg"] = alg
	hb, _ := json.Marshal(hdr)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1]
	if alg == "none" {
		return signing + "."
	}
	sig, err := jwt.SigningMethodHS256.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestBadTokensAreRefused(t *testing.T) {
	// Serve only the first tenant, so a valid token of the second is a wrong-tenant token.
	e := newEnv(t, func(c *proxy.Config) { c.Tenants = c.Tenants[:1] })
	u := e.enabledUsers(0)[0]
	good := e.token(0, "chat-web", u)
	mint := func(r emulator.TokenRequest) string {
		r.TenantID, r.ClientID, r.UserID = e.tenant(0).ID, e.clientID(0, "chat-web"), u.ID
		tok, err := e.emu.MintToken(r)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	parts := strings.Split(good, ".")
	cases := []struct {
		name, header string
		status       int
	}{
		{"missing", "", 401},
		{"not bearer", "Basic dXNlcjpwYXNz", 401},
		{"garbage", "Bearer not-a-jwt", 401},
		{"tampered payload", "Bearer " + parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"oid":"x"}`)) + "." + parts[2], 401},
		{"alg none", "Bearer " + resign(t, good, "none", nil), 401},
		{"HS256 with public key", "Bearer " + resign(t, good, "HS256", []byte(e.emu.URL())), 401},
		{"expired", "Bearer " + mint(emulator.TokenRequest{IssuedAt: time.Now().Add(-3 * time.Hour), TTL: time.Hour}), 401},
		{"not yet valid", "Bearer " + mint(emulator.TokenRequest{IssuedAt: time.Now().Add(time.Hour), TTL: time.Hour}), 401},
		{"graph audience", "Bearer " + mint(emulator.TokenRequest{Audience: "https://graph.microsoft.com"}), 401},
		{"other audience", "Bearer " + mint(emulator.TokenRequest{Audience: "00000000-1111-2222-3333-444444444444"}), 401},
		{"tenant not served", "Bearer " + e.token(1, "chat-web", e.enabledUsers(1)[0]), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.header != "" {
				h = []string{"Authorization", tc.header}
			}
			r := e.get("/v1.0/me", "", h...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if code := errorCode(t, r); code != "InvalidAuthenticationToken" {
				t.Errorf("error code %q", code)
			}
			if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", ch)
			}
			// RFC 6750 §3.1: no error attribute when no bearer credentials were presented.
			if strings.HasPrefix(tc.header, "Bearer") && !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid`) {
				t.Errorf("WWW-Authenticate without an error attribute: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := e.get("/v1.0/me", good); r.Status != http.StatusOK {
		t.Fatalf("the good token: %d %s", r.Status, r.Body)
	}
}

// TestUnknownClientAppIs403 signs a user's token for a client app the policy does not
// list (every fixture app is listed, so the test mints one for an id of its own): the
// read path refuses it with 403 (no listing reaches Graph), while the same user through a
// listed app is served.
func TestUnknownClientAppIs403(t *testing.T) {
	e := newEnv(t)
	u := e.enabledUsers(0)[0]
	const unlisted = "0badc0de-0000-4000-8000-00000000a990"
	if _, ok := e.pol.Client(unlisted); ok {
		t.Fatal("the test policy lists the unlisted client app")
	}
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: e.tenant(0).ID, ClientID: unlisted, UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.emu.ResetRequests()
	for _, path := range []string{"/v1.0/me", "/v1.0/users/" + e.enabledUsers(0)[1].ID, "/v1.0/users?$top=2"} {
		r := e.get(path, tok)
		if r.Status != http.StatusForbidden || errorCode(t, r) != "Authorization_RequestDenied" {
			t.Errorf("%s by an unknown client app: %d %s, want 403 Authorization_RequestDenied", path, r.Status, r.Body)
		}
	}
	// The session check reads the caller's own record; the listing must never be asked for.
	if n := e.emu.Count("GET /v1.0/users"); n != 0 {
		t.Errorf("an unknown client app's listing reached Graph %d times, want 0", n)
	}
	if r := e.get("/v1.0/me", e.token(0, "chat-web", u)); r.Status != http.StatusOK {
		t.Errorf("the same user through a listed client app: %d %s", r.Status, r.Body)
	}
}

func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{"https://app.example"} })
	req, _ := http.NewRequest(http.MethodOptions, e.url+"/v1.0/users", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization,consistencylevel")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "consistencylevel"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("preflight does not allow %s: %q", h, allowed)
		}
	}
	req.Header.Set("Origin", "https://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin was allowed")
	}
}

func TestGraphThrottlingBecomes429(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	e.get("/v1.0/me", tok)
	e.emu.SetThrottle(emulator.Throttle{Budget: 1, Window: 10 * time.Second, RetryAfter: 1500 * time.Millisecond})
	t.Cleanup(e.emu.ResetFaults)
	var throttled int
	for _, u := range e.enabledUsers(0)[1:12] {
		r := e.get("/v1.0/users/"+u.ID, tok)
		if r.Status == http.StatusTooManyRequests {
			throttled++
			if r.Header.Get("Retry-After") == "" || errorCode(t, r) != "TooManyRequests" {
				t.Errorf("429 without Retry-After or code: %v %s", r.Header, r.Body)
			}
		} else if r.Status != http.StatusOK {
			t.Errorf("status %d %s", r.Status, r.Body)
		}
	}
	if throttled == 0 {
		t.Fatal("no request was throttled")
	}
	// Cached data is still served while Graph throttles.
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Errorf("cached /me during throttling: %d", r.Status)
	}
}

// TestRevokedSessionIsRefusedOnEveryAPI logs an analyst out and checks that the token is
// refused by the read path, the usage API, the privacy export and the admin API alike.
func TestRevokedSessionIsRefusedOnEveryAPI(t *testing.T) {
	store, err := usage.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "usage.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := newEnv(t, func(c *proxy.Config) { c.UsageReports = &usage.Reader{Store: store, K: 5} })
	analyst, admin := e.withRole(0, proxy.RoleAnalyst), e.withRole(0, proxy.RoleAdmin)
	tok := e.token(0, "chat-web", analyst)
	paths := []string{"/v1.0/me", "/usage/v1/requests", "/privacy/v1/me/export"}
	for _, p := range paths {
		if r := e.get(p, tok); r.Status != http.StatusOK {
			t.Fatalf("%s before logout: %d %s", p, r.Status, r.Body)
		}
	}
	if r := e.logout(e.token(0, "chat-web", admin), analyst.ID); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	for _, p := range paths {
		assertRevoked(t, e.get(p, tok), p)
	}
	assertRevoked(t, e.do(http.MethodPost, "/admin/v1/cache/purge", tok, nil), "admin API")
}
