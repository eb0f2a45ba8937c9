package proxy_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// timedResponse is a response with when its request was sent and how long it took.
type timedResponse struct {
	response
	sent    time.Time
	latency time.Duration
}

// TestThrottledTenantAnswers429Promptly reproduces issue 14's throttling fault, scaled
// down: Graph allows the tenant one call per 4 s window and answers the next 429 with
// the rest of the window as Retry-After. Uncached searches sent 0.5, 1.5 and 2.5 s after
// Graph's first 429 must each be answered 429 in Graph's envelope before the delay they
// state has passed (not after waiting it out inside the gateway), with a Retry-After of
// at least 1 s that decreases as the window runs out, and none may reach Graph. Once the
// window has passed, a search is served again.
func TestThrottledTenantAnswers429Promptly(t *testing.T) {
	const window = 4 * time.Second
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	if r := e.get("/v1.0/me", tok); r.Status != http.StatusOK { // token and caller cached
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	e.emu.SetThrottle(emulator.Throttle{Budget: 1, Window: window})
	t.Cleanup(e.emu.ResetFaults)
	search := func(i int) timedResponse { // a distinct, uncached search each time
		q := url.Values{"$search": {`"displayName:term` + string(rune('a'+i)) + `"`}, "$select": {"id,displayName"}}
		sent := time.Now()
		r := e.get("/v1.0/users?"+q.Encode(), tok, "ConsistencyLevel", "eventual")
		return timedResponse{response: r, sent: sent, latency: time.Since(sent)}
	}
	if r := search(1); r.Status != http.StatusOK { // spends the window's budget
		t.Fatalf("search within Graph's budget: %d %s", r.Status, r.Body)
	}

	results := make([]timedResponse, 4)
	var wg sync.WaitGroup
	wg.Go(func() { results[0] = search(2) }) // meets Graph's first 429
	var firstThrottle time.Time
	if !until(5*time.Second, func() bool {
		firstThrottle = first429(e)
		return !firstThrottle.IsZero()
	}) {
		t.Fatal("Graph never answered 429")
	}
	callsAt429 := len(graphRequests(e))
	for i, at := range []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond} {
		time.Sleep(time.Until(firstThrottle.Add(at)))
		wg.Go(func() { results[i+1] = search(i + 3) })
	}
	wg.Wait()
	inside := len(graphRequests(e)) - callsAt429
	gateOpens := firstThrottle.Add(window)

	var slowest time.Duration
	answered, prev := 0, 0
	for i, r := range results {
		ra := retryAfter(r.response)
		slowest = max(slowest, r.latency)
		if r.Status != 0 {
			answered++
		}
		if r.Status != http.StatusTooManyRequests || errorCode(t, r.response) != "TooManyRequests" || ra < 1 {
			t.Errorf("search %d: %d Retry-After %q %s; want 429 TooManyRequests with Retry-After >= 1",
				i, r.Status, r.Header.Get("Retry-After"), r.Body)
			continue
		}
		if r.latency >= time.Duration(ra)*time.Second || r.sent.Add(r.latency).After(gateOpens) {
			t.Errorf("search %d answered after %v: the gateway waited out Graph's Retry-After (%d s) instead of answering 429", i, r.latency, ra)
		}
		if i > 0 && ra > prev {
			t.Errorf("search %d: Retry-After %d grew from %d while the window runs out", i, ra, prev)
		}
		prev = ra
	}
	if first, last := retryAfter(results[0].response), retryAfter(results[len(results)-1].response); last >= first {
		t.Errorf("Retry-After went from %d to %d s: it must state the remaining delay", first, last)
	}
	if inside != 0 {
		t.Errorf("%d calls reached Graph while its Retry-After ran, want 0", inside)
	}
	t.Logf("FAULT throttle: sent=%d answered=%d graph_calls_inside_retry_after=%d max_latency_ms=%d",
		len(results), answered, inside, slowest.Milliseconds())

	time.Sleep(time.Until(gateOpens))
	if !until(3*time.Second, func() bool { return search(7).Status == http.StatusOK }) {
		t.Error("searches are not served again after Graph's Retry-After has passed")
	}
}

// first429 returns when the emulator logged its first 429 for a Graph request; zero if none.
func first429(e *env) time.Time {
	for _, r := range graphRequests(e) {
		if r.Status == http.StatusTooManyRequests {
			return r.Time
		}
	}
	return time.Time{}
}
