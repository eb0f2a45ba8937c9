package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
	// Each call fits the deadline; the two together exceed it by 1 s.
	const deadline, call = 2 * time.Second, 1500 * time.Millisecond
	e := newEnv(t, withUpstreamTimeout(deadline))
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	e.emu.SetFault(emuRouteUser, emulator.Fault{Latency: call})
	r := e.get("/v1.0/users/"+users[1].ID, tok)
	if r.Status != http.StatusServiceUnavailable || errorCode(t, r) != "serviceNotAvailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("two %s calls under a %s deadline: %d %s, want 503 serviceNotAvailable with Retry-After", call, deadline, r.Status, r.Body)
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
	t.Logf("FAULT request_deadline: deadline_ms=%d call_ms=%d calls=2 status=503 loads_kept=%t",
		deadline.Milliseconds(), call.Milliseconds(), e.emu.Count(emuRouteUser) == calls)
}

// TestRequestDeadlineDoesNotFailASharedLoad: two requests wait for one shared load
// (cache singleflight); the first one's deadline passes before the load ends, the
// second one's does not. The first is answered 503, the second 200 from that same
// single load: one caller's deadline does not cancel a load others wait for.
//
// The load takes 1.5 deadlines and the second request is sent when the first is
// answered (one deadline in): the first is cut half a deadline before the load ends,
// and the second's deadline is half a deadline after it.
func TestRequestDeadlineDoesNotFailASharedLoad(t *testing.T) {
	const deadline, load = 3 * time.Second, 4500 * time.Millisecond
	e := newEnv(t, withUpstreamTimeout(deadline))
	users := e.enabledUsers(0)
	a, b := e.token(0, "chat-web", users[0]), e.token(0, "chat-web", users[1])
	for _, tok := range []string{a, b} { // the callers' own records, cached
		if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
			t.Fatalf("/me: %d %s", r.Status, r.Body)
		}
	}
	before := e.emu.Count(emuRouteUser)
	e.emu.SetFault(emuRouteUser, emulator.Fault{Latency: load})
	target := "/v1.0/users/" + users[2].ID
	first := e.get(target, a)  // cut at its deadline, the load running on
	second := e.get(target, b) // joins the flight: its deadline is past the load's end
	calls := e.emu.Count(emuRouteUser) - before
	t.Logf("FAULT shared_load_deadline: deadline_ms=%d load_ms=%d first=%d second=%d graph_calls=%d",
		deadline.Milliseconds(), load.Milliseconds(), first.Status, second.Status, calls)
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
// inside the batch's 200. Item 1 is served from the batch's prefetch (no latency), item
// 2 takes half the deadline, item 3 alone would fit a deadline of its own but ends a
// third of the deadline after the batch's.
func TestBatchItemsShareTheBatchDeadline(t *testing.T) {
	const deadline, manager, reports = 3 * time.Second, 1500 * time.Millisecond, 2500 * time.Millisecond
	e := newEnv(t, withUpstreamTimeout(deadline))
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[0])
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK {
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	e.emu.SetFault(emuRouteManager, emulator.Fault{Latency: manager})
	e.emu.SetFault(emuRouteReports, emulator.Fault{Latency: reports})
	x := users[1].ID
	r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": []map[string]any{
		// Sequential (each on its predecessor), so the calls add up: 0 + 1.5 + 2.5 s.
		{"id": "1", "method": "GET", "url": "/users/" + x},
		{"id": "2", "method": "GET", "url": "/users/" + x + "/manager", "dependsOn": []string{"1"}},
		{"id": "3", "method": "GET", "url": "/users/" + x + "/directReports", "dependsOn": []string{"2"}},
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
	t.Logf("FAULT batch_deadline: deadline_ms=%d call_ms=0,%d,%d items=3 statuses=%v",
		deadline.Milliseconds(), manager.Milliseconds(), reports.Milliseconds(), got)
	if got["1"] != http.StatusOK || got["2"] != http.StatusOK || got["3"] != http.StatusServiceUnavailable {
		t.Errorf("item statuses %v, want 200, 200, then 503 for the item past the batch's deadline", got)
	}
}

// Emulator routes the batch test slows down.
const (
	emuRouteManager = "GET /v1.0/users/{id}/manager"
	emuRouteReports = "GET /v1.0/users/{id}/directReports"
)

// TestRequestDeadlineNeverAnswers500: with every Graph call slower than the request
// deadline, every read route answers 200 (a load an earlier request started may have
// filled the cache) or an error in Graph's envelope, never 500.
func TestRequestDeadlineNeverAnswers500(t *testing.T) {
	const deadline, call = 400 * time.Millisecond, 1500 * time.Millisecond
	e := newEnv(t, withUpstreamTimeout(deadline))
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[0])
	e.emu.SetFault("", emulator.Fault{Latency: call})
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
	for i, rq := range reqs {
		r := e.do(rq.method, rq.path, tok, rq.body, rq.headers...)
		if i == 1 && r.Status != http.StatusServiceUnavailable { // its target's record is loaded by nothing else
			t.Errorf("%s %s: %d, want 503 (a %s call under a %s deadline)", rq.method, rq.path, r.Status, call, deadline)
		}
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
	t.Logf("FAULT deadline_no_500: deadline_ms=%d call_ms=%d routes=%d answered_503=%d",
		deadline.Milliseconds(), call.Milliseconds(), len(reqs), n503)
	if n503 == 0 {
		t.Error("no route answered 503: the deadline was never hit, the test checked nothing")
	}
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

// TestParallelBatchItemsRunConcurrently: the items of a batch without dependsOn run at
// the same time, as Graph runs them, so that slow uncached items share the batch's one
// deadline instead of running into it one after another: 8 photos that each take 1.5 s
// at Graph are all answered within a 5 s deadline (one after another they would need
// 12 s), and Graph saw them overlap.
func TestParallelBatchItemsRunConcurrently(t *testing.T) {
	const deadline, photo = 5 * time.Second, 1500 * time.Millisecond
	e := newEnv(t, withUpstreamTimeout(deadline))
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[0])
	var items []map[string]any
	for i, u := range users[1:9] {
		items = append(items, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/users/" + u.ID + "/photos/48x48/$value"})
	}
	e.emu.SetFault(emuRoutePhoto, emulator.Fault{Latency: photo})
	r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": items})
	var out struct {
		Responses []struct {
			Status int `json:"status"`
		} `json:"responses"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &out) != nil || len(out.Responses) != len(items) {
		t.Fatalf("$batch: %d %s", r.Status, r.Body)
	}
	for i, it := range out.Responses {
		if it.Status != http.StatusOK && it.Status != http.StatusNotFound { // 404: a user without a photo
			t.Errorf("item %d: status %d, want it answered before the batch's deadline", i+1, it.Status)
		}
	}
	var starts []time.Time
	for _, req := range e.emu.Requests() {
		if strings.HasSuffix(req.Route, "/$value") {
			starts = append(starts, req.Time)
		}
	}
	overlapping := 0
	for i := 1; i < len(starts); i++ {
		if starts[i].Sub(starts[i-1]).Abs() < photo/2 {
			overlapping++
		}
	}
	if overlapping == 0 {
		t.Errorf("the %d photo calls reached Graph one after another (%v), want them concurrent", len(starts), starts)
	}
}
