package proxy_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// Route templates of the emulator the limit tests slow down or count.
const (
	emuRouteUser  = "GET /v1.0/users/{id}"
	emuRoutePhoto = "GET /v1.0/users/{id}/photos/{size}/$value"
)

// inflight counts one tenant's upstream calls in flight and the most seen at once.
type inflight struct {
	mu       sync.Mutex
	cur, max int
}

// enter counts a call in; the returned function counts it out.
func (g *inflight) enter() func() {
	g.mu.Lock()
	g.cur++
	g.max = max(g.max, g.cur)
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.cur--
		g.mu.Unlock()
	}
}

// now returns the calls in flight and the most seen at once.
func (g *inflight) now() (cur, most int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur, g.max
}

// countingUpstream is a tenant's real graph client that counts its calls in flight.
type countingUpstream struct {
	up proxy.Upstream
	g  *inflight
}

func (c countingUpstream) User(ctx context.Context, id string, f []string) (graph.User, error) {
	defer c.g.enter()()
	return c.up.User(ctx, id, f)
}

func (c countingUpstream) Users(ctx context.Context, q graph.Query) (graph.UserPage, error) {
	defer c.g.enter()()
	return c.up.Users(ctx, q)
}

func (c countingUpstream) Manager(ctx context.Context, id string, f []string) (graph.User, error) {
	defer c.g.enter()()
	return c.up.Manager(ctx, id, f)
}

func (c countingUpstream) DirectReports(ctx context.Context, id string, f []string) ([]graph.User, error) {
	defer c.g.enter()()
	return c.up.DirectReports(ctx, id, f)
}

func (c countingUpstream) Photo(ctx context.Context, id, size string) (graph.Photo, error) {
	defer c.g.enter()()
	return c.up.Photo(ctx, id, size)
}

func (c countingUpstream) Presence(ctx context.Context, id string) (graph.Presence, error) {
	defer c.g.enter()()
	return c.up.Presence(ctx, id)
}

func (c countingUpstream) Presences(ctx context.Context, ids []string) ([]graph.Presence, error) {
	defer c.g.enter()()
	return c.up.Presences(ctx, ids)
}

func (c countingUpstream) UsersByID(ctx context.Context, ids, f []string) (map[string]graph.BatchResult, error) {
	defer c.g.enter()()
	return c.up.UsersByID(ctx, ids, f)
}

func (c countingUpstream) RevokeSignInSessions(ctx context.Context, id string) error {
	defer c.g.enter()()
	return c.up.RevokeSignInSessions(ctx, id)
}

func (c countingUpstream) People(ctx context.Context, id, search string, directory bool, top int) ([]string, error) {
	defer c.g.enter()()
	return c.up.People(ctx, id, search, directory, top)
}

// limitedEnv is a test gateway whose graph clients never retry and count their calls
// in flight per tenant (inflight[i] for tenant i), with the given upstream limits.
func limitedEnv(t *testing.T, concurrency int, queueWait time.Duration) (*env, []*inflight) {
	t.Helper()
	var gauges []*inflight
	e := newEnvWith(t, proxytest.Options{GraphMaxRetries: -1, Configure: func(c *proxy.Config) {
		c.UpstreamConcurrency, c.UpstreamQueueWait = concurrency, queueWait
		for i := range c.Tenants {
			g := &inflight{}
			gauges = append(gauges, g)
			c.Tenants[i].Upstream = countingUpstream{up: c.Tenants[i].Upstream, g: g}
		}
	}})
	return e, gauges
}

// retryAfter returns a response's Retry-After in whole seconds (0 when absent or bad).
func retryAfter(r response) int {
	n, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	return n
}

// TestUpstreamCallsPerTenantAreBounded sends many concurrent cache misses to one tenant
// while Graph is slow: the calls in flight reach the configured bound and never exceed
// it, and every request is still answered.
func TestUpstreamCallsPerTenantAreBounded(t *testing.T) {
	const bound = 3
	e, gauges := limitedEnv(t, bound, 30*time.Second)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK { // the caller's record is cached now
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	e.emu.SetFault(emuRouteUser, emulator.Fault{Latency: 300 * time.Millisecond})
	statuses := make([]int, 12)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = e.get("/v1.0/users/"+users[i+1].ID, tok).Status })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: %d", i, s)
		}
	}
	if _, most := gauges[0].now(); most != bound {
		t.Errorf("at most %d upstream calls were in flight for the tenant, want exactly the bound %d", most, bound)
	}
}

// TestSaturatedTenantAnswers503AndSparesOthers holds tenant 0's only upstream slot with
// a slow photo: a read of tenant 0 that waits longer than the queue wait gets 503 in
// Graph's envelope with Retry-After and never reaches Graph, while tenant 1 is served.
func TestSaturatedTenantAnswers503AndSparesOthers(t *testing.T) {
	const queueWait = 200 * time.Millisecond
	e, gauges := limitedEnv(t, 1, queueWait)
	var withPhoto emulator.UserInfo
	for _, u := range e.enabledUsers(0)[1:] {
		if full, _ := e.emu.User(e.tenant(0).ID, u.ID); full.HasPhoto {
			withPhoto = u
			break
		}
	}
	caller, target := e.enabledUsers(0)[0], e.enabledUsers(0)[len(e.enabledUsers(0))-1]
	tok0, tok1 := e.token(0, "chat-web", caller), e.token(1, "chat-web", e.enabledUsers(1)[0])
	for _, warm := range []struct{ path, tok string }{{"/v1.0/me", tok0}, {"/v1.0/me", tok1},
		{"/v1.0/users/" + withPhoto.ID, tok0}} {
		if r := e.get(warm.path, warm.tok); r.Status != http.StatusOK {
			t.Fatalf("warm-up %s: %d %s", warm.path, r.Status, r.Body)
		}
	}
	e.emu.SetFault(emuRoutePhoto, emulator.Fault{Latency: 2 * time.Second})
	slow := make(chan response, 1)
	go func() { slow <- e.get("/v1.0/users/"+withPhoto.ID+"/photos/48x48/$value", tok0) }()
	if !until(5*time.Second, func() bool { cur, _ := gauges[0].now(); return cur == 1 }) {
		t.Fatal("the slow photo never reached Graph")
	}
	before := e.emu.Count(emuRouteUser)

	t.Run("the saturated tenant answers 503 after the queue wait", func(t *testing.T) {
		start := time.Now()
		r := e.get("/v1.0/users/"+target.ID, tok0)
		if r.Status != http.StatusServiceUnavailable || errorCode(t, r) != "serviceNotAvailable" || retryAfter(r) < 1 {
			t.Fatalf("%d Retry-After %q %s; want 503 serviceNotAvailable with Retry-After", r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		if waited := time.Since(start); waited < queueWait {
			t.Errorf("answered after %v, before the queue wait of %v", waited, queueWait)
		}
		if n := e.emu.Count(emuRouteUser); n != before {
			t.Errorf("the refused read reached Graph (%d user reads, want %d)", n, before)
		}
	})
	t.Run("another tenant is served meanwhile", func(t *testing.T) {
		r := e.get("/v1.0/users/"+e.enabledUsers(1)[2].ID, tok1)
		if r.Status != http.StatusOK {
			t.Fatalf("tenant 1 read: %d %s", r.Status, r.Body)
		}
	})
	if cur, most := gauges[0].now(); cur != 1 || most != 1 {
		t.Errorf("tenant 0 had %d calls in flight (most %d) when the others were answered, want the slow photo alone", cur, most)
	}
	if r := <-slow; r.Status != http.StatusOK {
		t.Errorf("slow photo: %d %s", r.Status, r.Body)
	}
}

// TestGraphThrottlingClosesTheGateUntilRetryAfter lets Graph answer one read with 429:
// the gateway answers 429 with Retry-After in Graph's envelope, and until that delay has
// passed answers further cache misses of the tenant 429 without calling Graph, while
// cached data and other tenants are still served; afterwards it calls Graph again.
func TestGraphThrottlingClosesTheGateUntilRetryAfter(t *testing.T) {
	const delay = 2 * time.Second
	e, _ := limitedEnv(t, 16, 2*time.Second)
	users := e.enabledUsers(0)
	tok, tok1 := e.token(0, "chat-web", users[0]), e.token(1, "chat-web", e.enabledUsers(1)[0])
	for _, warm := range []string{tok, tok1} {
		if r := e.get("/v1.0/me", warm); r.Status != http.StatusOK {
			t.Fatalf("/me: %d %s", r.Status, r.Body)
		}
	}
	// Graph's budget for the tenant is one call; the next is answered 429, Retry-After 2.
	e.emu.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: delay})
	t.Cleanup(e.emu.ResetFaults)
	if r := e.get("/v1.0/users/"+users[1].ID, tok); r.Status != http.StatusOK {
		t.Fatalf("read within Graph's budget: %d %s", r.Status, r.Body)
	}
	start := time.Now()
	r := e.get("/v1.0/users/"+users[2].ID, tok)
	if r.Status != http.StatusTooManyRequests || errorCode(t, r) != "TooManyRequests" || retryAfter(r) != 2 {
		t.Fatalf("%d Retry-After %q %s; want 429 TooManyRequests with Retry-After 2", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	e.emu.ResetFaults() // Graph would answer now: only the gateway's gate refuses
	calls := len(graphRequests(e))

	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Errorf("cached /me while the gate is closed: %d", r.Status)
	}
	if r := e.get("/v1.0/users/"+e.enabledUsers(1)[3].ID, tok1); r.Status != http.StatusOK {
		t.Errorf("another tenant while the gate is closed: %d %s", r.Status, r.Body)
	}
	calls1 := len(graphRequests(e)) // tenant 1's read
	gated := 0
	opened := until(10*time.Second, func() bool {
		r := e.get("/v1.0/users/"+users[3].ID, tok)
		switch {
		case r.Status == http.StatusTooManyRequests:
			gated++
			if n := len(graphRequests(e)); n != calls1 {
				t.Fatalf("a gated read called Graph (%d calls, want %d)", n, calls1)
			}
			if retryAfter(r) < 1 {
				t.Errorf("gated 429 without Retry-After: %v", r.Header)
			}
			return false
		case r.Status != http.StatusOK:
			t.Fatalf("read during the gate: %d %s", r.Status, r.Body)
		}
		return true
	})
	if !opened {
		t.Fatal("the gate never opened")
	}
	if since := time.Since(start); since < delay {
		t.Errorf("Graph was called again %v after its 429, before its Retry-After of %v", since, delay)
	}
	if gated == 0 || calls1 == calls {
		t.Errorf("%d gated answers and %d calls for the other tenant: the gate was not observed", gated, calls1-calls)
	}
}
