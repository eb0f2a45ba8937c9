package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy"
)

// peopleReads answers a people request and returns how many People API reads and how
// many Graph requests in all it made.
func peopleReads(t *testing.T, e *env, path, tok string) (reads, calls int) {
	t.Helper()
	r0, c0 := e.emu.Count(peopleRoute), len(e.emu.Requests())
	if a, err := fetchPeople(e.url, path, tok); err != nil || a.status != http.StatusOK {
		t.Fatalf("%s: %d %s (%v)", path, a.status, a.body, err)
	}
	return e.emu.Count(peopleRoute) - r0, len(e.emu.Requests()) - c0
}

// TestPeopleCachedPerOwnerAndSearch: a people list is read from Graph once per owner and
// search: an identical request, or another caller's request of the same owner's list,
// makes no Graph call at all; another search or another owner does; and an admin
// logout of the owner, a logout of a listed colleague or a purge of the tenant drops the
// cached list, so that the next request reads Graph again.
func TestPeopleCachedPerOwnerAndSearch(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(0)
	users := e.enabledUsers(0)
	owner, other, third := users[20], users[25], users[30]
	own := mustMint(e, tn, "chat-web", owner.ID)
	dirTok := mustMint(e, tn, "intranet-directory", other.ID)
	admin := e.token(0, "chat-web", e.withRole(0, proxy.RoleAdmin))
	search := "/v1.0/me/people?$search=" + url.QueryEscape(`"a"`)
	ofOwner := "/v1.0/users/" + owner.ID + "/people"
	step := func(name, path, tok string, wantReads int, noCalls bool) {
		t.Helper()
		reads, calls := peopleReads(t, e, path, tok)
		if reads != wantReads || (noCalls && calls != 0) {
			t.Errorf("%s: %d People API reads and %d Graph requests, want %d reads", name, reads, calls, wantReads)
		}
	}
	step("first request", "/v1.0/me/people", own, 1, false)
	step("identical request", "/v1.0/me/people", own, 0, true)
	step("another page of the same list", "/v1.0/me/people?$top=3&$skip=3", own, 0, false)
	step("a search", search, own, 1, false)
	step("the same search", search, own, 0, true)
	ofOwnerReads, _ := peopleReads(t, e, ofOwner, dirTok) // Related reads the org chart; the list is cached
	if ofOwnerReads != 0 {
		t.Errorf("another caller's request of the owner's list made %d People API reads, want 0", ofOwnerReads)
	}
	step("another owner", "/v1.0/me/people", mustMint(e, tn, "chat-web", other.ID), 1, false)

	if r := e.logout(admin, owner.ID); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	step("the owner's list after the owner's logout", ofOwner, dirTok, 1, false)

	thirdTok := mustMint(e, tn, "chat-web", third.ID)
	step("a third owner", "/v1.0/me/people?$top=100", thirdTok, 1, false)
	listed, err := fetchPeople(e.url, "/v1.0/me/people?$top=100", thirdTok)
	if err != nil || len(listed.people) == 0 {
		t.Fatalf("the third owner lists nobody: %v", err)
	}
	if r := e.logout(admin, idsOf(listed.people)[len(listed.people)-1]); r.Status != http.StatusOK {
		t.Fatalf("logout of a listed colleague: %d %s", r.Status, r.Body)
	}
	step("a list after a listed colleague's logout", "/v1.0/me/people?$top=100", thirdTok, 1, false)

	step("cached before the purge", "/v1.0/me/people", mustMint(e, tn, "chat-web", other.ID), 0, true)
	if r := e.do(http.MethodPost, "/admin/v1/cache/purge", admin, nil); r.Status != http.StatusOK {
		t.Fatalf("purge: %d %s", r.Status, r.Body)
	}
	step("after a purge of the tenant", "/v1.0/me/people", mustMint(e, tn, "chat-web", other.ID), 1, false)
}

// heldPeople is a tenant's upstream whose People API reads wait until release is closed.
type heldPeople struct {
	proxy.Upstream
	calls   atomic.Int32
	entered chan struct{} // signalled (without blocking) by each held call
	release chan struct{}
}

func (h *heldPeople) People(ctx context.Context, id, search string, directory bool, top int) ([]string, error) {
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
	return h.Upstream.People(ctx, id, search, directory, top)
}

// TestPeopleConcurrentMissesMakeOneRead holds Graph's People API answer until 50
// identical requests for a list not yet cached have reached the gateway: single-flight
// must keep them to one People API read.
func TestPeopleConcurrentMissesMakeOneRead(t *testing.T) {
	const n = 50
	var held *heldPeople
	e := newEnv(t, func(c *proxy.Config) {
		held = &heldPeople{Upstream: c.Tenants[0].Upstream, entered: make(chan struct{}, 1), release: make(chan struct{})}
		c.Tenants[0].Upstream = held
	})
	release := sync.OnceFunc(func() { close(held.release) })
	t.Cleanup(release)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[8])
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK { // warms the token and the caller
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
			a, err := fetchPeople(front.URL, "/v1.0/me/people?$top=5", tok)
			if err == nil {
				statuses[i] = a.status
			}
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
		t.Fatal("no People API read")
	}
	time.Sleep(50 * time.Millisecond) // let the other requests reach the load in flight
	if c := held.calls.Load(); c != 1 {
		t.Errorf("%d People API reads while %d requests wait for one list, want 1", c, n)
	}
	release()
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	if c, g := held.calls.Load(), e.emu.Count(peopleRoute); c != 1 || g != 1 {
		t.Errorf("%d concurrent requests made %d People API calls (%d reached Graph), want 1", n, c, g)
	}
	if shared := e.srv.CacheStats().Shared - before.Shared; shared < 1 {
		t.Errorf("no request joined the People API read in flight (%d shared)", shared)
	}
}
