package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

// graphCalls counts the requests that reached the emulator's Graph endpoints ($batch
// items included), leaving out token requests.
func graphCalls(v *env) int {
	n := 0
	for _, r := range v.e.Requests() {
		if strings.Contains(r.Route, "/v1.0/") {
			n++
		}
	}
	return n
}

// wantGated fails unless err is the gate's refusal: ErrThrottled, a *ThrottledError
// marked Gated with a delay in (0, most], no HTTP status (Graph never saw it).
func wantGated(t *testing.T, what string, err error, most time.Duration) time.Duration {
	t.Helper()
	var te *graph.ThrottledError
	var ge *graph.Error
	if !errors.As(err, &te) || !te.Gated || te.RetryAfter <= 0 || te.RetryAfter > most {
		t.Fatalf("%s: err = %v (%+v), want a gated ThrottledError with 0 < RetryAfter <= %v", what, err, te, most)
	}
	if !errors.As(err, &ge) || ge.Status != 0 || graph.Outcome(err) != graph.OutcomeGated {
		t.Errorf("%s: err = %v, want a *graph.Error without status and outcome %q", what, err, graph.OutcomeGated)
	}
	return te.RetryAfter
}

// TestGateRefusesCallsWhileRetryAfterRuns: Graph's 429 with a Retry-After longer than
// MaxRetryWait is answered at once; until it has passed every kind of directory call
// fails at once with the remaining delay and none reaches Graph; then calls go through
// again. (Photos and presence have gates of their own: TestGateIsPerService.)
func TestGateRefusesCallsWhileRetryAfterRuns(t *testing.T) {
	const retryAfter = 1500 * time.Millisecond
	v := newEnv(t)
	var hook callLog
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = 300 * time.Millisecond; cfg.OnCall = hook.hook })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil { // token first
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: retryAfter})
	if _, err := c.User(ctx, target.ID, nil); err != nil { // spends the budget
		t.Fatal(err)
	}
	before := graphCalls(v)
	start := time.Now()
	_, err := c.User(ctx, target.UserPrincipalName, nil)
	answered := time.Since(start)
	var te *graph.ThrottledError
	if !errors.As(err, &te) || te.Gated || te.RetryAfter != retryAfter {
		t.Fatalf("throttled call: err = %v (%+v), want Graph's Retry-After of %v", err, te, retryAfter)
	}
	if n := graphCalls(v) - before; n != 1 || answered >= retryAfter {
		t.Errorf("throttled call made %d requests and returned after %v: want one, answered before the Retry-After", n, answered)
	}
	v.e.ResetFaults() // Graph would answer now: only the gate refuses
	before = graphCalls(v)
	hook.take()
	calls := []struct {
		name string
		do   func() error
	}{
		{"user", func() error { _, err := c.User(ctx, target.ID, nil); return err }},
		{"search", func() error {
			_, err := c.Users(ctx, graph.Query{Search: `"displayName:` + target.DisplayName + `"`, Fields: []string{"id"}})
			return err
		}},
		{"manager", func() error { _, err := c.Manager(ctx, target.ID, nil); return err }},
		{"direct reports", func() error { _, err := c.DirectReports(ctx, target.ID, nil); return err }},
		{"batch", func() error { _, err := c.UsersByID(ctx, []string{target.ID}, nil); return err }},
		{"revoke", func() error { return c.RevokeSignInSessions(ctx, target.ID) }},
	}
	last, slowest := retryAfter, answered
	for _, call := range calls {
		start := time.Now()
		err := call.do()
		slowest = max(slowest, time.Since(start))
		last = wantGated(t, call.name, err, last)
		assertNoPersonalData(t, err, target.ID, target.UserPrincipalName)
	}
	inside := graphCalls(v) - before
	if inside != 0 {
		t.Errorf("%d requests reached Graph while its Retry-After ran, want 0", inside)
	}
	for _, r := range hook.take() {
		if r.outcome != graph.OutcomeGated {
			t.Errorf("OnCall(%q, %q) for a refused call, want outcome %q", r.op, r.outcome, graph.OutcomeGated)
		}
	}
	if err := sleepCtx(ctx, last); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Errorf("after the Retry-After: %v", err)
	}
	t.Logf("FAULT throttle_graph_gate: sent=%d answered=%d graph_calls_inside_retry_after=%d max_latency_ms=%d",
		len(calls)+1, len(calls)+1, inside, slowest.Milliseconds())
}

// TestGateShortRetryAfterIsWaitedOut: a Retry-After within MaxRetryWait is waited out
// and the call retried; a fresh call meanwhile is refused at once and does not reach
// Graph. With a smaller MaxRetryWait the same 429 is answered at once.
func TestGateShortRetryAfterIsWaitedOut(t *testing.T) {
	const retryAfter = 600 * time.Millisecond
	v := newEnv(t)
	c := v.client(t) // MaxRetryWait defaults to 1s
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: 500 * time.Millisecond, RetryAfter: retryAfter})
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.ResetRequests()
	var wg sync.WaitGroup
	var waited error
	wg.Go(func() { _, waited = c.User(ctx, target.ID, []string{"id"}) })
	// The retrier logs its retry after the 429 has shut the gate.
	if !pollUntil(5*time.Second, func() bool { return strings.Contains(v.logs.String(), "retrying upstream call") }) {
		t.Fatal("the throttled call was never retried")
	}
	_, err := c.User(ctx, target.UserPrincipalName, []string{"id"})
	wantGated(t, "a fresh call while the retry waits", err, retryAfter)
	wg.Wait()
	if waited != nil {
		t.Fatalf("the call waiting within MaxRetryWait was not retried: %v", waited)
	}
	var statuses []int
	for _, r := range v.e.Requests() {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("upstream statuses = %v, want [429 200]", statuses)
	}

	t.Run("longer than MaxRetryWait", func(t *testing.T) {
		c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = retryAfter / 2 })
		v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: retryAfter})
		_, _ = c.User(ctx, target.ID, nil)
		v.e.ResetRequests()
		_, err := c.User(ctx, target.ID, nil)
		var te *graph.ThrottledError
		if !errors.As(err, &te) || te.Gated || te.RetryAfter != retryAfter {
			t.Fatalf("err = %v (%+v), want Graph's 429 with its Retry-After", err, te)
		}
		if n := graphCalls(v); n != 1 {
			t.Errorf("%d requests, want one: a wait beyond MaxRetryWait is not waited out", n)
		}
	})
}

// TestGateClosedByThrottledBatchItems: throttled $batch items shut the gate like a
// throttled request: items whose Retry-After exceeds MaxRetryWait are answered without
// a re-send, and further calls fail at once without reaching Graph.
func TestGateClosedByThrottledBatchItems(t *testing.T) {
	const retryAfter = 1200 * time.Millisecond
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = 300 * time.Millisecond })
	ctx := ctxT(t)
	ids := []string{v.tenant.Users[0].ID, v.tenant.Users[1].ID, v.tenant.Users[2].ID}
	if _, err := c.User(ctx, ids[0], nil); err != nil { // token first
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: retryAfter})
	v.e.ResetRequests()
	res, err := c.UsersByID(ctx, ids, []string{"id"})
	if err != nil {
		t.Fatalf("UsersByID: %v", err)
	}
	throttled := 0
	for _, id := range ids {
		var te *graph.ThrottledError
		if errors.As(res[id].Err, &te) {
			throttled++
			if te.Gated || te.RetryAfter <= 0 || te.RetryAfter > retryAfter {
				t.Errorf("throttled item: %+v, want Graph's delay", te)
			}
		}
	}
	if throttled != 2 || v.e.Count(batchRoute) != 1 {
		t.Fatalf("%d throttled items after %d $batch requests, want 2 after one", throttled, v.e.Count(batchRoute))
	}
	v.e.ResetFaults()
	before := graphCalls(v)
	start := time.Now()
	_, err = c.User(ctx, ids[1], nil)
	wantGated(t, "a read after throttled items", err, retryAfter)
	_, err = c.UsersByID(ctx, ids[1:], nil)
	wantGated(t, "a batch after throttled items", err, retryAfter)
	took := time.Since(start)
	inside := graphCalls(v) - before
	if inside != 0 {
		t.Errorf("%d requests reached Graph during the items' Retry-After, want 0", inside)
	}
	t.Logf("FAULT throttle_batch_items: sent=2 answered=2 graph_calls_inside_retry_after=%d max_latency_ms=%d", inside, took.Milliseconds())
}

// TestGateWithoutRetryAfter: a 429 without Retry-After shuts the gate for the
// client's back-off (at least a second), which callers are told to wait.
func TestGateWithoutRetryAfter(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = -1 })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, OmitRetryAfter: 1})
	_, _ = c.User(ctx, target.ID, nil)
	_, err := c.User(ctx, target.ID, nil)
	var te *graph.ThrottledError
	if !errors.As(err, &te) || !te.Estimated || te.RetryAfter < time.Second {
		t.Fatalf("err = %v (%+v), want an estimated wait of at least 1s", err, te)
	}
	before := graphCalls(v)
	_, err = c.User(ctx, target.ID, nil)
	wantGated(t, "a read during the back-off", err, te.RetryAfter)
	if n := graphCalls(v) - before; n != 0 {
		t.Errorf("%d requests reached Graph during the back-off, want 0", n)
	}
}

// pollUntil polls cond every 10ms until it holds or d has passed.
func pollUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// TestGateIsPerService: Graph throttles its services separately, so a 429 on a photo
// (Outlook's limits, per mailbox) shuts the photos gate only: user reads, presence and a
// logout's revokeSignInSessions still reach Graph.
func TestGateIsPerService(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = 100 * time.Millisecond })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	v.e.SetFault("GET /v1.0/users/{id}/photo/$value", emulator.Fault{ErrorRate: 1, Status: http.StatusTooManyRequests})
	var te *graph.ThrottledError
	if _, err := c.Photo(ctx, target.ID, ""); !errors.As(err, &te) || te.Gated {
		t.Fatalf("photo: err = %v, want Graph's 429", err)
	}
	wantGated(t, "photo again", func() error { _, err := c.Photo(ctx, target.ID, ""); return err }(), time.Second)
	before := graphCalls(v)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Errorf("user read while photos are throttled: %v", err)
	}
	if _, err := c.Presence(ctx, target.ID); err != nil {
		t.Errorf("presence while photos are throttled: %v", err)
	}
	if err := c.RevokeSignInSessions(ctx, target.ID); err != nil {
		t.Errorf("revokeSignInSessions while photos are throttled: %v", err)
	}
	if n := graphCalls(v) - before; n != 3 {
		t.Errorf("%d requests reached Graph, want 3 (the photos gate must not hold other services)", n)
	}
}

// TestGateBackOffGrowsAcrossCalls: while Graph keeps answering 429 without Retry-After,
// each call that finds the gate open and is throttled again doubles the wait (1 s, 2 s,
// 4 s), across calls, as Graph's exponential back-off advice asks; an answer other than
// 429 starts it again from 1 s.
func TestGateBackOffGrowsAcrossCalls(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetryWait = -1 })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil { // token first
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Hour, OmitRetryAfter: 1})
	_, _ = c.User(ctx, target.ID, nil) // spends the budget
	var waits []time.Duration
	for range 3 {
		_, err := c.User(ctx, target.ID, nil)
		var te *graph.ThrottledError
		if !errors.As(err, &te) || te.Gated || !te.Estimated {
			t.Fatalf("err = %v (%+v), want Graph's 429 without Retry-After", err, te)
		}
		waits = append(waits, te.RetryAfter)
		if err := sleepCtx(ctx, te.RetryAfter); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if waits[i] < want-50*time.Millisecond || waits[i] > want {
			t.Errorf("back-off after 429 #%d without Retry-After = %v, want %v (all: %v)", i+1, waits[i], want, waits)
		}
	}
	v.e.ResetFaults()
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Hour, OmitRetryAfter: 1})
	_, _ = c.User(ctx, target.ID, nil)
	_, err := c.User(ctx, target.ID, nil)
	var te *graph.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter > time.Second {
		t.Errorf("after an answer other than 429: err = %v (%+v), want the back-off to start again at 1s", err, te)
	}
}
