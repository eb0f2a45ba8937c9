package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyValidToken(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	if !v.Ready() {
		t.Fatal("Ready() = false after a successful first fetch")
	}
	now := clk.Now()
	for _, ver := range versions {
		t.Run(ver.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", ver.claims(f, tenantA, now)))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := Principal{
				TenantID: tenantA, ObjectID: userOID, ClientAppID: clientID,
				Roles: []string{"Gateway.Admin"}, Scopes: []string{"access_as_user"},
				IssuedAt: time.Unix(now.Unix(), 0), ExpiresAt: time.Unix(now.Add(time.Hour).Unix(), 0),
			}
			if !p.IssuedAt.Equal(want.IssuedAt) || !p.ExpiresAt.Equal(want.ExpiresAt) {
				t.Fatalf("times = %v, %v; want %v, %v", p.IssuedAt, p.ExpiresAt, want.IssuedAt, want.ExpiresAt)
			}
			p.IssuedAt, p.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if !reflect.DeepEqual(p, want) {
				t.Fatalf("principal = %+v, want %+v", p, want)
			}
			if !p.HasRole("Gateway.Admin") || p.HasRole("Gateway.Analyst") || !p.HasScope("access_as_user") {
				t.Fatalf("HasRole/HasScope wrong for %+v", p)
			}
		})
	}
}

// tokenCase builds one token from a valid claim set of tenant A.
type tokenCase struct {
	name     string
	token    func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string
	status   int
	code     string
	descPart string // "" => the token must be accepted
}

func rs256(mod func(c jwt.MapClaims)) func(*testing.T, *fakeIdP, jwt.MapClaims) string {
	return func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
		mod(c)
		return sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", c)
	}
}

// claimCases are the claim checks every version must pass, for tokens of version ver.
func claimCases(f *fakeIdP, ver tokenVersion, now time.Time) []tokenCase {
	return []tokenCase{
		{"expired", rs256(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), 401, "invalid_token", "expired"},
		{"expired within skew", rs256(func(c jwt.MapClaims) { c["exp"] = now.Add(-30 * time.Second).Unix() }), 0, "", ""},
		{"no exp", rs256(func(c jwt.MapClaims) { delete(c, "exp") }), 401, "invalid_token", "no expiry"},
		{"nbf in future", rs256(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), 401, "invalid_token", "not valid yet"},
		{"nbf within skew", rs256(func(c jwt.MapClaims) { c["nbf"] = now.Add(30 * time.Second).Unix() }), 0, "", ""},
		{"iat in future", rs256(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() }), 401, "invalid_token", "issue time is in the future"},
		{"no iat", rs256(func(c jwt.MapClaims) { delete(c, "iat") }), 401, "invalid_token", "no issue time"},
		{"wrong audience", rs256(func(c jwt.MapClaims) { c["aud"] = clientID }), 401, "invalid_token", "another audience"},
		{"app id audience", rs256(func(c jwt.MapClaims) { c["aud"] = gatewayID }), 0, "", ""},
		{"app id audience, upper case", rs256(func(c jwt.MapClaims) { c["aud"] = strings.ToUpper(gatewayID) }), 0, "", ""},
		{"graph audience", rs256(func(c jwt.MapClaims) { c["aud"] = "https://graph.microsoft.com" }), 401, "invalid_token", "Microsoft Graph"},
		{"graph app id audience", rs256(func(c jwt.MapClaims) { c["aud"] = "00000003-0000-0000-c000-000000000000" }), 401, "invalid_token", "Microsoft Graph"},
		{"two audiences", rs256(func(c jwt.MapClaims) { c["aud"] = []string{gatewayID, "api://" + gatewayID} }), 401, "invalid_token", "only audience"},
		{"no audience", rs256(func(c jwt.MapClaims) { delete(c, "aud") }), 401, "invalid_token", "only audience"},
		{"no ver", rs256(func(c jwt.MapClaims) { delete(c, "ver") }), 401, "invalid_token", "no version"},
		{"unknown ver", rs256(func(c jwt.MapClaims) { c["ver"] = "3.0" }), 401, "invalid_token", "ver 1.0 or 2.0"},
		{"ver of the other version", rs256(func(c jwt.MapClaims) { c["ver"] = ver.otherVer }), 401, "invalid_token", "issuer does not match its tenant and version"},
		{"issuer of the other version", rs256(func(c jwt.MapClaims) { c["iss"] = ver.otherIssuer(f, tenantA) }), 401, "invalid_token", "issuer does not match its tenant and version"},
		{"no tid", rs256(func(c jwt.MapClaims) { delete(c, "tid") }), 401, "invalid_token", "no tenant id"},
		{"other tenant", rs256(func(c jwt.MapClaims) {
			c["tid"], c["iss"] = tenantX, strings.Replace(c["iss"].(string), tenantA, tenantX, 1)
		}), 401, "invalid_token", "tenant is not allowed"},
		{"issuer of another tenant", rs256(func(c jwt.MapClaims) {
			c["iss"] = strings.Replace(c["iss"].(string), tenantA, tenantB, 1)
		}), 401, "invalid_token", "issuer does not match"},
		{"no issuer", rs256(func(c jwt.MapClaims) { delete(c, "iss") }), 401, "invalid_token", "issuer does not match"},
		{"no oid", rs256(func(c jwt.MapClaims) { delete(c, "oid") }), 401, "invalid_token", "oid"},
		{"oid not a guid", rs256(func(c jwt.MapClaims) { c["oid"] = "someone@contoso.example" }), 401, "invalid_token", "oid"},
		{"no client app", rs256(func(c jwt.MapClaims) { delete(c, ver.client) }), 401, "invalid_token", "(" + ver.client + ")"},
		{"client app not a guid", rs256(func(c jwt.MapClaims) { c[ver.client] = "chat-web" }), 401, "invalid_token", "(" + ver.client + ")"},
		{"client app in the other version's claim", rs256(func(c jwt.MapClaims) {
			c[ver.otherClient] = c[ver.client]
			delete(c, ver.client)
		}), 401, "invalid_token", "(" + ver.client + ")"},
		{"app-only token", rs256(func(c jwt.MapClaims) { delete(c, "scp"); c["roles"] = []string{"Gateway.Admin"} }), 403, "insufficient_scope", "app-only"},
		{"other scope", rs256(func(c jwt.MapClaims) { c["scp"] = "User.Read profile" }), 403, "insufficient_scope", "lacks the delegated scope"},
		{"scope among others", rs256(func(c jwt.MapClaims) { c["scp"] = "User.Read access_as_user" }), 0, "", ""},
		{"claim of wrong type", rs256(func(c jwt.MapClaims) { c["tid"] = 42 }), 401, "invalid_token", "malformed"},
	}
}

// versionCases are the checks that differ between the versions.
var versionCases = map[string][]tokenCase{
	"v1.0": {
		{"api uri audience", rs256(func(c jwt.MapClaims) { c["aud"] = "api://" + gatewayID }), 0, "", ""},
		{"other api uri audience", rs256(func(c jwt.MapClaims) { c["aud"] = "api://" + clientID }), 401, "invalid_token", "another audience"},
		{"authority host in the issuer", rs256(func(c jwt.MapClaims) {
			c["iss"] = "https://login.microsoftonline.com/" + tenantA + "/"
		}), 401, "invalid_token", "issuer does not match"},
		{"national cloud issuer", rs256(func(c jwt.MapClaims) {
			c["iss"] = "https://sts.chinacloudapi.cn/" + tenantA + "/"
		}), 401, "invalid_token", "issuer does not match"},
		{"issuer without the trailing slash", rs256(func(c jwt.MapClaims) {
			c["iss"] = "https://sts.windows.net/" + tenantA
		}), 401, "invalid_token", "issuer does not match"},
	},
	"v2.0": {
		// v2.0 tokens always name the API by its client id (access token claims reference, aud).
		{"api uri audience", rs256(func(c jwt.MapClaims) { c["aud"] = "api://" + gatewayID }), 401, "invalid_token", "another audience"},
		{"public cloud issuer", rs256(func(c jwt.MapClaims) {
			c["iss"] = "https://login.microsoftonline.com/" + tenantA + "/v2.0"
		}), 401, "invalid_token", "issuer does not match"},
	},
}

func signatureCases() []tokenCase {
	return []tokenCase{
		{"alg none", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "a1", c)
		}, 401, "invalid_token", "RS256"},
		{"HS256 with PEM public key", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			der, err := x509.MarshalPKIXPublicKey(&f.key(tenantA, "a1").PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "a1", c)
		}, 401, "invalid_token", "RS256"},
		{"HS256 with modulus bytes", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodHS256, f.key(tenantA, "a1").N.Bytes(), "a1", c)
		}, 401, "invalid_token", "RS256"},
		{"PS256 with the real key", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodPS256, f.key(tenantA, "a1"), "a1", c)
		}, 401, "invalid_token", "RS256"},
		{"ES256", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, jwt.SigningMethodES256, k, "a1", c)
		}, 401, "invalid_token", "RS256"},
		{"RS256 by a foreign key with a known kid", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodRS256, testKey(5), "a1", c)
		}, 401, "invalid_token", "signature is invalid"},
		{"RS256 by a foreign key with an unknown kid", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodRS256, testKey(5), "evil", c)
		}, 401, "invalid_token", "unknown key"},
		{"tenant A token signed with tenant B's key", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodRS256, f.key(tenantB, "b1"), "b1", c)
		}, 401, "invalid_token", "unknown key"},
		{"missing kid", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			return sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "", c)
		}, 401, "invalid_token", "no key id"},
		{"tampered payload", func(t *testing.T, f *fakeIdP, c jwt.MapClaims) string {
			good := sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", c)
			c["roles"] = []string{"Gateway.Admin", "Gateway.Analyst"}
			forged := sign(t, jwt.SigningMethodRS256, testKey(5), "a1", c)
			parts, fp := strings.Split(good, "."), strings.Split(forged, ".")
			return parts[0] + "." + fp[1] + "." + parts[2]
		}, 401, "invalid_token", "signature is invalid"},
		{"not a JWT", func(*testing.T, *fakeIdP, jwt.MapClaims) string { return "abc.def" }, 401, "invalid_token", "malformed"},
		{"empty", func(*testing.T, *fakeIdP, jwt.MapClaims) string { return "" }, 401, "invalid_token", "empty"},
		{"oversized", func(*testing.T, *fakeIdP, jwt.MapClaims) string {
			return strings.Repeat("a", DefaultMaxTokenBytes+1)
		}, 401, "invalid_token", "larger than"},
	}
}

func TestVerifyRefusals(t *testing.T) {
	f, clk := newIdP(t), newClock()
	// A long unknown-kid interval: the foreign-kid cases may fetch at most once.
	v := newTestVerifier(t, f, clk, func(c *Config) { c.UnknownKIDInterval = time.Hour })
	now := clk.Now()
	for _, ver := range versions {
		cases := append(claimCases(f, ver, now), versionCases[ver.name]...)
		for _, tc := range append(cases, signatureCases()...) {
			t.Run(ver.name+"/"+tc.name, func(t *testing.T) {
				checkCase(t, v, tc, tc.token(t, f, ver.claims(f, tenantA, now)))
			})
		}
	}
}

// checkCase verifies raw and checks the outcome tc expects.
func checkCase(t *testing.T, v *Verifier, tc tokenCase, raw string) {
	t.Helper()
	p, err := v.Verify(context.Background(), raw)
	if tc.descPart == "" {
		if err != nil || p.ObjectID != userOID {
			t.Fatalf("Verify = %+v, %v; want accepted", p, err)
		}
		return
	}
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("Verify error = %v (%T), want *Error", err, err)
	}
	if ae.Status != tc.status || ae.Code != tc.code || !strings.Contains(ae.Description, tc.descPart) {
		t.Fatalf("Verify error = %d %q %q; want %d %q containing %q", ae.Status, ae.Code, ae.Description, tc.status, tc.code, tc.descPart)
	}
	if p.ObjectID != "" {
		t.Fatalf("refused token still produced a principal: %+v", p)
	}
	if len(raw) > 20 && strings.Contains(ae.WWWAuthenticate()+ae.Error(), raw[len(raw)-20:]) {
		t.Fatal("error echoes the token")
	}
}

func TestVerifyOtherTenant(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	for _, ver := range versions {
		t.Run(ver.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tenantB, "b1"), "b1", ver.claims(f, tenantB, clk.Now())))
			if err != nil || p.TenantID != tenantB {
				t.Fatalf("tenant B token: %+v, %v", p, err)
			}
		})
	}
}

func TestVerifyInsufficientScopeChallenge(t *testing.T) {
	const customURI = "https://gateway.contoso.example"
	f, clk := newIdP(t), newClock()
	for _, tc := range []struct{ name, appIDURI, scope string }{
		{"default app id uri", "", "api://" + gatewayID + "/access_as_user"},
		{"custom app id uri", customURI, customURI + "/access_as_user"},
	} {
		v := newTestVerifier(t, f, clk, func(c *Config) { c.AppIDURI = tc.appIDURI })
		for _, ver := range versions {
			t.Run(tc.name+"/"+ver.name, func(t *testing.T) {
				c := ver.claims(f, tenantA, clk.Now())
				c["aud"], c["scp"] = gatewayID, "User.Read"
				_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", c))
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v", err)
				}
				want := `Bearer realm="graphgate", error="insufficient_scope", error_description="the access token lacks the delegated scope access_as_user", scope="` + tc.scope + `"`
				if got := ae.WWWAuthenticate(); got != want || ae.Status != http.StatusForbidden {
					t.Fatalf("challenge = %d %s\nwant 403 %s", ae.Status, got, want)
				}
			})
		}
	}
}

func TestPerTenantAudience(t *testing.T) {
	const gatewayB, uriB = "22222222-3333-4444-8555-666666666666", "https://gateway.fabrikam.example"
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, func(c *Config) {
		c.Tenants[1].Audience, c.Tenants[1].AppIDURI = gatewayB, uriB
	})
	v1, v2 := versions[0], versions[1]
	tests := []struct {
		name, tid, kid string
		ver            tokenVersion
		aud            string
		ok             bool
	}{
		{"tenant B, v2, its own app id", tenantB, "b1", v2, gatewayB, true},
		{"tenant B, v2, its own app id uri", tenantB, "b1", v2, uriB, false},
		{"tenant B, v1, its own app id", tenantB, "b1", v1, gatewayB, true},
		{"tenant B, v1, its own app id uri", tenantB, "b1", v1, uriB, true},
		{"tenant B, v1, the default api uri of its app id", tenantB, "b1", v1, "api://" + gatewayB, false},
		{"tenant B, v2, the default app id", tenantB, "b1", v2, gatewayID, false},
		{"tenant B, v1, the default app id uri", tenantB, "b1", v1, "api://" + gatewayID, false},
		{"tenant A, v2, tenant B's app id", tenantA, "a1", v2, gatewayB, false},
		{"tenant A, v1, tenant B's app id uri", tenantA, "a1", v1, uriB, false},
		{"tenant A, v2, the default app id", tenantA, "a1", v2, gatewayID, true},
		{"tenant A, v1, the default app id uri", tenantA, "a1", v1, "api://" + gatewayID, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.ver.claims(f, tc.tid, clk.Now())
			c["aud"] = tc.aud
			_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tc.tid, tc.kid), tc.kid, c))
			if (err == nil) != tc.ok {
				t.Fatalf("Verify error = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !strings.Contains(err.Error(), "another audience") {
				t.Fatalf("Verify error = %v, want an audience error", err)
			}
		})
	}
}

// TestSharedAppIDURINotAcceptedForOwnRegistration: Config.AppIDURI names the shared
// registration; a tenant with a registration of its own (and no URI set) accepts only
// "api://" + its own app id, never the shared URI (another app of that tenant may hold it).
func TestSharedAppIDURINotAcceptedForOwnRegistration(t *testing.T) {
	const gatewayB, shared = "22222222-3333-4444-8555-666666666666", "api://graphgate"
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, func(c *Config) {
		c.AppIDURI = shared
		c.Tenants[1].Audience = gatewayB
	})
	v1 := versions[0]
	tests := []struct {
		name, tid, kid, aud string
		ok                  bool
	}{
		{"shared tenant, shared uri", tenantA, "a1", shared, true},
		{"own registration, shared uri", tenantB, "b1", shared, false},
		{"own registration, its default uri", tenantB, "b1", "api://" + gatewayB, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := v1.claims(f, tc.tid, clk.Now())
			c["aud"] = tc.aud
			_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tc.tid, tc.kid), tc.kid, c))
			if (err == nil) != tc.ok {
				t.Fatalf("Verify error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
