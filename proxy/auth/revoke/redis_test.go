package revoke

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/proxy/auth/revoke/revoketest"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// redisEnv is a unique key prefix on the test Redis, shared by the stores a test starts.
type redisEnv struct {
	t      *testing.T
	url    string
	prefix string
}

func newRedisEnv(t *testing.T) *redisEnv {
	url := revoketest.RedisURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e := &redisEnv{t: t, url: url, prefix: "ggtest-revoke-" + hex.EncodeToString(b)}
	t.Cleanup(func() { revoketest.DeletePrefix(t, url, e.prefix) })
	return e
}

// store starts a store on url (the env's Redis when ""), closed when the test ends.
func (e *redisEnv) store(url string, cfg Config) *Redis {
	e.t.Helper()
	if url == "" {
		url = e.url
	}
	cfg.Secret = secret
	// Each test's prefix is new, a first start: these tests do not exercise the repair
	// wait, so it is short (the restart tests in restart_test.go and recovery_test.go do).
	r, err := NewRedis(cfg, RedisConfig{URL: url, Prefix: e.prefix, PingInterval: 50 * time.Millisecond,
		RepairWait: 300 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = r.Close() })
	return r
}

func waitCurrent(t *testing.T, rs ...*Redis) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range rs {
		if err := r.WaitCurrent(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects what a Subscriber is told.
type recorder struct {
	mu      sync.Mutex
	users   []string
	tenants []string
}

func (r *recorder) subscriber() Subscriber {
	return Subscriber{
		UserRevoked:  func(t, u string) { r.mu.Lock(); r.users = append(r.users, t+"|"+u); r.mu.Unlock() },
		TenantPurged: func(t string) { r.mu.Lock(); r.tenants = append(r.tenants, t); r.mu.Unlock() },
	}
}

func (r *recorder) seen() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.users...), append([]string(nil), r.tenants...)
}

func TestRedisSharesRevocationsAndStoresOnlyHashes(t *testing.T) {
	e := newRedisEnv(t)
	a, b := e.store("", Config{}), e.store("", Config{})
	var rec recorder
	b.Subscribe(rec.subscriber())
	waitCurrent(t, a, b)
	iat := time.Now().Add(-time.Minute)
	rev, err := a.Revoke(context.Background(), tenantA, userX)
	if err != nil || !rev.Shared || !rev.Notified || rev.Receivers < 2 {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	eventually(t, "b refuses the token", func() bool { return b.Check(tenantA, userX, iat) == Revoked })
	eventually(t, "b is told the user", func() bool { u, _ := rec.seen(); return len(u) == 1 })
	if u, _ := rec.seen(); u[0] != tenantA+"|"+Key(secret, tenantA, userX) {
		t.Errorf("subscriber got %q, want the tenant and the keyed hash", u[0])
	}
	if got := b.Check(tenantA, userY, iat); got != Allow {
		t.Errorf("another user: %v", got)
	}

	rc := redis.NewClient(mustParse(t, e.url))
	defer rc.Close()
	ctx := context.Background()
	keys, err := rc.Keys(ctx, e.prefix+":*").Result()
	slices.Sort(keys)
	// The revocation, and the key by which Redis vouches that the list is complete.
	want := []string{e.prefix + ":revocation-list", e.prefix + ":revoked:" + Key(secret, tenantA, userX)}
	if err != nil || !slices.Equal(keys, want) {
		t.Fatalf("keys %q %v, want %q", keys, err, want)
	}
	keys = keys[1:]
	if v, _ := rc.Get(ctx, want[0]).Result(); strings.Trim(v, "0123456789") != "" {
		t.Errorf("the list's marker holds %q, want a unix time", v)
	}
	val, _ := rc.Get(ctx, keys[0]).Result()
	assertNoUserID(t, "stored value", val)
	assertNoUserID(t, "key", keys[0])
	ttl, _ := rc.TTL(ctx, keys[0]).Result()
	if retention := DefaultLockout + DefaultMaxTokenLifetime; ttl <= retention-time.Minute || ttl > retention {
		t.Errorf("ttl %v, want the retention %v", ttl, retention)
	}

	late := e.store("", Config{})
	waitCurrent(t, late)
	if got := late.Check(tenantA, userX, iat); got != Revoked {
		t.Errorf("an instance started after the logout: %v, want revoked once current", got)
	}
}

// assertNoUserID fails if s holds userX in clear or base64, or is a record with a field
// beyond the operation, tenant, keyed hash, times and origin.
func assertNoUserID(t *testing.T, what, s string) {
	t.Helper()
	for _, enc := range []string{userX, strings.ToUpper(userX), base64.StdEncoding.EncodeToString([]byte(userX)),
		base64.RawStdEncoding.EncodeToString([]byte(userX)), base64.URLEncoding.EncodeToString([]byte(userX))} {
		if strings.Contains(s, enc) {
			t.Errorf("%s holds the user id: %s", what, s)
		}
	}
	var fields map[string]any
	if json.Unmarshal([]byte(s), &fields) != nil {
		return
	}
	for f := range fields {
		if !slices.Contains([]string{"op", "t", "k", "c", "e", "o"}, f) {
			t.Errorf("%s has an unexpected field %q: %s", what, f, s)
		}
	}
}

func TestRedisPublishesOnlyHashes(t *testing.T) {
	e := newRedisEnv(t)
	a := e.store("", Config{})
	waitCurrent(t, a)
	rc := redis.NewClient(mustParse(t, e.url))
	defer rc.Close()
	ctx := context.Background()
	ps := rc.Subscribe(ctx, e.prefix+":revocations")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, tenantA, userX); err != nil {
		t.Fatal(err)
	}
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertNoUserID(t, "published message", msg.Payload)
	if !strings.Contains(msg.Payload, Key(secret, tenantA, userX)) {
		t.Errorf("published message lacks the keyed hash: %s", msg.Payload)
	}
}

func TestRedisPurgeTenantReachesOthersOnly(t *testing.T) {
	e := newRedisEnv(t)
	a, b := e.store("", Config{}), e.store("", Config{})
	var ra, rb recorder
	a.Subscribe(ra.subscriber())
	b.Subscribe(rb.subscriber())
	waitCurrent(t, a, b)
	if ok, err := a.PurgeTenant(context.Background(), tenantA); !ok || err != nil {
		t.Fatalf("purge: %v %v", ok, err)
	}
	eventually(t, "b purges", func() bool { _, ts := rb.seen(); return len(ts) == 1 && ts[0] == tenantA })
	// b's own purge is a marker: a receives the channel's messages in order, so once it is
	// told of tenant B's purge it has already been handed anything about tenant A.
	if ok, err := b.PurgeTenant(context.Background(), tenantB); !ok || err != nil {
		t.Fatalf("marker purge: %v %v", ok, err)
	}
	eventually(t, "a is told of b's purge", func() bool { _, ts := ra.seen(); return len(ts) > 0 && ts[len(ts)-1] == tenantB })
	if _, ts := ra.seen(); len(ts) != 1 {
		t.Errorf("the purging instance was told of its own purge: %v", ts)
	}
}

func TestRedisReconnectLoadsWhatWasMissed(t *testing.T) {
	e := newRedisEnv(t)
	url, px := revoketest.ProxyURL(t, e.url)
	a, b := e.store("", Config{}), e.store(url, Config{})
	waitCurrent(t, a, b)
	px.Cut()
	eventually(t, "b reports degraded", func() bool { return b.Ready() != nil })
	iat := time.Now().Add(-time.Minute)
	if _, err := a.Revoke(context.Background(), tenantA, userX); err != nil {
		t.Fatal(err)
	}
	if got := b.Check(tenantA, userX, iat); got != Allow {
		t.Fatalf("cut-off instance within the staleness grace: %v, want allow (it cannot know)", got)
	}
	px.Restore()
	waitCurrent(t, b)
	if got := b.Check(tenantA, userX, iat); got != Revoked {
		t.Errorf("after reconnection: %v, want revoked", got)
	}
}

func TestRedisRevokeWhileUnreachableIsSharedLater(t *testing.T) {
	e := newRedisEnv(t)
	url, px := revoketest.ProxyURL(t, e.url)
	a, b := e.store(url, Config{}), e.store("", Config{})
	waitCurrent(t, a, b)
	px.Cut()
	eventually(t, "a reports degraded", func() bool { return a.Ready() != nil })
	iat := time.Now().Add(-time.Minute)
	rev, err := a.Revoke(context.Background(), tenantA, userX)
	if err != nil || rev.Notified || rev.NotifyErr == nil {
		t.Fatalf("revoke while cut off: %+v %v", rev, err)
	}
	if got := a.Check(tenantA, userX, iat); got != Revoked {
		t.Errorf("the revoking instance: %v", got)
	}
	px.Restore()
	eventually(t, "b learns the revocation", func() bool { return b.Check(tenantA, userX, iat) == Revoked })
}

func TestRedisUnreachableModes(t *testing.T) {
	e := newRedisEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + ln.Addr().String() + "/0"
	_ = ln.Close()
	iat := time.Now().Add(-time.Minute)

	closed := e.store(dead, Config{})
	open := e.store(dead, Config{OnUnavailable: FailOpen})
	for _, s := range []*Redis{closed, open} {
		// Not ready, and for a reason learnt from trying to reach Redis.
		eventually(t, "the store tried redis and reports it down", func() bool {
			err := s.Ready()
			return err != nil && !strings.Contains(err.Error(), "not yet loaded")
		})
	}
	if got := closed.Check(tenantA, userX, iat); got != Unverifiable {
		t.Errorf("fail_closed, never synced: %v", got)
	}
	if got := open.Check(tenantA, userX, iat); got != Allow {
		t.Errorf("fail_open, never synced: %v", got)
	}
	if _, err := open.Revoke(context.Background(), tenantA, userX); err != nil {
		t.Fatal(err)
	}
	if got := open.Check(tenantA, userX, iat); got != Revoked {
		t.Errorf("fail_open still enforces what it knows: %v", got)
	}

	clk := testkit.NewClock(time.Now())
	url, px := revoketest.ProxyURL(t, e.url)
	stale := e.store(url, Config{Now: clk.Now, MaxStaleness: 10 * time.Second})
	waitCurrent(t, stale)
	px.Cut()
	eventually(t, "degraded", func() bool { return stale.Ready() != nil })
	if got := stale.Check(tenantA, userX, iat); got != Allow {
		t.Errorf("within the staleness grace: %v", got)
	}
	clk.Add(11 * time.Second)
	if got := stale.Check(tenantA, userX, iat); got != Unverifiable {
		t.Errorf("after the staleness grace: %v", got)
	}
}

func mustParse(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
