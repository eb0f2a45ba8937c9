package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// checkLifetime checks a token response against Entra's access token lifetime: a random
// value between 60 and 90 minutes, reported as expires_in (and ext_expires_in)
// (https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime).
func checkLifetime(t *testing.T, resp, claims map[string]any) {
	t.Helper()
	in, _ := resp["expires_in"].(float64)
	if in < 3600 || in > 5400 || resp["ext_expires_in"] != in {
		t.Errorf("expires_in = %v, ext_expires_in = %v; want equal, in [3600, 5400]", resp["expires_in"], resp["ext_expires_in"])
	}
	if life := claims["exp"].(float64) - claims["iat"].(float64); life != in {
		t.Errorf("exp - iat = %v, expires_in = %v", life, in)
	}
}

// passwordToken runs the password grant for a tenant's first enabled user with scope and
// returns the response and the access token's claims.
func passwordToken(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo, scope string) (map[string]any, map[string]any, emulator.UserInfo) {
	t.Helper()
	u := ti.Users[1]
	resp, m := postForm(t, e, ti.ID, url.Values{"grant_type": {"password"}, "client_id": {ti.Clients[0].ID},
		"username": {u.UserPrincipalName}, "password": {ti.Password}, "scope": {scope}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password grant: %d %v", resp.StatusCode, m)
	}
	_, c := jwtParts(t, m["access_token"].(string))
	return m, c, u
}

// TestTokenVersionByRegistration checks the access token format Entra picks from the
// gateway registration's accessTokenAcceptedVersion (null or 1: v1.0, 2: v2.0), and the
// claims each version carries, with and without the profile scope
// (https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats,
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
func TestTokenVersionByRegistration(t *testing.T) {
	e := shared(t)
	contoso, fabrikam := tenant(t, e, "contoso.example"), tenant(t, e, "fabrikam.example")
	if contoso.AccessTokenVersion != 1 || fabrikam.AccessTokenVersion != 2 {
		t.Fatalf("versions = %d, %d; want 1 (unset), 2", contoso.AccessTokenVersion, fabrikam.AccessTokenVersion)
	}
	tests := []struct {
		name    string
		ti      emulator.TenantInfo
		scope   string
		want    map[string]string // claim => value ("*" = present)
		without []string
	}{
		{"v1.0, app id URI scope", contoso, contoso.Scope, map[string]string{
			"ver": "1.0", "iss": "https://sts.windows.net/" + contoso.ID + "/", "aud": "api://" + contoso.GatewayAppID,
			"appid": contoso.Clients[0].ID, "appidacr": "0", "acr": "1", "name": "*", "upn": "*", "unique_name": "*",
			"given_name": "*", "family_name": "*"}, []string{"azp", "azpacr", "preferred_username"}},
		{"v1.0, app id scope", contoso, contoso.GatewayAppID + "/access_as_user profile", map[string]string{
			"ver": "1.0", "aud": contoso.GatewayAppID, "appid": contoso.Clients[0].ID}, []string{"azp", "preferred_username"}},
		{"v2.0 without profile", fabrikam, fabrikam.Scope + " openid", map[string]string{
			"ver": "2.0", "iss": e.URL() + "/" + fabrikam.ID + "/v2.0", "aud": fabrikam.GatewayAppID,
			"azp": fabrikam.Clients[0].ID, "azpacr": "0"},
			[]string{"appid", "appidacr", "name", "preferred_username", "upn", "unique_name", "given_name", "family_name", "acr", "amr"}},
		{"v2.0 with profile", fabrikam, fabrikam.Scope + " openid profile", map[string]string{
			"ver": "2.0", "aud": fabrikam.GatewayAppID, "name": "*", "preferred_username": "*"},
			[]string{"appid", "upn", "unique_name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, c, u := passwordToken(t, e, tc.ti, tc.scope)
			checkLifetime(t, m, c)
			for k, v := range tc.want {
				if got, _ := c[k].(string); got == "" || v != "*" && got != v {
					t.Errorf("claim %s = %v, want %s", k, c[k], v)
				}
			}
			for _, k := range tc.without {
				if c[k] != nil {
					t.Errorf("claim %s = %v, want absent", k, c[k])
				}
			}
			if c["oid"] != u.ID || c["tid"] != tc.ti.ID || c["scp"] != "access_as_user" {
				t.Errorf("oid/tid/scp = %v %v %v", c["oid"], c["tid"], c["scp"])
			}
			if p, _ := c["preferred_username"].(string); p != "" && p != u.UserPrincipalName {
				t.Errorf("preferred_username = %q", p)
			}
		})
	}
}

// TestMintTokenVersions checks MintToken: the registration's version by default, a
// Version override, v1.0 for Microsoft Graph, and the token lifetimes.
func TestMintTokenVersions(t *testing.T) {
	e := shared(t)
	contoso, fabrikam := tenant(t, e, "contoso.example"), tenant(t, e, "fabrikam.example")
	tests := []struct {
		name           string
		req            emulator.TokenRequest
		ver, aud, iss  string
		client, absent string
		minTTL, maxTTL time.Duration
	}{
		{"contoso default", emulator.TokenRequest{TenantID: contoso.ID, UserID: contoso.Users[1].ID},
			"1.0", "api://" + contoso.GatewayAppID, "https://sts.windows.net/" + contoso.ID + "/", "appid", "azp", time.Hour, 90 * time.Minute},
		{"fabrikam default", emulator.TokenRequest{TenantID: fabrikam.ID, UserID: fabrikam.Users[1].ID},
			"2.0", fabrikam.GatewayAppID, e.URL() + "/" + fabrikam.ID + "/v2.0", "azp", "appid", time.Hour, 90 * time.Minute},
		{"contoso forced v2", emulator.TokenRequest{TenantID: contoso.ID, UserID: contoso.Users[1].ID, Version: 2},
			"2.0", contoso.GatewayAppID, e.URL() + "/" + contoso.ID + "/v2.0", "azp", "appid", time.Hour, 90 * time.Minute},
		{"fabrikam forced v1", emulator.TokenRequest{TenantID: fabrikam.ID, UserID: fabrikam.Users[1].ID, Version: 1, TTL: 10 * time.Minute},
			"1.0", "api://" + fabrikam.GatewayAppID, "https://sts.windows.net/" + fabrikam.ID + "/", "appid", "azp", 10 * time.Minute, 10 * time.Minute},
		{"graph app-only is v1", emulator.TokenRequest{TenantID: fabrikam.ID, Audience: "https://graph.microsoft.com", Version: 2},
			"1.0", "https://graph.microsoft.com", "https://sts.windows.net/" + fabrikam.ID + "/", "appid", "azp", time.Hour, time.Hour},
		{"graph delegated is v1", emulator.TokenRequest{TenantID: fabrikam.ID, UserID: fabrikam.Users[1].ID, Audience: "https://graph.microsoft.com"},
			"1.0", "https://graph.microsoft.com", "https://sts.windows.net/" + fabrikam.ID + "/", "appid", "azp", time.Hour, 90 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := e.MintToken(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			_, c := jwtParts(t, tok)
			if c["ver"] != tc.ver || c["aud"] != tc.aud || c["iss"] != tc.iss || c[tc.client] == nil || c[tc.absent] != nil {
				t.Fatalf("claims = %v", c)
			}
			if life := time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second; life < tc.minTTL || life > tc.maxTTL {
				t.Fatalf("lifetime %v, want in [%v, %v]", life, tc.minTTL, tc.maxTTL)
			}
		})
	}
	if _, err := e.MintToken(emulator.TokenRequest{TenantID: contoso.ID, UserID: contoso.Users[1].ID, Version: 3}); err == nil {
		t.Fatal("MintToken accepted version 3")
	}
}

// TestUserTokenLifetimeVaries checks that lifetimes are drawn from the whole 60–90
// minute range rather than fixed.
func TestUserTokenLifetimeVaries(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	seen := map[float64]bool{}
	lo, hi := 5400.0, 3600.0
	for range 200 {
		tok, err := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, UserID: ti.Users[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		_, c := jwtParts(t, tok)
		life := c["exp"].(float64) - c["iat"].(float64)
		seen[life] = true
		lo, hi = min(lo, life), max(hi, life)
	}
	// 200 draws from 1801 values: the extremes fall within 3 minutes of the bounds with
	// probability above 1 - 2e-8.
	if lo < 3600 || hi > 5400 || lo > 3780 || hi < 5220 || len(seen) < 100 {
		t.Fatalf("lifetimes in [%v, %v], %d distinct; want spread over [3600, 5400]", lo, hi, len(seen))
	}
}

// TestDiscoveryV1 checks the v1.0 OpenID Connect metadata: issuer sts.windows.net, key
// set without "/v2.0" (https://learn.microsoft.com/entra/identity-platform/access-tokens#v10-and-v20-tokens).
func TestDiscoveryV1(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	for _, tc := range []struct{ seg, issuer, jwks string }{
		{ti.ID, "https://sts.windows.net/" + ti.ID + "/", e.URL() + "/" + ti.ID + "/discovery/keys"},
		{ti.Domain, "https://sts.windows.net/" + ti.ID + "/", e.URL() + "/" + ti.ID + "/discovery/keys"},
		{"common", "https://sts.windows.net/{tenantid}/", e.URL() + "/common/discovery/keys"},
	} {
		t.Run(tc.seg, func(t *testing.T) {
			resp, b := do(t, e, http.MethodGet, "/"+tc.seg+"/.well-known/openid-configuration", "", nil, nil)
			d := decodeObj(t, b)
			if resp.StatusCode != 200 || d["issuer"] != tc.issuer || d["jwks_uri"] != tc.jwks ||
				!strings.HasSuffix(d["token_endpoint"].(string), "/oauth2/token") {
				t.Fatalf("%d %v", resp.StatusCode, d)
			}
		})
	}
	if resp, b := do(t, e, http.MethodGet, "/nowhere.example/.well-known/openid-configuration", "", nil, nil); resp.StatusCode != 400 ||
		!strings.Contains(string(b), "AADSTS90002") {
		t.Fatalf("unknown tenant: %d %s", resp.StatusCode, b)
	}
}

// TestCommonJWKS checks the key sets: per tenant (v1.0 and v2.0) and the
// tenant-independent /common ones, which hold every tenant's keys, each v2.0 key naming
// its issuer (https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer).
func TestCommonJWKS(t *testing.T) {
	e := shared(t)
	contoso, fabrikam := tenant(t, e, "contoso.example"), tenant(t, e, "fabrikam.example")
	kids := func(path string) map[string]any {
		t.Helper()
		resp, b := do(t, e, http.MethodGet, path, "", nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		out := map[string]any{}
		for _, k := range decodeObj(t, b)["keys"].([]any) {
			k := k.(map[string]any)
			out[k["kid"].(string)] = k["issuer"]
		}
		return out
	}
	kidOf := func(ti emulator.TenantInfo) string {
		hdr, _ := jwtParts(t, appToken(t, e, ti.Domain))
		return hdr["kid"].(string)
	}
	ck, fk := kidOf(contoso), kidOf(fabrikam)
	for _, tc := range []struct {
		path         string
		want, absent []string
		v2           bool
	}{
		{"/" + contoso.ID + "/discovery/v2.0/keys", []string{ck}, []string{fk}, true},
		{"/" + contoso.ID + "/discovery/keys", []string{ck}, []string{fk}, false},
		{"/common/discovery/v2.0/keys", []string{ck, fk}, nil, true},
		{"/common/discovery/keys", []string{ck, fk}, nil, false},
		{"/organizations/discovery/v2.0/keys", []string{ck, fk}, nil, true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			got := kids(tc.path)
			for _, k := range tc.want {
				iss, ok := got[k]
				if !ok {
					t.Fatalf("kid %s missing from %v", k, got)
				}
				if want := map[string]string{ck: contoso.ID, fk: fabrikam.ID}[k]; tc.v2 != (iss == e.URL()+"/"+want+"/v2.0") || !tc.v2 && iss != nil {
					t.Errorf("kid %s issuer = %v (v2 key set: %v)", k, iss, tc.v2)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("kid %s of another tenant published", k)
				}
			}
		})
	}
	for _, p := range []string{"/nowhere.example/discovery/keys", "/nowhere.example/discovery/v2.0/keys"} {
		if resp, _ := do(t, e, http.MethodGet, p, "", nil, nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestTokenEndpointV1 checks the v1.0 token endpoint the v1.0 discovery document
// advertises: "resource" names the API; without it the request is refused.
func TestTokenEndpointV1(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	post := func(form url.Values) (*http.Response, map[string]any) {
		resp, b := do(t, e, http.MethodPost, "/"+ti.ID+"/oauth2/token", "", strings.NewReader(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		return resp, decodeObj(t, b)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ti.GatewayAppID},
		"client_secret": {ti.GatewayClientSecret}, "resource": {"https://graph.microsoft.com"}}
	resp, m := post(form)
	tok, _ := m["access_token"].(string)
	if resp.StatusCode != http.StatusOK || tok == "" {
		t.Fatalf("v1 client_credentials: %d %v", resp.StatusCode, m)
	}
	if code, _ := graphGet(t, e, tok, "/v1.0/users?$top=1", nil); code != http.StatusOK {
		t.Fatalf("the v1 endpoint's Graph token is refused by Graph: %d", code)
	}
	form.Del("resource")
	if resp, m := post(form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(m["error_description"].(string), "AADSTS900144") {
		t.Fatalf("without resource: %d %v", resp.StatusCode, m)
	}
}
