package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// Fixed GUIDs of the test directory.
const (
	tenantA   = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantB   = "bbbbbbbb-0000-4000-8000-00000000000b"
	tenantX   = "cccccccc-0000-4000-8000-00000000000c" // not configured
	gatewayID = "11111111-2222-4333-8444-555555555555"
	clientID  = "66666666-7777-4888-9999-aaaaaaaaaaaa"
	userOID   = "dddddddd-eeee-4fff-8000-111111111111"
)

// fakeIdP is a hand-written Entra stand-in: per-tenant JWKS over TLS, with a fetch
// counter, an outage switch and an optional gate that holds responses.
type fakeIdP struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]map[string]*rsa.PrivateKey // tenant -> kid -> key (published)
	down    bool
	gate    chan struct{} // when non-nil, responses wait for it to close
	arrived chan struct{} // signalled (non-blocking) when a request arrives
	fetches atomic.Int64
}

func newIdP(t testing.TB) *fakeIdP {
	t.Helper()
	f := &fakeIdP{keys: map[string]map[string]*rsa.PrivateKey{
		tenantA: {"a1": testKey(0)},
		tenantB: {"b1": testKey(1)},
	}, arrived: make(chan struct{}, 100)}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serveJWKS))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	f.fetches.Add(1)
	select {
	case f.arrived <- struct{}{}:
	default:
	}
	f.mu.Lock()
	gate, down := f.gate, f.down
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	tid, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/discovery/v2.0/keys")
	f.mu.Lock()
	set, known := f.keys[tid]
	doc := map[string][]map[string]string{"keys": {}}
	for kid, k := range set {
		doc["keys"] = append(doc["keys"], publicJWK(kid, &k.PublicKey))
	}
	f.mu.Unlock()
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (f *fakeIdP) publish(tid, kid string, k *rsa.PrivateKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[tid][kid] = k
}

func (f *fakeIdP) retire(tid, kid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys[tid], kid)
}

func (f *fakeIdP) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeIdP) setGate(g chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = g
}

func (f *fakeIdP) key(tid, kid string) *rsa.PrivateKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[tid][kid]
}

func publicJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{
		"kty": "RSA", "use": "sig", "kid": kid, "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
	}
}

// claimsFor returns the claims of a valid delegated v2.0 token of tid issued at now.
func (f *fakeIdP) claimsFor(tid string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.issuerV2(tid), "aud": gatewayID, "tid": tid,
		"oid": userOID, "sub": "opaque-subject", "azp": clientID, "azpacr": "0",
		"scp": "access_as_user", "roles": []string{"Gateway.Admin"}, "ver": "2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// claimsV1For returns the claims of a valid delegated v1.0 token of tid issued at now,
// shaped as Entra issues them (appid instead of azp, the sts.windows.net issuer, the
// Application ID URI as audience and the v1.0-only user claims).
func (f *fakeIdP) claimsV1For(tid string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": issuerV1(tid), "aud": "api://" + gatewayID, "tid": tid,
		"oid": userOID, "sub": "opaque-subject", "appid": clientID, "appidacr": "0",
		"acr": "1", "amr": []string{"pwd"}, "name": "Adele Vance", "given_name": "Adele",
		"family_name": "Vance", "upn": "adele@contoso.example", "unique_name": "adele@contoso.example",
		"scp": "access_as_user", "roles": []string{"Gateway.Admin"}, "ver": "1.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// issuerV2 is tid's v2.0 issuer at the fake authority.
func (f *fakeIdP) issuerV2(tid string) string { return f.srv.URL + "/" + tid + "/v2.0" }

// issuerV1 is tid's v1.0 issuer, which names sts.windows.net whatever the authority.
func issuerV1(tid string) string { return "https://sts.windows.net/" + tid + "/" }

// tokenVersion describes one access token version for tests run against both.
type tokenVersion struct {
	name        string
	claims      func(f *fakeIdP, tid string, now time.Time) jwt.MapClaims
	client      string                              // the client-app claim: appid or azp
	otherClient string                              // the other version's client-app claim
	otherIssuer func(f *fakeIdP, tid string) string // the other version's issuer
	otherVer    string
}

// versions are v1.0 and v2.0, the two token formats Entra issues for a custom API.
var versions = []tokenVersion{
	{"v1.0", (*fakeIdP).claimsV1For, "appid", "azp", (*fakeIdP).issuerV2, "2.0"},
	{"v2.0", (*fakeIdP).claimsFor, "azp", "appid", func(_ *fakeIdP, tid string) string { return issuerV1(tid) }, "1.0"},
}

// sign signs c with method and key, setting the kid header unless kid is "".
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// newClock returns the tests' settable clock, at a fixed instant.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// newTestVerifier starts a Verifier for tenants A and B of f.
func newTestVerifier(t testing.TB, f *fakeIdP, clk *testkit.Clock, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Audience:   gatewayID,
		Authority:  f.srv.URL,
		Tenants:    []Tenant{{ID: tenantA}, {ID: tenantB}},
		HTTPClient: f.srv.Client(),
		Now:        clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

// testKey returns the i-th of a few RSA-2048 keys generated once per test binary.
func testKey(i int) *rsa.PrivateKey {
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		keys = make([]*rsa.PrivateKey, 6)
		for j := range keys {
			wg.Go(func() {
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					panic(err)
				}
				keys[j] = k
			})
		}
		wg.Wait()
	})
	return keys[i]
}
