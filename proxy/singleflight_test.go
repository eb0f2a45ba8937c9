package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/proxy"
)

// heldUser is a tenant's upstream whose reads of one user wait until release is closed:
// Graph's answer is held while requests for that user pile up at the gateway.
type heldUser struct {
	proxy.Upstream
	id      atomic.Value // string: the user whose reads are held
	calls   atomic.Int32
	entered chan struct{} // signalled (without blocking) by each held call
	release chan struct{}
}

func (h *heldUser) User(ctx context.Context, idOrUPN string, fields []string) (graph.User, error) {
	if id, _ := h.id.Load().(string); id != "" && strings.EqualFold(idOrUPN, id) {
		h.calls.Add(1)
		select {
		case h.entered <- struct{}{}:
		default:
		}
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Upstream.User(ctx, idOrUPN, fields)
}

// TestConcurrentMissesMakeOneUpstreamCall holds Graph's answer for one user until n
// requests for that user have reached the gateway. Nothing is cached while the answer is
// held, so only single-flight can keep the upstream calls at one: without it, every
// request that missed the cache would make its own call.
func TestConcurrentMissesMakeOneUpstreamCall(t *testing.T) {
	const n = 50
	var held *heldUser
	e := newEnv(t, func(c *proxy.Config) {
		held = &heldUser{Upstream: c.Tenants[0].Upstream, entered: make(chan struct{}, 1), release: make(chan struct{})}
		c.Tenants[0].Upstream = held
	})
	release := sync.OnceFunc(func() { close(held.release) })
	t.Cleanup(release)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	target := e.enabledUsers(0)[5]
	held.id.Store(target.ID)
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK { // warms the token and the caller, not the target
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	e.emu.ResetRequests()
	before := e.srv.CacheStats()

	arrived := make(chan struct{}, n)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		e.srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, front.URL+"/v1.0/users/"+target.ID, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // status 0: reported below
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	timeout := time.After(20 * time.Second)
	for i := range n {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatalf("%d of %d requests reached the gateway", i, n)
		}
	}
	select {
	case <-held.entered:
	case <-timeout:
		t.Fatal("no upstream call for the user")
	}
	if c := held.calls.Load(); c != 1 {
		t.Errorf("%d upstream calls while %d requests wait for one user, want 1", c, n)
	}
	release()
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	if c, g := held.calls.Load(), e.emu.Count("GET /v1.0/users/{id}"); c != 1 || g != 1 {
		t.Errorf("%d concurrent requests made %d upstream calls (%d reached Graph), want 1", n, c, g)
	}
	// A request that reached the cache only after the release is a hit, which caching
	// alone would explain; one that joined the held load can only be single-flight's.
	if shared := e.srv.CacheStats().Shared - before.Shared; shared < 1 {
		t.Errorf("no request joined the load in flight (%d shared): the calls were not coalesced", shared)
	}
}
