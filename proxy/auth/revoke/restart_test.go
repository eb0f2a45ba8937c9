package revoke

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/proxy/auth/revoke/revoketest"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// fleet is a set of gateway instances (stores) on one private Redis, each reaching it
// through a proxy the test can cut. Old instances run through every restart; new ones
// are started after one.
type fleet struct {
	t      *testing.T
	srv    *revoketest.Server
	prefix string

	mu   sync.Mutex
	old  []*Redis
	new  []*Redis
	pxs  []*testkit.TCPProxy
	toks []revokedToken
}

// revokedToken is a token that must never be accepted once its user's revocation exists.
type revokedToken struct {
	user string
	iat  time.Time
}

func (f *fleet) start(url string) *Redis {
	f.t.Helper()
	r, err := NewRedis(Config{Secret: secret}, RedisConfig{URL: url, Prefix: f.prefix,
		PingInterval: 50 * time.Millisecond, RepairWait: 3 * time.Second})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = r.Close() })
	return r
}

// startOld starts an instance of the fleet running before the restarts.
func (f *fleet) startOld() *Redis { return f.startProxied(&f.old) }

// startNew starts an instance after a restart; it is watched from birth.
func (f *fleet) startNew() *Redis { return f.startProxied(&f.new) }

// startProxied starts an instance behind its own cuttable proxy and adds it to *to.
func (f *fleet) startProxied(to *[]*Redis) *Redis {
	url, px := revoketest.ProxyURL(f.t, f.srv.URL())
	r := f.start(url)
	f.mu.Lock()
	*to, f.pxs = append(*to, r), append(f.pxs, px)
	f.mu.Unlock()
	return r
}

func (f *fleet) all() []*Redis {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(append([]*Redis(nil), f.old...), f.new...)
}

// waitCurrent waits for the stores' views to be current, allowing for RepairWait.
func (f *fleet) waitCurrent(rs ...*Redis) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, r := range rs {
		if err := r.WaitCurrent(ctx); err != nil {
			f.t.Fatalf("%v (%v)", err, r.Ready())
		}
	}
}

// revoke logs user out through r and registers the tokens that must be refused from now
// on: one issued before the logout and one inside the lock-out. It returns the token
// time just after the cut-off, which must stay accepted.
func (f *fleet) revoke(r *Redis, user string) time.Time {
	f.t.Helper()
	now := time.Now()
	rev, err := r.Revoke(context.Background(), tenantA, user)
	if err != nil || !rev.Notified {
		f.t.Fatalf("revoke: %+v %v", rev, err)
	}
	// A logout reaches the other instances through pub/sub, a moment later: the watch
	// starts once every instance refuses the user's tokens.
	for _, o := range f.all() {
		eventually(f.t, "every instance learns the logout", func() bool { return o.Check(tenantA, user, now) == Revoked })
	}
	f.mu.Lock()
	f.toks = append(f.toks, revokedToken{user, now.Add(-time.Minute)},
		revokedToken{user, rev.CutOff.Truncate(time.Second)})
	f.mu.Unlock()
	return rev.CutOff.Truncate(time.Second).Add(time.Second)
}

// watch checks every registered revoked token on every instance, in the background,
// from its start until stop, and counts the answers that accept one.
type watch struct {
	accepted, checks atomic.Int64
	stop             context.CancelFunc
	done             chan struct{}
}

func (f *fleet) startWatch() *watch {
	ctx, stop := context.WithCancel(context.Background())
	w := &watch{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			f.checkRevoked(w)
			time.Sleep(time.Millisecond)
		}
	}()
	return w
}

// checkRevoked checks each registered token once on each instance.
func (f *fleet) checkRevoked(w *watch) {
	f.mu.Lock()
	toks := append([]revokedToken(nil), f.toks...)
	f.mu.Unlock()
	for i, r := range f.all() {
		for _, tk := range toks {
			w.checks.Add(1)
			if r.Check(tenantA, tk.user, tk.iat) == Allow && w.accepted.Add(1) == 1 {
				f.t.Errorf("instance %d accepted a revoked token (ready: %v)", i, r.Ready())
			}
		}
	}
}

// finish stops the watch and reports the fleet's figures on the FAULT line.
func (f *fleet) finish(w *watch) {
	w.stop()
	<-w.done
	if w.checks.Load() == 0 {
		f.t.Error("the watch checked nothing")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t.Logf("FAULT redis_restart: restarts=%d instances_old=%d instances_new=%d revoked_tokens_accepted=%d repaired_markers=%d",
		f.srv.Starts()-1, len(f.old), len(f.new), w.accepted.Load(), f.repaired())
}

// repaired sums the markers the instances wrote back; callers hold f.mu.
func (f *fleet) repaired() int64 {
	n := int64(0)
	for _, r := range append(append([]*Redis(nil), f.old...), f.new...) {
		n += r.repaired.Load()
	}
	return n
}

// restartBeforeRepair crashes Redis while every running instance is cut off from it,
// starts a new instance, and checks that, having loaded the empty list, it waits for
// the others (refusing, not accepting, what it cannot check) until they are back.
func (f *fleet) restartBeforeRepair(after map[string]time.Time) {
	f.t.Helper()
	f.mu.Lock()
	running := append([]*testkit.TCPProxy(nil), f.pxs...)
	f.mu.Unlock()
	for _, px := range running {
		px.Cut()
	}
	f.srv.Restart(syscall.SIGKILL)
	n := f.startNew()
	eventually(f.t, "the new instance loads the empty list and waits for a repair", func() bool {
		err := n.Ready()
		return err != nil && strings.Contains(err.Error(), "not marked complete")
	})
	if v := n.Check(tenantA, userX, after[userX].Add(-time.Second)); v != Unverifiable {
		f.t.Errorf("a new instance on a list nobody vouches for answers %v, want unverifiable", v)
	}
	for _, px := range running {
		px.Restore()
	}
}

// assertAll checks that every instance, once current, refuses the revoked tokens and
// accepts the tokens issued after the cut-offs.
func (f *fleet) assertAll(what string, after map[string]time.Time) {
	f.t.Helper()
	rs := f.all()
	f.waitCurrent(rs...)
	f.mu.Lock()
	toks := append([]revokedToken(nil), f.toks...)
	f.mu.Unlock()
	for i, r := range rs {
		for _, tk := range toks {
			if v := r.Check(tenantA, tk.user, tk.iat); v != Revoked {
				f.t.Errorf("%s: instance %d answers %v for a revoked token", what, i, v)
			}
		}
		for user, iat := range after {
			if v := r.Check(tenantA, user, iat); v != Allow {
				f.t.Errorf("%s: instance %d answers %v for a token issued after the cut-off", what, i, v)
			}
		}
	}
}

// TestRedisRestartWithoutPersistenceKeepsRevocations restarts a real Redis that has no
// persistence, as the shipped Kubernetes manifest runs it, and checks that no instance,
// old or new, accepts a revoked token at any time: old instances write back what they
// hold, and a new instance does not trust a list that Redis no longer vouches for.
func TestRedisRestartWithoutPersistenceKeepsRevocations(t *testing.T) {
	f := &fleet{t: t, srv: revoketest.StartServer(t), prefix: "ggtest-restart"}
	a, b := f.startOld(), f.startOld()
	f.waitCurrent(a, b) // a first start: they wait RepairWait for holders, find none
	after := map[string]time.Time{userX: f.revoke(a, userX)}

	w := f.startWatch()
	defer f.finish(w)
	rc := redis.NewClient(&redis.Options{Addr: f.srv.Addr()})
	defer rc.Close()
	markerX := f.prefix + ":revoked:" + Key(secret, tenantA, userX)

	// 1. Redis restarts empty; the old instances reconnect and repair; then a new one starts.
	f.srv.Restart(syscall.SIGTERM)
	eventually(t, "the old instances write the revocation back", func() bool { return rc.Exists(context.Background(), markerX).Val() == 1 })
	if ttl := rc.PTTL(context.Background(), markerX).Val(); ttl > DefaultLockout+DefaultMaxTokenLifetime || ttl <= 0 {
		t.Errorf("repaired TTL %v: want what remained, never more than the retention", ttl)
	}
	f.startNew()
	f.assertAll("restart, repair, then a new instance", after)

	// 2a. Redis crashes; a new instance is started while it is down and races the old ones.
	after[userY] = f.revoke(b, userY)
	f.srv.Stop(syscall.SIGKILL)
	f.startNew()
	f.srv.Start()
	f.assertAll("a new instance racing the repair", after)

	// 2b. Redis crashes and the running instances (old, and new ones started so far)
	// reach it only after a new instance has loaded the empty list.
	f.restartBeforeRepair(after)
	f.assertAll("a new instance started before the repair", after)

	f.mu.Lock()
	n := f.repaired()
	f.mu.Unlock()
	if n != 5 { // each restart loses every marker: one user's, then two users' twice
		t.Errorf("repaired %d markers, want 5", n)
	}
}

// TestRedisPutKeepsTheLatestCutOff checks the write that logouts and repairs share:
// concurrent writers never lower a cut-off, and a write of the same cut-off never
// extends the TTL.
func TestRedisPutKeepsTheLatestCutOff(t *testing.T) {
	e := newRedisEnv(t)
	r := e.store("", Config{})
	ctx := context.Background()
	rc := redis.NewClient(mustParse(t, e.url))
	defer rc.Close()
	key := Key(secret, tenantA, userX)
	base := time.Now().Truncate(time.Millisecond)
	rec := func(cut time.Duration) record {
		return record{Op: "revoke", Tenant: tenantA, Key: key, CutOff: base.Add(cut).UnixMilli(),
			Expires: base.Add(cut + time.Hour).UnixMilli(), Origin: "test"}
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.put(ctx, r.client, rec(time.Duration(i)*time.Second), time.Hour, false).Err(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, ok := parseRecord(rc.Get(ctx, e.prefix+":revoked:"+key).Val())
	if want := rec(49 * time.Second).CutOff; !ok || got.CutOff != want {
		t.Fatalf("after concurrent writes the cut-off is %d, want the latest %d", got.CutOff, want)
	}
	for _, tc := range []struct {
		name string
		rec  record
		ttl  time.Duration
	}{
		{"an earlier cut-off", rec(time.Second), 2 * time.Hour},
		{"the same cut-off with a longer TTL", rec(49 * time.Second), 3 * time.Hour},
	} {
		if _, _, err := putAnswer(r.put(ctx, r.client, tc.rec, tc.ttl, true)); err != nil {
			t.Fatal(err)
		}
		got, _ := parseRecord(rc.Get(ctx, e.prefix+":revoked:"+key).Val())
		if ttl := rc.PTTL(ctx, e.prefix+":revoked:"+key).Val(); got.CutOff != rec(49*time.Second).CutOff || ttl > time.Hour {
			t.Errorf("%s: cut-off %d ttl %v, want the latest cut-off and at most an hour", tc.name, got.CutOff, ttl)
		}
	}
}

// TestRedisResyncRepairsAMissingMarker deletes one revocation from Redis behind the
// instances' backs (the list's completeness marker stays): the periodic resync, the
// safety net, writes it back.
func TestRedisResyncRepairsAMissingMarker(t *testing.T) {
	e := newRedisEnv(t)
	cfg := Config{Secret: secret}
	r, err := NewRedis(cfg, RedisConfig{URL: e.url, Prefix: e.prefix, PingInterval: 50 * time.Millisecond,
		ResyncInterval: 200 * time.Millisecond, RepairWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitCurrent(t, r)
	if _, err := r.Revoke(context.Background(), tenantA, userX); err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(mustParse(t, e.url))
	defer rc.Close()
	marker := e.prefix + ":revoked:" + Key(secret, tenantA, userX)
	if n := rc.Del(context.Background(), marker).Val(); n != 1 {
		t.Fatalf("deleted %d keys", n)
	}
	eventually(t, "the resync writes the revocation back", func() bool {
		return rc.Exists(context.Background(), marker).Val() == 1
	})
	if n := r.repaired.Load(); n != 1 {
		t.Errorf("repaired %d markers, want 1", n)
	}
}
