package proxy_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
)

// withUpstreamTimeout sets the gateway's request deadline.
func withUpstreamTimeout(d time.Duration) func(*proxy.Config) {
	return func(c *proxy.Config) { c.UpstreamTimeout = d }
}

// TestRequestDeadlineBoundsTheWholeRequest: a read that needs two Graph calls (the
// caller's own record, then the target), each within the per-call timeout, is answered
// 503 in Graph's envelope at the one request deadline instead of after both calls; the
// loads it started run on and fill the cache, so the next read is served.
func TestRequestDeadlineBoundsTheWholeRequest(t *testing.T) {
	e := newEnv(t, withUpstreamTimeout(time.Second))
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	e.emu.SetFault(emuRouteUser, emulator.Fault{Latency: 700 * time.Millisecond})
	r := e.get("/v1.0/users/"+users[1].ID, tok)
	if r.Status != http.StatusServiceUnavailable || errorCode(t, r) != "serviceNotAvailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("two 0.7 s calls under a 1 s deadline: %d %s, want 503 serviceNotAvailable with Retry-After", r.Status, r.Body)
	}
	calls := 0
	waitUntil(t, "the loads to finish", func() bool { calls = e.emu.Count(emuRouteUser); return calls >= 2 })
	e.emu.SetFault(emuRouteUser, emulator.Fault{})
	if r := e.get("/v1.0/users/"+users[1].ID, tok); r.Status != http.StatusOK {
		t.Fatalf("after the loads finished: %d %s", r.Status, r.Body)
	}
	if n := e.emu.Count(emuRouteUser); n != calls {
		t.Errorf("the next read made %d more calls: the cut request's loads were not kept", n-calls)
	}
	t.Logf("FAULT request_deadline: deadline_ms=1000 call_ms=700 calls=2 status=503 loads_kept=%t", e.emu.Count(emuRouteUser) == calls)
}

// TestRequestDeadlineDoesNotFailASharedLoad: two requests wait for one shared load
// (cache singleflight); the first one's deadline passes before the load ends, the
// second one's does not. The first is answered 503, the second 200 from that same
// single load: one caller's deadline does not cancel a load others wait for.
func TestRequestDeadlineDoesNotFailASharedLoad(t *testing.T) {
	e := newEnv(t, withUpstreamTimeout(2*time.Second))
	users := e.enabledUsers(0)
	a, b := e.token(0, "chat-web", users[0]), e.token(0, "chat-web", users[1])
	for _, tok := range []string{a, b} { // the callers' own records, cached
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("/me: %d %s", r.Status, r.Body)
		}
	}
	before := e.emu.Count(emuRouteUser)
	e.emu.SetFault(emuRouteUser, emulator.Fault{Latency: 3 * time.Second})
	target := "/v1.0/users/" + users[2].ID
	var first, second response
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); first = e.get(target, a) }()
	go func() {
		defer wg.Done()
		time.Sleep(1500 * time.Millisecond) // joins the flight half-way: its deadline is past the load's end
		second = e.get(target, b)
	}()
	wg.Wait()
	calls := e.emu.Count(emuRouteUser) - before
	t.Logf("FAULT shared_load_deadline: first=%d second=%d graph_calls=%d", first.Status, second.Status, calls)
	if first.Status != http.StatusServiceUnavailable || errorCode(t, first) != "serviceNotAvailable" {
		t.Errorf("the first caller, past its deadline: %d %s, want 503", first.Status, first.Body)
	}
	if second.Status != http.StatusOK {
		t.Errorf("the second caller: %d %s, want 200 from the shared load", second.Status, second.Body)
	}
	if calls != 1 {
		t.Errorf("%d Graph calls, want the one shared load", calls)
	}
}

// TestBatchItemsShareTheBatchDeadline: the items of a $batch are bounded by the batch's
// one deadline, not one each: once it has passed, the items left are answered 503
// inside the batch's 200.
func TestBatchItemsShareTheBatchDeadline(t *testing.T) {
	e := newEnv(t, withUpstreamTimeout(time.Second))
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[0])
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	e.emu.SetFault("", emulator.Fault{Latency: 700 * time.Millisecond})
	x := users[1].ID
	r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/" + x},
		{"id": "2", "method": "GET", "url": "/users/" + x + "/manager"},
		{"id": "3", "method": "GET", "url": "/users/" + x + "/directReports"},
	}})
	var out struct {
		Responses []struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
		} `json:"responses"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil || len(out.Responses) != 3 {
		t.Fatalf("$batch: %d %s", r.Status, r.Body)
	}
	got := map[string]int{}
	for _, it := range out.Responses {
		got[it.ID] = it.Status
	}
	t.Logf("FAULT batch_deadline: deadline_ms=1000 call_ms=700 items=3 statuses=%v", got)
	if got["1"] != http.StatusOK || got["2"] != http.StatusServiceUnavailable || got["3"] != http.StatusServiceUnavailable {
		t.Errorf("item statuses %v, want 1: 200, then 503 for the items past the batch's deadline", got)
	}
}

// TestRequestDeadlineNeverAnswers500: with every Graph call slower than the request
// deadline, every read route answers 200 (a load an earlier request started may have
// filled the cache) or an error in Graph's envelope, never 500.
func TestRequestDeadlineNeverAnswers500(t *testing.T) {
	e := newEnv(t, withUpstreamTimeout(400*time.Millisecond))
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[0])
	e.emu.SetFault("", emulator.Fault{Latency: 600 * time.Millisecond})
	x, y := users[1].ID, users[2].ID
	eventual := []string{"ConsistencyLevel", "eventual"}
	reqs := []struct {
		method, path string
		body         any
		headers      []string
	}{
		{"GET", "/v1.0/me", nil, nil},
		{"GET", "/v1.0/users/" + x, nil, nil},
		{"GET", "/v1.0/me?$expand=manager", nil, nil},
		{"GET", `/v1.0/users?$search="displayName:a"&$count=true`, nil, eventual},
		{"GET", "/v1.0/users/$count", nil, eventual},
		{"GET", "/v1.0/users/" + y + "/manager", nil, nil},
		{"GET", "/v1.0/users/" + y + "/directReports", nil, nil},
		{"GET", "/v1.0/users/" + x + "/photo/$value", nil, nil},
		{"GET", "/v1.0/users/" + x + "/presence", nil, nil},
		{"POST", "/v1.0/communications/getPresencesByUserId", map[string]any{"ids": []string{x, y}}, nil},
		{"POST", "/v1.0/$batch", map[string]any{"requests": []map[string]any{
			{"id": "1", "method": "GET", "url": "/users/" + users[3].ID}, {"id": "2", "method": "GET", "url": "/users/" + users[4].ID}}}, nil},
		{"GET", "/privacy/v1/me/export", nil, nil},
	}
	n503 := 0
	for _, rq := range reqs {
		r := e.do(rq.method, rq.path, tok, rq.body, rq.headers...)
		switch {
		case r.Status == http.StatusInternalServerError:
			t.Errorf("%s %s: 500 %s", rq.method, rq.path, r.Body)
		case r.Status >= 400 && errorCode(t, r) == "":
			t.Errorf("%s %s: %d without Graph's error envelope: %s", rq.method, rq.path, r.Status, r.Body)
		}
		if r.Status == http.StatusServiceUnavailable {
			n503++
		}
	}
	t.Logf("FAULT deadline_no_500: deadline_ms=400 call_ms=600 routes=%d answered_503=%d", len(reqs), n503)
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
