package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

func verifyA(t *testing.T, v *Verifier, f *fakeIdP, clk *testkit.Clock, kid string, mod func(jwt.MapClaims)) (Principal, error) {
	t.Helper()
	c := f.claimsFor(tenantA, clk.Now())
	if mod != nil {
		mod(c)
	}
	return v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, f.key(tenantA, kid), kid, c))
}

func TestKeyRotationBurstMakesOneFetch(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("initial fetches = %d, want 2 (one per tenant)", got)
	}
	f.publish(tenantA, "a2", testKey(2))
	gate := make(chan struct{})
	f.setGate(gate)

	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the fake IdP's server closes, should the test stop early

	const n = 50
	errs := make(chan error, n)
	waiting := make(chan struct{}, n)
	ctx := waitSignal{Context: context.Background(), waiting: waiting}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := f.claimsFor(tenantA, clk.Now())
			c["uti"] = fmt.Sprint("burst-", i)
			_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a2"), "a2", c))
			errs <- err
		})
	}
	<-f.arrived // the on-demand fetch is at the server and held there
	// A token with a known kid is not blocked by the pending fetch.
	if _, err := verifyA(t, v, f, clk, "a1", nil); err != nil {
		t.Fatalf("known-kid token during a fetch: %v", err)
	}
	// Release the fetch only once every caller of the burst waits for it.
	timeout := time.After(10 * time.Second)
	for i := range n {
		select {
		case <-waiting:
		case <-timeout:
			t.Fatalf("%d of %d callers wait for the pending fetch", i, n)
		}
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("burst verification failed: %v", err)
		}
	}
	if got := f.fetches.Load(); got != 3 {
		t.Fatalf("fetches after burst = %d, want 3 (one for the new kid)", got)
	}
	if got := v.Stats().JWKSFetches; got != 3 {
		t.Fatalf("Stats().JWKSFetches = %d, want 3", got)
	}
}

// waitSignal is a context that signals each call of Done: keySet.key calls it only when
// it waits for a pending fetch, so a test can tell how many callers wait.
type waitSignal struct {
	context.Context
	waiting chan<- struct{}
}

func (c waitSignal) Done() <-chan struct{} {
	select {
	case c.waiting <- struct{}{}:
	default:
	}
	return c.Context.Done()
}

func TestUnknownKIDRefetchIsRateLimited(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, func(c *Config) { c.UnknownKIDInterval = 5 * time.Minute })
	f.publish(tenantA, "evil", testKey(5)) // signs with it but we retire before use
	f.retire(tenantA, "evil")
	forged := func() error {
		c := f.claimsFor(tenantA, clk.Now())
		_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, testKey(5), "evil", c))
		return err
	}
	if err := forged(); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("first unknown kid: %v", err)
	}
	if got := f.fetches.Load(); got != 3 {
		t.Fatalf("fetches = %d, want 3 (one on-demand)", got)
	}
	for range 10 {
		if err := forged(); err == nil {
			t.Fatal("forged token accepted")
		}
	}
	if got := f.fetches.Load(); got != 3 {
		t.Fatalf("fetches after 10 more unknown kids = %d, want still 3", got)
	}
	// A genuine rotation inside the interval is seen once the interval has passed.
	f.publish(tenantA, "a2", testKey(2))
	if _, err := verifyA(t, v, f, clk, "a2", nil); err == nil {
		t.Fatal("new kid accepted inside the rate-limit interval without a fetch")
	}
	clk.Add(5 * time.Minute)
	if _, err := verifyA(t, v, f, clk, "a2", nil); err != nil {
		t.Fatalf("new kid after the interval: %v", err)
	}
	if got := f.fetches.Load(); got != 4 {
		t.Fatalf("fetches = %d, want 4", got)
	}
}

func TestJWKSDownKeepsLastGoodSet(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, func(c *Config) {
		c.RefreshInterval = 5 * time.Millisecond // background refreshes hit the outage
		c.CacheSize = -1                         // every Verify checks the signature
	})
	f.setDown(true)
	before := f.fetches.Load()
	deadline := time.Now().Add(10 * time.Second)
	for f.fetches.Load() < before+2 {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh attempts during the outage")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := verifyA(t, v, f, clk, "a1", nil); err != nil {
		t.Fatalf("known key during outage: %v", err)
	}
	if !v.Ready() {
		t.Fatal("Ready() = false although a last good key set exists")
	}
	// An unknown kid during the outage is an invalid token, not an outage.
	f.publish(tenantA, "a2", testKey(2))
	_, err := verifyA(t, v, f, clk, "a2", nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != CodeInvalidToken {
		t.Fatalf("unknown kid during outage: %v", err)
	}
}

func TestFirstFetchFailureIsNotFatal(t *testing.T) {
	f, clk := newIdP(t), newClock()
	f.setDown(true)
	v := newTestVerifier(t, f, clk, nil)
	if v.Ready() {
		t.Fatal("Ready() = true without keys")
	}
	_, err := verifyA(t, v, f, clk, "a1", nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != "" || !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Verify without keys = %v, want 503 wrapping ErrKeysUnavailable", err)
	}
	f.setDown(false)
	clk.Add(DefaultUnknownKIDInterval)
	if _, err := verifyA(t, v, f, clk, "a1", nil); err != nil {
		t.Fatalf("Verify after recovery: %v", err)
	}
	if v.tenants[tenantB].keys.refresh() != nil || !v.Ready() {
		t.Fatal("Ready() = false after both tenants recovered")
	}
}

func TestVerifiedTokenCache(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	raw := sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", f.claimsFor(tenantA, clk.Now()))
	p1, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	p1.Roles[0] = "Mutated" // must not reach the cache
	p2, err := v.Verify(context.Background(), raw)
	if err != nil || p2.Roles[0] != "Gateway.Admin" {
		t.Fatalf("cached Verify = %+v, %v", p2, err)
	}
	if s := v.Stats(); s.CacheHits != 1 || s.CacheMisses != 1 {
		t.Fatalf("stats = %+v, want 1 hit, 1 miss", s)
	}
	// A cached token still expires.
	clk.Add(time.Hour + DefaultClockSkew)
	if _, err := v.Verify(context.Background(), raw); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired cached token: %v", err)
	}
}

func TestCachedTokenRefusedAfterKeyRetired(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	raw := sign(t, jwt.SigningMethodRS256, f.key(tenantA, "a1"), "a1", f.claimsFor(tenantA, clk.Now()))
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	f.publish(tenantA, "a2", testKey(2))
	f.retire(tenantA, "a1")
	if err := v.tenants[tenantA].keys.refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), raw); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("token of a retired key: %v", err)
	}
}

func TestCloseStopsRefreshes(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, func(c *Config) { c.RefreshInterval = time.Millisecond })
	v.Close()
	v.Close() // idempotent
	n := f.fetches.Load()
	time.Sleep(20 * time.Millisecond)
	if got := f.fetches.Load(); got != n {
		t.Fatalf("fetches went from %d to %d after Close", n, got)
	}
	if _, err := verifyA(t, v, f, clk, "a1", nil); err != nil {
		t.Fatalf("Verify after Close: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	good := publicJWK("g", &testKey(0).PublicKey)
	small := map[string]string{"kty": "RSA", "kid": "s", "n": "AQAB", "e": "AQAB"}
	jwks := func(ks ...map[string]string) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, fmt.Sprintf(`{"kty":%q,"use":%q,"kid":%q,"alg":%q,"n":%q,"e":%q}`, k["kty"], k["use"], k["kid"], k["alg"], k["n"], k["e"]))
		}
		return `{"keys":[` + strings.Join(parts, ",") + `]}`
	}
	with := func(m map[string]string, k, val string) map[string]string {
		c := map[string]string{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = val
		return c
	}
	tests := []struct {
		name string
		doc  string
		kids []string
	}{
		{"one good key", jwks(good), []string{"g"}},
		{"empty use and alg accepted", jwks(with(with(good, "use", ""), "alg", "")), []string{"g"}},
		{"encryption key skipped", jwks(with(good, "use", "enc"), with(good, "kid", "g2")), []string{"g2"}},
		{"EC key skipped", jwks(with(good, "kty", "EC"), with(good, "kid", "g2")), []string{"g2"}},
		{"other alg skipped", jwks(with(good, "alg", "PS256"), with(good, "kid", "g2")), []string{"g2"}},
		{"no kid skipped", jwks(with(good, "kid", ""), with(good, "kid", "g2")), []string{"g2"}},
		{"tiny modulus skipped", jwks(small, with(good, "kid", "g2")), []string{"g2"}},
		{"even exponent skipped", jwks(with(good, "e", "Ag"), with(good, "kid", "g2")), []string{"g2"}},
		{"no usable key", jwks(small), nil},
		{"not JSON", `<html>`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseJWKS([]byte(tc.doc))
			if tc.kids == nil {
				if err == nil {
					t.Fatalf("parseJWKS = %v, want error", m)
				}
				return
			}
			if err != nil || len(m) != len(tc.kids) {
				t.Fatalf("parseJWKS = %v, %v; want kids %v", m, err, tc.kids)
			}
			for _, k := range tc.kids {
				if m[k] == nil {
					t.Fatalf("kid %q missing from %v", k, m)
				}
			}
		})
	}
}

// TestForgedKIDHidesARolloverBriefly: a token forged with a made-up kid spends the
// unknown-kid refetch; a key Entra starts signing with just after it is seen within the
// default interval (30 s), not minutes later, so a rollover does not lock every user
// out for long.
func TestForgedKIDHidesARolloverBriefly(t *testing.T) {
	f, clk := newIdP(t), newClock()
	v := newTestVerifier(t, f, clk, nil)
	c := f.claimsFor(tenantA, clk.Now())
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, testKey(5), "made-up", c)); err == nil {
		t.Fatal("forged token accepted")
	}
	f.publish(tenantA, "a2", testKey(2))
	clk.Add(DefaultUnknownKIDInterval)
	if _, err := verifyA(t, v, f, clk, "a2", nil); err != nil {
		t.Fatalf("a key published after a forged kid's refetch, %v later: %v", DefaultUnknownKIDInterval, err)
	}
	if DefaultUnknownKIDInterval > time.Minute {
		t.Errorf("DefaultUnknownKIDInterval = %v: a forged token could hide a rollover that long", DefaultUnknownKIDInterval)
	}
}
