package proxy_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/auth/revoke/revoketest"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// fleet is several gateway instances on one emulator sharing a Redis revocation list.
type fleet struct {
	url    string // the test Redis
	prefix string // this fleet's key prefix on it
	base   *env
	gws    []*env
	revs   []*revoke.Redis
	proxy  []*testkit.TCPProxy // per instance; nil when it talks to Redis directly
}

// newFleet starts n instances on the test Redis; those listed in cuttable reach Redis
// through a TCP proxy the test can cut.
func newFleet(t testing.TB, n int, cuttable ...int) *fleet {
	t.Helper()
	return newFleetOn(t, revoketest.RedisURL(t), n, cuttable...)
}

// newFleetOn starts n instances sharing the Redis at url, as newFleet does.
func newFleetOn(t testing.TB, url string, n int, cuttable ...int) *fleet {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ggtest-logout-" + hex.EncodeToString(b)
	t.Cleanup(func() { revoketest.DeletePrefix(t, url, prefix) })
	f := &fleet{url: url, prefix: prefix, base: newEnv(t)}
	for i := range n {
		f.add(t, slices.Contains(cuttable, i))
	}
	f.waitCurrent(t)
	return f
}

// add starts one more instance, behind a cuttable TCP proxy when cuttable is true.
func (f *fleet) add(t testing.TB, cuttable bool) *env {
	t.Helper()
	u := f.url
	var px *testkit.TCPProxy
	if cuttable {
		u, px = revoketest.ProxyURL(t, f.url)
	}
	r, err := revoke.NewRedis(revoke.Config{Secret: []byte("fleet-shared-secret-0123456789")},
		revoke.RedisConfig{URL: u, Prefix: f.prefix, PingInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	f.revs, f.proxy = append(f.revs, r), append(f.proxy, px)
	g := gatewayOn(t, f.base, nil, func(c *proxy.Config) {
		c.Revocations = r
		c.ReadyChecks = map[string]func() error{"revocation": r.Ready}
	})
	f.gws = append(f.gws, g)
	return g
}

// waitCurrent waits until every instance's revocation list is current.
func (f *fleet) waitCurrent(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range f.revs {
		if err := r.WaitCurrent(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// settle bounds the tests' waits for a logout, purge or reconnection to reach the other
// instances. It only guards against hangs: no test asserts how fast they arrive, which
// BenchmarkLogoutFanOut measures (BENCHMARKS.md).
const settle = 10 * time.Second

// until polls cond every few milliseconds until it holds or d has passed.
func until(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestLogoutAcrossInstancesWithRedis(t *testing.T) {
	f := newFleet(t, 3)
	g1 := f.gws[0]
	victim, reader := g1.victim(0), g1.withRole(0, "")
	tok := g1.token(0, "chat-web", victim)
	readerTok := g1.token(0, "chat-web", reader)
	for i, g := range f.gws {
		if r := g.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("instance %d before logout: %d %s", i+1, r.Status, r.Body)
		}
		g.get("/v1.0/users/"+victim.ID, readerTok) // caches the victim's profile
	}
	purgedBefore := make([]int64, len(f.gws))
	for i, g := range f.gws {
		purgedBefore[i] = g.srv.CacheStats().Purged
	}
	a := decodeLogout(t, g1.logout(g1.token(0, "chat-web", g1.withRole(0, proxy.RoleAdmin)), victim.UserPrincipalName))
	if !a.Instances.Shared || !a.Instances.Notified || a.Instances.Receivers < 3 {
		t.Errorf("instances %+v", a.Instances)
	}
	for i, g := range f.gws[1:] {
		refused := until(settle, func() bool { return g.get("/v1.0/me", tok).Status == http.StatusUnauthorized })
		if !refused {
			t.Fatalf("instance %d still accepts the revoked token", i+2)
		}
		assertRevoked(t, g.get("/v1.0/me", tok), fmt.Sprintf("instance %d", i+2))
	}
	// The other instances, told only the user's keyed hash, purged the victim's cached
	// profile: their purge counters moved, and reading the profile again goes to Graph.
	for i, g := range f.gws[1:] {
		if !until(settle, func() bool { return g.srv.CacheStats().Purged > purgedBefore[i+1] }) {
			t.Fatalf("instance %d purged nothing after the logout", i+2)
		}
		f.base.emu.ResetRequests()
		if r := g.get("/v1.0/users/"+victim.ID, readerTok); r.Status != http.StatusOK {
			t.Fatalf("reader on instance %d: %d", i+2, r.Status)
		}
		if n := f.base.emu.Count("GET /v1.0/users/{id}"); n != 1 {
			t.Errorf("instance %d answered the victim's profile from %d upstream calls, want 1 (cache purged)", i+2, n)
		}
	}
}

// TestLogoutSurvivesRedisRestart logs a user out through a fleet sharing a private Redis
// that runs without persistence (as the shipped Kubernetes manifest runs it), restarts
// that Redis empty and starts a new gateway instance at once: every instance, old and
// new, refuses the user's tokens issued before the logout and inside the lock-out.
// Graph's revokeSignInSessions fails, so Entra's signInSessionsValidFromDateTime
// cannot stand in for the gateway's own list.
func TestLogoutSurvivesRedisRestart(t *testing.T) {
	srv := revoketest.StartServer(t)
	f := newFleetOn(t, srv.URL(), 2)
	f.base.emu.SetFault("POST /v1.0/users/{id}/revokeSignInSessions", emulatorFault503())
	g1 := f.gws[0]
	victim := g1.victim(0)
	admin := g1.token(0, "chat-web", g1.withRole(0, proxy.RoleAdmin))
	before := g1.mint(0, "chat-web", victim, time.Time{})
	if r := f.gws[1].get("/v1.0/me", before); r.Status != http.StatusOK {
		t.Fatalf("before the logout: %d %s", r.Status, r.Body)
	}
	if a := decodeLogout(t, g1.logout(admin, victim.ID)); a.Graph.Succeeded {
		t.Fatal("revokeSignInSessions succeeded; the test needs it to fail")
	}
	inside := g1.mint(0, "chat-web", victim, time.Now()) // a token Entra may still issue
	for i, g := range f.gws {
		if !until(settle, func() bool { return g.get("/v1.0/me", inside).Status == http.StatusUnauthorized }) {
			t.Fatalf("instance %d accepts the revoked token before the restart", i+1)
		}
	}
	srv.Restart(syscall.SIGTERM)
	f.add(t, false) // a new instance (a rollout, a crash) started right after the restart
	f.waitCurrent(t)
	accepted := 0
	for i, g := range f.gws {
		for _, tok := range []string{before, inside} {
			r := g.get("/v1.0/me", tok)
			if r.Status == http.StatusOK {
				accepted++
			}
			assertRevoked(t, r, fmt.Sprintf("instance %d after the restart", i+1))
			if !strings.Contains(string(r.Body), "by an administrator") {
				t.Errorf("instance %d refused for another reason than the gateway's list: %s", i+1, r.Body)
			}
		}
	}
	t.Logf("FAULT logout_redis_restart_gateways: instances_old=2 instances_new=1 revoked_tokens_tried=%d revoked_tokens_accepted=%d",
		2*len(f.gws), accepted)
}

// TestLogoutLeavesNoUserIDInRedis logs a user out by UPN across instances and checks
// every Redis key and value under the fleet's prefix, and the published message: they
// hold the keyed hash, never the user's id or UPN, in clear or base64.
func TestLogoutLeavesNoUserIDInRedis(t *testing.T) {
	f := newFleet(t, 2)
	g1, g2 := f.gws[0], f.gws[1]
	victim := g1.victim(0)
	tok := g1.token(0, "chat-web", victim)
	if r := g2.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("before logout: %d", r.Status)
	}
	opt, err := redis.ParseURL(f.url)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx := context.Background()
	ps := rc.Subscribe(ctx, f.prefix+":revocations")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	decodeLogout(t, g1.logout(g1.token(0, "chat-web", g1.withRole(0, proxy.RoleAdmin)), victim.UserPrincipalName))
	if !until(settle, func() bool { return g2.get("/v1.0/me", tok).Status == http.StatusUnauthorized }) {
		t.Fatal("instance 2 still accepts the revoked token")
	}
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := personalForms(victim.ID, victim.UserPrincipalName)
	assertNoneOf(t, "published message", msg.Payload, forbidden)

	keys, err := rc.Keys(ctx, f.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := f.prefix + ":revoked:" + f.revs[0].KeyOf(g1.tenant(0).ID, victim.ID)
	if !slices.Contains(keys, want) {
		t.Errorf("keys %q lack the keyed hash of the user", keys)
	}
	for _, k := range keys {
		assertNoneOf(t, "key", k, forbidden)
		v, err := rc.Get(ctx, k).Result()
		if err != nil {
			t.Fatalf("a key that is not a string: %v", err)
		}
		assertNoneOf(t, "value", v, forbidden)
	}
}

// personalForms returns the forms in which ids must not appear: as given, lower and upper
// case, and base64 (standard, raw, URL) of each.
func personalForms(ids ...string) []string {
	var out []string
	for _, id := range ids {
		for _, s := range []string{id, strings.ToLower(id), strings.ToUpper(id)} {
			out = append(out, s, base64.StdEncoding.EncodeToString([]byte(s)),
				base64.RawStdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
		}
	}
	return out
}

// assertNoneOf fails if s contains any of forbidden, without printing what it found.
func assertNoneOf(t *testing.T, what, s string, forbidden []string) {
	t.Helper()
	for i, f := range forbidden {
		if strings.Contains(s, f) {
			t.Errorf("%s holds personal data (form %d)", what, i)
		}
	}
}

func TestLogoutWhileRedisConnectionIsCut(t *testing.T) {
	f := newFleet(t, 3, 0, 1) // instances 1 and 2 can be cut off
	g1, g2, g3 := f.gws[0], f.gws[1], f.gws[2]
	admin := g1.token(0, "chat-web", g1.withRole(0, proxy.RoleAdmin))
	users := g1.enabledUsers(0)
	var plain []emulator.UserInfo
	for _, u := range users {
		if len(u.Roles) == 0 {
			plain = append(plain, u)
		}
	}
	cases := []struct {
		name     string
		cut      int // the instance cut off from Redis during the logout (0-based)
		victim   emulator.UserInfo
		notified bool
	}{
		{"instance 2 cut off, logout through instance 1", 1, plain[5], true},
		{"instance 1 (the one called) cut off", 0, plain[6], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := g1.token(0, "chat-web", tc.victim)
			for _, g := range f.gws {
				if r := g.get("/v1.0/me", tok); r.Status != http.StatusOK {
					t.Fatalf("before: %d", r.Status)
				}
			}
			cut := f.gws[tc.cut]
			f.proxy[tc.cut].Cut()
			if !until(settle, func() bool { return cut.get("/readyz", "").Status == http.StatusServiceUnavailable }) {
				t.Fatal("the cut-off instance does not report degraded on /readyz")
			}
			a := decodeLogout(t, g1.logout(admin, tc.victim.ID))
			if a.Instances.Notified != tc.notified {
				t.Errorf("notified = %v, want %v", a.Instances.Notified, tc.notified)
			}
			assertRevoked(t, g1.get("/v1.0/me", tok), "instance 1")
			f.proxy[tc.cut].Restore()
			if !until(settle, func() bool { return cut.get("/readyz", "").Status == http.StatusOK }) {
				t.Fatal("the instance did not recover")
			}
			for i, g := range []*env{g1, g2, g3} {
				if i == tc.cut {
					assertRevoked(t, g.get("/v1.0/me", tok), "the reconnected instance, as soon as it reports ready")
					if v := f.revs[i].Check(g.tenant(0).ID, tc.victim.ID, time.Now().Add(-time.Minute)); v != revoke.Revoked {
						t.Errorf("the reconnected instance's list: %v", v)
					}
					continue
				}
				if !until(settle, func() bool { return g.get("/v1.0/me", tok).Status == http.StatusUnauthorized }) {
					t.Errorf("instance %d accepts the revoked token after reconnection", i+1)
				}
			}
		})
	}
}

// BenchmarkLogoutFanOut measures, for three instances on a loopback Redis, the time
// from the admin logout call's return until every instance refuses the user's token.
func BenchmarkLogoutFanOut(b *testing.B) {
	f := newFleet(b, 3)
	g1 := f.gws[0]
	admin := g1.token(0, "chat-web", g1.withRole(0, proxy.RoleAdmin))
	tid := g1.tenant(0).ID
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		u, err := f.base.emu.AddUser(tid, emulator.User{UserPrincipalName: fmt.Sprintf("bench%d-%d@%s", i, time.Now().UnixNano(), g1.tenant(0).Domain),
			AccountEnabled: true, CreatedDateTime: time.Now().Add(-time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		info := emulator.UserInfo{ID: u.ID, UserPrincipalName: u.UserPrincipalName, AccountEnabled: true}
		tok := g1.mint(0, "chat-web", info, time.Time{})
		for _, g := range f.gws {
			if r := g.get("/v1.0/me", tok); r.Status != http.StatusOK {
				b.Fatalf("warm-up: %d %s", r.Status, r.Body)
			}
		}
		if r := g1.logout(admin, u.ID); r.Status != http.StatusOK {
			b.Fatalf("logout: %d", r.Status)
		}
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var worst time.Duration
		for _, g := range f.gws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				until(settle, func() bool { return g.get("/v1.0/me", tok).Status == http.StatusUnauthorized })
				d := time.Since(start)
				mu.Lock()
				worst = max(worst, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		lat = append(lat, worst)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
