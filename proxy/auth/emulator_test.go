package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// emuEnv is a Verifier wired to a running emulator, as graphgate serve wires it.
type emuEnv struct {
	emu *emulator.Emulator
	dir emulator.DirectoryInfo
	v   *Verifier
}

func newEmuEnv(t *testing.T) *emuEnv {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	dir := emu.Directory()
	var tenants []Tenant
	for _, tn := range dir.Tenants {
		tenants = append(tenants, Tenant{ID: tn.ID, Audience: tn.GatewayAppID})
	}
	v, err := NewVerifier(context.Background(), Config{
		Authority: emu.URL(), Tenants: tenants, HTTPClient: emu.HTTPClient(),
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	if !v.Ready() {
		t.Fatal("Ready() = false against a running emulator")
	}
	return &emuEnv{emu: emu, dir: dir, v: v}
}

// user returns an enabled user of tenant i.
func (e *emuEnv) user(t *testing.T, i int) emulator.UserInfo {
	t.Helper()
	for _, u := range e.dir.Tenants[i].Users {
		if u.AccountEnabled {
			return u
		}
	}
	t.Fatal("no enabled user")
	return emulator.UserInfo{}
}

func (e *emuEnv) mint(t *testing.T, r emulator.TokenRequest) string {
	t.Helper()
	tok, err := e.emu.MintToken(r)
	if err != nil {
		t.Fatalf("MintToken: %v", err)
	}
	return tok
}

// tokenVer returns the unverified ver claim of a JWT.
func tokenVer(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Ver string }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Ver
}

// TestEmulatorTokens checks genuine tokens of both versions from both demo tenants:
// contoso's registration gives v1.0 tokens (Entra's default), fabrikam's v2.0; a token
// of the other version is accepted too, as Microsoft's middleware accepts both.
func TestEmulatorTokens(t *testing.T) {
	e := newEmuEnv(t)
	if e.dir.Tenants[0].AccessTokenVersion != 1 || e.dir.Tenants[1].AccessTokenVersion != 2 {
		t.Fatalf("demo token versions = %d, %d; want 1, 2", e.dir.Tenants[0].AccessTokenVersion, e.dir.Tenants[1].AccessTokenVersion)
	}
	for i, tn := range e.dir.Tenants[:2] {
		for _, version := range []int{0, 1, 2} {
			t.Run(fmt.Sprintf("%s/version %d", tn.Domain, version), func(t *testing.T) {
				u, client := e.user(t, i), tn.Clients[0].ID
				tok := e.mint(t, emulator.TokenRequest{TenantID: tn.ID, ClientID: client, UserID: u.ID, Version: version})
				want := map[int]string{0: fmt.Sprintf("%d.0", tn.AccessTokenVersion), 1: "1.0", 2: "2.0"}[version]
				if got := tokenVer(t, tok); got != want {
					t.Fatalf("ver = %q, want %q", got, want)
				}
				p, err := e.v.Verify(context.Background(), tok)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p.TenantID != tn.ID || p.ObjectID != u.ID || p.ClientAppID != client || !p.HasScope("access_as_user") {
					t.Fatalf("principal = %+v", p)
				}
				for _, r := range u.Roles {
					if !p.HasRole(r) {
						t.Fatalf("principal lacks role %q: %+v", r, p.Roles)
					}
				}
			})
		}
	}
}

// TestEmulatorPasswordGrantToken gets tokens over the token endpoint, as clients do, for
// the scope spelt with the app id URI and with the app id.
func TestEmulatorPasswordGrantToken(t *testing.T) {
	e := newEmuEnv(t)
	for i, tn := range e.dir.Tenants[:2] {
		for _, scope := range []string{"api://" + tn.GatewayAppID + "/access_as_user openid profile", tn.GatewayAppID + "/access_as_user"} {
			t.Run(tn.Domain+"/"+scope, func(t *testing.T) {
				u := e.user(t, i)
				form := url.Values{
					"grant_type": {"password"}, "client_id": {tn.Clients[0].ID}, "username": {u.UserPrincipalName},
					"password": {tn.Password}, "scope": {scope},
				}
				resp, err := e.emu.HTTPClient().PostForm(e.emu.URL()+"/"+tn.ID+"/oauth2/v2.0/token", form)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body struct {
					AccessToken string `json:"access_token"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("token endpoint: %d %v", resp.StatusCode, err)
				}
				if got, want := tokenVer(t, body.AccessToken), fmt.Sprintf("%d.0", tn.AccessTokenVersion); got != want {
					t.Fatalf("ver = %q, want %q", got, want)
				}
				p, err := e.v.Verify(context.Background(), body.AccessToken)
				if err != nil || p.ObjectID != u.ID || p.ClientAppID != tn.Clients[0].ID {
					t.Fatalf("Verify(password-grant token) = %+v, %v", p, err)
				}
			})
		}
	}
}

func TestEmulatorRefusals(t *testing.T) {
	e := newEmuEnv(t)
	contoso, fabrikam := e.dir.Tenants[0], e.dir.Tenants[1]
	u := e.user(t, 0)
	tests := []struct {
		name string
		req  emulator.TokenRequest
		want string
		v1OK bool // a v1.0 token of this shape is genuine
	}{
		{"app-only Graph token", emulator.TokenRequest{TenantID: contoso.ID, Audience: "https://graph.microsoft.com"}, "Microsoft Graph", false},
		{"delegated token for Graph", emulator.TokenRequest{TenantID: contoso.ID, UserID: u.ID, Audience: "00000003-0000-0000-c000-000000000000"}, "Microsoft Graph", false},
		{"expired", emulator.TokenRequest{TenantID: contoso.ID, UserID: u.ID, IssuedAt: time.Now().Add(-2 * time.Hour), TTL: time.Hour}, "expired", false},
		{"not yet valid", emulator.TokenRequest{TenantID: contoso.ID, UserID: u.ID, IssuedAt: time.Now().Add(10 * time.Minute)}, "not valid yet", false},
		{"other tenant's gateway app", emulator.TokenRequest{TenantID: fabrikam.ID, UserID: e.user(t, 1).ID, Audience: contoso.GatewayAppID}, "another audience", false},
		{"app id URI audience", emulator.TokenRequest{TenantID: fabrikam.ID, UserID: e.user(t, 1).ID, Audience: "api://" + fabrikam.GatewayAppID}, "another audience", true},
	}
	for _, tc := range tests {
		for _, version := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/v%d", tc.name, version), func(t *testing.T) {
				tc.req.Version = version
				_, err := e.v.Verify(context.Background(), e.mint(t, tc.req))
				if tc.v1OK && version == 1 {
					if err != nil {
						t.Fatalf("Verify error = %v, want a genuine v1.0 token accepted", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Verify error = %v, want one containing %q", err, tc.want)
				}
			})
		}
	}
}

func TestEmulatorKeyRotation(t *testing.T) {
	e := newEmuEnv(t)
	tn, u := e.dir.Tenants[0], e.user(t, 0)
	old := e.mint(t, emulator.TokenRequest{TenantID: tn.ID, UserID: u.ID})
	if _, err := e.v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.RotateSigningKey(tn.ID); err != nil {
		t.Fatal(err)
	}
	before := e.v.Stats().JWKSFetches
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: tn.ID, UserID: u.ID, TTL: time.Hour + time.Duration(i)*time.Second})
			if err == nil {
				_, err = e.v.Verify(context.Background(), tok)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
	}
	if got := e.v.Stats().JWKSFetches - before; got != 1 {
		t.Fatalf("JWKS fetches for the new kid = %d, want 1", got)
	}
	// The old key is still published: its (cached) token works until the key is retired.
	if _, err := e.v.Verify(context.Background(), old); err != nil {
		t.Fatalf("old token before retirement: %v", err)
	}
	if err := e.emu.RetireOldSigningKeys(tn.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.v.tenants[tn.ID].keys.refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.Verify(context.Background(), old); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("old token after retirement: %v", err)
	}
}

func TestEmulatorOutageKeepsKeys(t *testing.T) {
	e := newEmuEnv(t)
	tn, u := e.dir.Tenants[0], e.user(t, 0)
	e.emu.SetOutage(true)
	t.Cleanup(e.emu.ResetFaults)
	if err := e.v.tenants[tn.ID].keys.refresh(); err == nil {
		t.Fatal("refresh during an outage succeeded")
	}
	if _, err := e.v.Verify(context.Background(), e.mint(t, emulator.TokenRequest{TenantID: tn.ID, UserID: u.ID})); err != nil {
		t.Fatalf("Verify during the outage: %v", err)
	}
	if !e.v.Ready() {
		t.Fatal("Ready() = false during an outage with a last good key set")
	}
}
