package emulator_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	for _, seg := range []string{ti.ID, ti.Domain} {
		t.Run(seg, func(t *testing.T) {
			resp, b := do(t, e, http.MethodGet, "/"+seg+"/v2.0/.well-known/openid-configuration", "", nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			d := decodeObj(t, b)
			want := map[string]string{
				"issuer":                 e.URL() + "/" + ti.ID + "/v2.0",
				"token_endpoint":         e.URL() + "/" + ti.ID + "/oauth2/v2.0/token",
				"jwks_uri":               e.URL() + "/" + ti.ID + "/discovery/v2.0/keys",
				"authorization_endpoint": e.URL() + "/" + ti.ID + "/oauth2/v2.0/authorize",
			}
			for k, v := range want {
				if d[k] != v {
					t.Errorf("%s = %v, want %s", k, d[k], v)
				}
			}
			if algs, _ := d["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
				t.Errorf("algs = %v", algs)
			}
			if resp.Header.Get("request-id") == "" {
				t.Error("no request-id header")
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		resp, b := do(t, e, http.MethodGet, "/nowhere.example/v2.0/.well-known/openid-configuration", "", nil, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "AADSTS90002") {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	})
	t.Run("jwks", func(t *testing.T) {
		_, b := do(t, e, http.MethodGet, "/"+ti.ID+"/discovery/v2.0/keys", "", nil, nil)
		var set struct{ Keys []map[string]any }
		if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("keys %s: %v", b, err)
		}
		for _, k := range []string{"kty", "use", "kid", "n", "e", "x5t", "x5c"} {
			if set.Keys[0][k] == nil {
				t.Errorf("jwk lacks %s", k)
			}
		}
		if set.Keys[0]["kty"] != "RSA" || set.Keys[0]["use"] != "sig" || set.Keys[0]["e"] != "AQAB" {
			t.Errorf("jwk = %v", set.Keys[0])
		}
	})
}

func TestClientCredentials(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	graphScope := "https://graph.microsoft.com/.default"
	tests := []struct {
		name      string
		form      url.Values
		basic     bool
		status    int
		errCode   string
		aadsts    float64
		wantToken bool
	}{
		{"secret in body", url.Values{"client_id": {ti.GatewayAppID}, "client_secret": {ti.GatewayClientSecret}, "scope": {graphScope}}, false, 200, "", 0, true},
		{"MSAL adds OIDC scopes", url.Values{"client_id": {ti.GatewayAppID}, "client_secret": {ti.GatewayClientSecret}, "scope": {graphScope + " openid profile offline_access"}}, false, 200, "", 0, true},
		{"secret via basic", url.Values{"scope": {graphScope}}, true, 200, "", 0, true},
		{"wrong secret", url.Values{"client_id": {ti.GatewayAppID}, "client_secret": {"nope"}, "scope": {graphScope}}, false, 401, "invalid_client", 7000215, false},
		{"no secret", url.Values{"client_id": {ti.GatewayAppID}, "scope": {graphScope}}, false, 401, "invalid_client", 7000218, false},
		{"unknown client", url.Values{"client_id": {"11111111-2222-4333-8444-555555555555"}, "client_secret": {"x"}, "scope": {graphScope}}, false, 400, "unauthorized_client", 700016, false},
		{"scope without .default", url.Values{"client_id": {ti.GatewayAppID}, "client_secret": {ti.GatewayClientSecret}, "scope": {"https://graph.microsoft.com/User.Read"}}, false, 400, "invalid_scope", 1002012, false},
		{"other resource", url.Values{"client_id": {ti.GatewayAppID}, "client_secret": {ti.GatewayClientSecret}, "scope": {"https://vault.example/.default"}}, false, 400, "invalid_resource", 500011, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("grant_type", "client_credentials")
			req, _ := http.NewRequest(http.MethodPost, e.URL()+"/"+ti.Domain+"/oauth2/v2.0/token", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("client-request-id", "corr-123")
			if tc.basic {
				req.SetBasicAuth(url.QueryEscape(ti.GatewayAppID), url.QueryEscape(ti.GatewayClientSecret))
			}
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.status, m)
			}
			if !tc.wantToken {
				codes, _ := m["error_codes"].([]any)
				if m["error"] != tc.errCode || len(codes) != 1 || codes[0] != tc.aadsts ||
					m["correlation_id"] != "corr-123" || m["trace_id"] == nil || m["timestamp"] == nil ||
					!strings.HasPrefix(m["error_description"].(string), "AADSTS") {
					t.Fatalf("error body = %v", m)
				}
				return
			}
			if m["token_type"] != "Bearer" || m["expires_in"] != 3599.0 || m["ext_expires_in"] != 3599.0 {
				t.Errorf("token response = %v", m)
			}
			tok := m["access_token"].(string)
			hdr, c := jwtParts(t, tok)
			if hdr["alg"] != "RS256" || hdr["kid"] == nil {
				t.Errorf("header = %v", hdr)
			}
			// Graph's registration receives v1.0 tokens: sts.windows.net issuer, appid, no azp.
			if c["aud"] != "https://graph.microsoft.com" || c["idtyp"] != "app" || c["tid"] != ti.ID ||
				c["appid"] != ti.GatewayAppID || c["appidacr"] != "1" || c["azp"] != nil || c["ver"] != "1.0" ||
				c["iss"] != "https://sts.windows.net/"+ti.ID+"/" {
				t.Errorf("claims = %v", c)
			}
			roles, _ := c["roles"].([]any)
			if !slices.Contains(roles, any("User.Read.All")) || c["oid"] == nil || c["scp"] != nil {
				t.Errorf("roles/oid/scp = %v %v %v", roles, c["oid"], c["scp"])
			}
			if err := verifyWithJWKS(t, e, ti.ID, tok); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
}

func TestPasswordGrant(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	var admin, disabled emulator.UserInfo
	for _, u := range ti.Users {
		if slices.Contains(u.Roles, "Gateway.Admin") && admin.ID == "" {
			admin = u
		}
		if !u.AccountEnabled && disabled.ID == "" {
			disabled = u
		}
	}
	client := ti.Clients[0].ID
	form := func(mod func(url.Values)) url.Values {
		f := url.Values{"grant_type": {"password"}, "client_id": {client}, "username": {admin.UserPrincipalName},
			"password": {ti.Password}, "scope": {ti.Scope + " openid profile offline_access"}, "client_info": {"1"}}
		mod(f)
		return f
	}
	tests := []struct {
		name    string
		seg     string
		form    url.Values
		status  int
		errCode string
		aadsts  float64
	}{
		{"ok by tenant id", ti.ID, form(func(url.Values) {}), 200, "", 0},
		{"ok by domain, scope only", ti.Domain, form(func(f url.Values) { f.Set("scope", ti.Scope) }), 200, "", 0},
		{"ok via organizations", "organizations", form(func(url.Values) {}), 200, "", 0},
		{"refused on common", "common", form(func(url.Values) {}), 400, "invalid_request", 9001023},
		{"refused on consumers", "consumers", form(func(url.Values) {}), 400, "invalid_request", 9001023},
		{"unknown client", ti.ID, form(func(f url.Values) { f.Set("client_id", "11111111-2222-4333-8444-555555555555") }), 400, "unauthorized_client", 700016},
		{"wrong password", ti.ID, form(func(f url.Values) { f.Set("password", "wrong") }), 400, "invalid_grant", 50126},
		{"disabled user", ti.ID, form(func(f url.Values) { f.Set("username", disabled.UserPrincipalName) }), 400, "invalid_grant", 50057},
		{"unknown user", ti.ID, form(func(f url.Values) { f.Set("username", "nobody@contoso.example") }), 400, "invalid_grant", 50034},
		{"bad scope", ti.ID, form(func(f url.Values) { f.Set("scope", "api://other/access_as_user") }), 400, "invalid_scope", 70011},
		{"unsupported grant", ti.ID, form(func(f url.Values) { f.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code") }), 400, "unsupported_grant_type", 70003},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := postForm(t, e, tc.seg, tc.form)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.status, m)
			}
			if tc.status != 200 {
				codes, _ := m["error_codes"].([]any)
				if m["error"] != tc.errCode || len(codes) != 1 || codes[0] != tc.aadsts {
					t.Fatalf("error = %v", m)
				}
				return
			}
			if m["scope"] == nil || !strings.HasPrefix(m["scope"].(string), ti.Scope) {
				t.Errorf("response = %v", m)
			}
			tok := m["access_token"].(string)
			_, c := jwtParts(t, tok)
			checkLifetime(t, m, c)
			// Contoso's gateway registration leaves accessTokenAcceptedVersion unset: v1.0.
			want := map[string]any{"aud": "api://" + ti.GatewayAppID, "iss": "https://sts.windows.net/" + ti.ID + "/", "tid": ti.ID,
				"oid": admin.ID, "appid": client, "appidacr": "0", "scp": "access_as_user", "ver": "1.0",
				"upn": admin.UserPrincipalName, "unique_name": admin.UserPrincipalName}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			roles, _ := c["roles"].([]any)
			if len(roles) != 1 || roles[0] != "Gateway.Admin" {
				t.Errorf("roles = %v", roles)
			}
			for _, k := range []string{"sub", "iat", "nbf", "exp", "uti", "name", "given_name", "family_name"} {
				if c[k] == nil {
					t.Errorf("claim %s missing", k)
				}
			}
			for _, k := range []string{"azp", "azpacr", "preferred_username"} {
				if c[k] != nil {
					t.Errorf("v2.0-only claim %s in a v1.0 token", k)
				}
			}
			if err := verifyWithJWKS(t, e, ti.ID, tok); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
}

func TestRefreshTokenAndRevocation(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	u := ti.Users[5]
	f := url.Values{"grant_type": {"password"}, "client_id": {ti.Clients[1].ID}, "username": {u.UserPrincipalName},
		"password": {ti.Password}, "scope": {ti.Scope + " offline_access openid"}, "client_info": {"1"}}
	resp, m := postForm(t, e, ti.ID, f)
	if resp.StatusCode != 200 || m["refresh_token"] == nil || m["id_token"] == nil || m["client_info"] == nil {
		t.Fatalf("password grant: %d %v", resp.StatusCode, m)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {ti.Clients[1].ID}, "refresh_token": {m["refresh_token"].(string)}}
	resp, m = postForm(t, e, ti.ID, refresh)
	if resp.StatusCode != 200 || m["access_token"] == nil {
		t.Fatalf("refresh: %d %v", resp.StatusCode, m)
	}
	// Redeemed refresh tokens are single-use.
	if resp, _ := postForm(t, e, ti.ID, refresh); resp.StatusCode != 400 {
		t.Fatalf("reused refresh token: %d", resp.StatusCode)
	}
	tok := appToken(t, e, "contoso.example")
	if st, body := graphGet(t, e, tok, "/v1.0/users/"+u.ID, nil); st != 200 {
		t.Fatalf("get: %d %v", st, body)
	}
	refresh.Set("refresh_token", m["refresh_token"].(string))
	resp, _ = do(t, e, http.MethodPost, "/v1.0/users/"+u.ID+"/revokeSignInSessions", tok, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, m = postForm(t, e, ti.ID, refresh)
	if codes, _ := m["error_codes"].([]any); resp.StatusCode != 400 || len(codes) == 0 || codes[0] != 50173.0 {
		t.Fatalf("refresh after revoke: %d %v", resp.StatusCode, m)
	}
}

func TestKeyRotation(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	old, err := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, UserID: ti.Users[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	oldApp := appToken(t, e, "contoso.example")
	kid, err := e.RotateSigningKey(ti.Domain)
	if err != nil {
		t.Fatal(err)
	}
	_, b := do(t, e, http.MethodGet, "/"+ti.ID+"/discovery/v2.0/keys", "", nil, nil)
	if n := strings.Count(string(b), `"kid"`); n != 2 {
		t.Fatalf("after rotate: %d keys", n)
	}
	neu, _ := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, UserID: ti.Users[1].ID})
	if hdr, _ := jwtParts(t, neu); hdr["kid"] != kid {
		t.Fatalf("new token kid = %v, want %s", hdr["kid"], kid)
	}
	for _, tok := range []string{old, neu} {
		if err := verifyWithJWKS(t, e, ti.ID, tok); err != nil {
			t.Fatalf("verify during overlap: %v", err)
		}
	}
	if err := e.RetireOldSigningKeys(ti.ID); err != nil {
		t.Fatal(err)
	}
	if err := verifyWithJWKS(t, e, ti.ID, old); err == nil {
		t.Fatal("old token still verifies after retirement")
	}
	if err := verifyWithJWKS(t, e, ti.ID, neu); err != nil {
		t.Fatalf("new token: %v", err)
	}
	if st, m := graphGet(t, e, oldApp, "/v1.0/users/"+ti.Users[0].ID, nil); st != 401 || errCode(m) != "InvalidAuthenticationToken" {
		t.Fatalf("graph with retired key: %d %v", st, m)
	}
	if err := e.RetireOldSigningKeys("nowhere"); err == nil {
		t.Fatal("retire on unknown tenant succeeded")
	}
}

func TestClientAssertion(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "fabrikam.example")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gw"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	assertion := func(alg string) string {
		s256 := sha256.Sum256(der)
		hdr, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(s256[:])})
		cl, _ := json.Marshal(map[string]any{"aud": e.URL() + "/" + ti.ID + "/oauth2/v2.0/token", "iss": ti.GatewayAppID,
			"sub": ti.GatewayAppID, "jti": "1", "nbf": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()})
		in := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(cl)
		sum := sha256.Sum256([]byte(in))
		var sig []byte
		if alg == "PS256" {
			sig, _ = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
		} else {
			sig, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {ti.GatewayAppID}, "scope": {"https://graph.microsoft.com/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	if resp, m := postForm(t, e, ti.ID, form(assertion("PS256"))); resp.StatusCode != 401 || m["error"] != "invalid_client" {
		t.Fatalf("unregistered cert: %d %v", resp.StatusCode, m)
	}
	if err := e.AddGatewayCertificate(ti.ID, cert); err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"PS256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			resp, m := postForm(t, e, ti.ID, form(assertion(alg)))
			if resp.StatusCode != 200 {
				t.Fatalf("assertion: %d %v", resp.StatusCode, m)
			}
			if _, c := jwtParts(t, m["access_token"].(string)); c["tid"] != ti.ID || c["aud"] != "https://graph.microsoft.com" || c["appidacr"] != "2" {
				t.Fatalf("claims %v", c)
			}
		})
	}
	bad := assertion("RS256")
	bad = bad[:len(bad)-4] + "AAAA"
	if resp, _ := postForm(t, e, ti.ID, form(bad)); resp.StatusCode != 401 {
		t.Fatalf("tampered assertion: %d", resp.StatusCode)
	}
}

func TestUserRealm(t *testing.T) {
	e := shared(t)
	resp, b := do(t, e, http.MethodGet, "/common/UserRealm/adele@contoso.example?api-version=1.0", "", nil, nil)
	m := decodeObj(t, b)
	if resp.StatusCode != 200 || m["account_type"] != "Managed" || m["domain_name"] != "contoso.example" || m["cloud_audience_urn"] == nil {
		t.Fatalf("userrealm: %d %v", resp.StatusCode, m)
	}
}
