package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphgate/graphgate/graph/emulator"
)

// demoEnv is a running `graphgate demo` and the emulated directory behind it.
type demoEnv struct {
	intro demoIntro
	dir   emulator.DirectoryInfo
}

func startDemo(t *testing.T) demoEnv {
	t.Helper()
	s := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var d demoEnv
	if err := json.Unmarshal([]byte(s.line(t)), &d.intro); err != nil {
		t.Fatalf("first stdout line is not JSON: %v", err)
	}
	waitReady(t, d.intro.GatewayURL)
	resp, err := insecure.Get(d.intro.EmulatorURL + "/_emulator/directory")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&d.dir); err != nil || len(d.dir.Tenants) < 2 {
		t.Fatalf("directory: %v (%d tenants)", err, len(d.dir.Tenants))
	}
	return d
}

// userToken gets a token for tenant tn's first enabled user through the chat-web client
// with the password grant, as a client app would.
func (d demoEnv) userToken(t *testing.T, tn emulator.TenantInfo) (token, userID string) {
	t.Helper()
	for _, u := range tn.Users {
		if u.AccountEnabled {
			intro := d.intro
			intro.TokenURL = d.intro.EmulatorURL + "/" + tn.ID + "/oauth2/v2.0/token"
			intro.Scope = tn.Scope + " openid profile"
			return passwordToken(t, intro, u.UserPrincipalName, tn.Password), u.ID
		}
	}
	t.Fatalf("tenant %s has no enabled user", tn.Domain)
	return "", ""
}

// mint asks the emulator's control API for a token (genuinely signed).
func (d demoEnv) mint(t *testing.T, req map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := insecure.Post(d.intro.EmulatorURL+"/_emulator/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("control token: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

// tenantKey returns a public signing key of the tenant, from its JWKS.
func (d demoEnv) tenantKey(t *testing.T, tid string) *rsa.PublicKey {
	t.Helper()
	resp, err := insecure.Get(d.intro.EmulatorURL + "/" + tid + "/discovery/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ N, E string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v", err)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

// tokenClaims decodes a JWT's header and claims without verifying it.
func tokenClaims(t *testing.T, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatal("not a JWT")
	}
	var hdr map[string]any
	var c jwt.MapClaims
	for i, dst := range []any{&hdr, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("JWT part %d does not decode", i)
		}
	}
	return hdr, c
}

// tamper replaces a genuine token's claims, keeping its header and signature.
func tamper(t *testing.T, tok string, mod func(jwt.MapClaims)) string {
	t.Helper()
	_, c := tokenClaims(t, tok)
	mod(c)
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}

// resign signs a genuine token's claims (modified by mod) with method and key, under kid.
func resign(t *testing.T, tok string, method jwt.SigningMethod, key any, kid string, mod func(jwt.MapClaims)) string {
	t.Helper()
	_, c := tokenClaims(t, tok)
	if mod != nil {
		mod(c)
	}
	j := jwt.NewWithClaims(method, c)
	j.Header["kid"] = kid
	s, err := j.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// callMe calls /v1.0/me with tok and returns the status, the WWW-Authenticate header and
// the answer.
func (d demoEnv) callMe(t *testing.T, tok string) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.intro.GatewayURL+"/v1.0/me?$select=displayName", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), m
}

// TestDemoAcceptsBothTokenVersions runs `graphgate demo` and calls it with genuine
// tokens of both versions: contoso's gateway registration gets v1.0 tokens (Entra's
// default), fabrikam's v2.0; a token of the other version, minted on request, works too.
func TestDemoAcceptsBothTokenVersions(t *testing.T) {
	d := startDemo(t)
	for _, tn := range d.dir.Tenants[:2] {
		t.Run(tn.Domain, func(t *testing.T) {
			tok, oid := d.userToken(t, tn)
			_, c := tokenClaims(t, tok)
			if want := fmt.Sprintf("%d.0", tn.AccessTokenVersion); c["ver"] != want {
				t.Fatalf("password-grant token ver = %v, want %s", c["ver"], want)
			}
			other := 3 - tn.AccessTokenVersion
			minted := d.mint(t, map[string]any{"tenant": tn.ID, "client_id": d.intro.ClientID, "user": oid, "version": other})
			if _, mc := tokenClaims(t, minted); mc["ver"] != fmt.Sprintf("%d.0", other) {
				t.Fatalf("minted token ver = %v, want %d.0", mc["ver"], other)
			}
			for _, tok := range []string{tok, minted} {
				status, _, me := d.callMe(t, tok)
				if status != http.StatusOK || me["displayName"] == nil {
					t.Fatalf("/me: %d %v", status, me)
				}
			}
		})
	}
}

// forgery builds a refused token from a genuine one of the same version.
type forgery struct {
	name  string
	forge func(t *testing.T, d demoEnv, tn emulator.TenantInfo, genuine string, v1 bool) string
}

// forgeries are the refused tokens built from a genuine token: re-signed, tampered and
// genuinely signed but not for this gateway (or not now).
func forgeries(foreign *rsa.PrivateKey) []forgery {
	return append(append(signatureForgeries(foreign), claimForgeries()...), genuineRefusals()...)
}

// signatureForgeries re-sign a genuine token's claims with keys or algorithms Entra's
// tenant key set does not hold.
func signatureForgeries(foreign *rsa.PrivateKey) []forgery {
	return []forgery{
		{"signed with another key under the genuine kid", func(t *testing.T, _ demoEnv, _ emulator.TenantInfo, g string, _ bool) string {
			hdr, _ := tokenClaims(t, g)
			return resign(t, g, jwt.SigningMethodRS256, foreign, hdr["kid"].(string), nil)
		}},
		{"signed with an unknown kid", func(t *testing.T, _ demoEnv, _ emulator.TenantInfo, g string, _ bool) string {
			return resign(t, g, jwt.SigningMethodRS256, foreign, "forged-kid", nil)
		}},
		{"alg none", func(t *testing.T, _ demoEnv, _ emulator.TenantInfo, g string, _ bool) string {
			hdr, _ := tokenClaims(t, g)
			return resign(t, g, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr["kid"].(string), nil)
		}},
		{"HS256 keyed with the tenant's public key", func(t *testing.T, d demoEnv, tn emulator.TenantInfo, g string, _ bool) string {
			hdr, _ := tokenClaims(t, g)
			der, err := x509.MarshalPKIXPublicKey(d.tenantKey(t, tn.ID))
			if err != nil {
				t.Fatal(err)
			}
			return resign(t, g, jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), hdr["kid"].(string), nil)
		}},
		{"PS256", func(t *testing.T, _ demoEnv, _ emulator.TenantInfo, g string, _ bool) string {
			hdr, _ := tokenClaims(t, g)
			return resign(t, g, jwt.SigningMethodPS256, foreign, hdr["kid"].(string), nil)
		}},
	}
}

// claimForgeries change a genuine token's claims and keep its signature.
func claimForgeries() []forgery {
	claim := func(mod func(c jwt.MapClaims, tn emulator.TenantInfo, v1 bool)) func(*testing.T, demoEnv, emulator.TenantInfo, string, bool) string {
		return func(t *testing.T, _ demoEnv, tn emulator.TenantInfo, genuine string, v1 bool) string {
			return tamper(t, genuine, func(c jwt.MapClaims) { mod(c, tn, v1) })
		}
	}
	return []forgery{
		{"issuer of the other version", func(t *testing.T, d demoEnv, tn emulator.TenantInfo, g string, v1 bool) string {
			return tamper(t, g, func(c jwt.MapClaims) {
				c["iss"] = "https://sts.windows.net/" + tn.ID + "/"
				if v1 {
					c["iss"] = d.intro.EmulatorURL + "/" + tn.ID + "/v2.0"
				}
			})
		}},
		{"other tenant's issuer", claim(func(c jwt.MapClaims, tn emulator.TenantInfo, _ bool) {
			c["iss"] = strings.Replace(c["iss"].(string), tn.ID, "00000000-0000-4000-8000-000000000001", 1)
		})},
		{"Graph audience", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { c["aud"] = "https://graph.microsoft.com" })},
		{"wrong audience", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) {
			c["aud"] = "00000000-0000-4000-8000-000000000002"
		})},
		{"no client app", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { delete(c, "appid"); delete(c, "azp") })},
		{"no ver", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { delete(c, "ver") })},
		{"unknown ver", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { c["ver"] = "3.0" })},
		{"expired", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { c["exp"] = c["iat"].(float64) - 3600 })},
		{"not yet valid", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { c["nbf"] = c["iat"].(float64) + 3600 })},
		{"no exp", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) { delete(c, "exp") })},
		{"app-only, roles raised", claim(func(c jwt.MapClaims, _ emulator.TenantInfo, _ bool) {
			delete(c, "scp")
			c["roles"] = []string{"Gateway.Admin"}
		})},
	}
}

// genuineRefusals are tokens the emulated Entra signs that the gateway must still refuse.
func genuineRefusals() []forgery {
	return []forgery{
		{"genuine token for Microsoft Graph", func(t *testing.T, d demoEnv, tn emulator.TenantInfo, g string, v1 bool) string {
			_, c := tokenClaims(t, g)
			return d.mint(t, map[string]any{"tenant": tn.ID, "user": c["oid"], "audience": "https://graph.microsoft.com", "version": versionOf(v1)})
		}},
		{"genuine token for another tenant's gateway", func(t *testing.T, d demoEnv, tn emulator.TenantInfo, g string, v1 bool) string {
			_, c := tokenClaims(t, g)
			other := d.dir.Tenants[0].GatewayAppID
			if other == tn.GatewayAppID {
				other = d.dir.Tenants[1].GatewayAppID
			}
			return d.mint(t, map[string]any{"tenant": tn.ID, "user": c["oid"], "audience": other, "version": versionOf(v1)})
		}},
		{"genuine expired token", func(t *testing.T, d demoEnv, tn emulator.TenantInfo, g string, v1 bool) string {
			_, c := tokenClaims(t, g)
			return d.mint(t, map[string]any{"tenant": tn.ID, "user": c["oid"], "ttl_seconds": -3600, "version": versionOf(v1)})
		}},
	}
}

func versionOf(v1 bool) int {
	if v1 {
		return 1
	}
	return 2
}

// TestDemoRefusesForgeriesOfBothVersions sends the same forgeries, built from genuine
// v1.0 and v2.0 tokens, to `graphgate demo`: each is refused with 401 invalid_token.
func TestDemoRefusesForgeriesOfBothVersions(t *testing.T) {
	d := startDemo(t)
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range d.dir.Tenants[:2] {
		for _, version := range []int{1, 2} {
			genuine, oid := d.userToken(t, tn)
			if tn.AccessTokenVersion != version {
				genuine = d.mint(t, map[string]any{"tenant": tn.ID, "client_id": d.intro.ClientID, "user": oid, "version": version})
			}
			if status, _, me := d.callMe(t, genuine); status != http.StatusOK {
				t.Fatalf("%s v%d: genuine token refused: %d %v", tn.Domain, version, status, me)
			}
			for _, f := range forgeries(foreign) {
				t.Run(fmt.Sprintf("%s/v%d.0/%s", tn.Domain, version, f.name), func(t *testing.T) {
					forged := f.forge(t, d, tn, genuine, version == 1)
					status, challenge, body := d.callMe(t, forged)
					if status != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
						t.Fatalf("status %d, WWW-Authenticate %q, body %v; want 401 invalid_token", status, challenge, body)
					}
				})
			}
		}
	}
}
