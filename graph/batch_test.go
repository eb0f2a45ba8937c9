package graph_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

const batchRoute = "POST /v1.0/$batch"

func TestUsersByID(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	if len(v.tenant.Users) < 44 {
		t.Fatalf("fixture has %d users, need 44", len(v.tenant.Users))
	}
	var ids []string
	for _, u := range v.tenant.Users[:44] {
		ids = append(ids, u.ID)
	}
	missing := "00000000-0000-0000-0000-00000000dead"
	ids = append(ids, missing, ids[0]) // 45 distinct ids and a duplicate
	fields := []string{"id", "displayName", "accountEnabled"}

	res, err := c.UsersByID(ctx, ids, fields)
	if err != nil {
		t.Fatalf("UsersByID: %v", err)
	}
	if len(res) != 45 {
		t.Fatalf("%d results, want 45", len(res))
	}
	if n := v.e.Count(batchRoute); n != 3 {
		t.Errorf("$batch requests = %d, want 3", n)
	}
	// The emulator answers batch items in random order, as Graph may
	// (https://learn.microsoft.com/en-us/graph/json-batching): each user must still be
	// the one its id asked for.
	for _, u := range v.tenant.Users[:44] {
		r := res[u.ID]
		if r.Err != nil {
			t.Fatalf("item error: %v", r.Err)
		}
		if r.User["id"] != u.ID || r.User["accountEnabled"] != u.AccountEnabled || !slices.Equal(keys(r.User), sorted(fields)) {
			t.Fatalf("item = %v", r.User)
		}
	}
	wantKind(t, res[missing].Err, graph.ErrNotFound)
	assertNoPersonalData(t, res[missing].Err, missing)

	inBatch := 0
	for _, r := range v.e.Requests() {
		if r.InBatch && r.Route == userRoute {
			inBatch++
			if !slices.Equal(sorted(r.Select), sorted(fields)) {
				t.Errorf("batch item select = %v", r.Select)
			}
		}
	}
	if inBatch != 45 {
		t.Errorf("batch items = %d, want 45", inBatch)
	}

	t.Run("batch items match single reads", func(t *testing.T) {
		u := v.user(t, func(u emulator.User) bool { return len(u.BusinessPhones) > 0 })
		f := []string{"id", "businessPhones", "signInSessionsValidFromDateTime", "accountEnabled"}
		single, err := c.User(ctx, u.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.UsersByID(ctx, []string{u.ID}, f)
		if err != nil || res[u.ID].Err != nil {
			t.Fatalf("UsersByID: %v / %v", err, res[u.ID].Err)
		}
		for _, k := range f {
			if !equalJSON(single[k], res[u.ID].User[k]) {
				t.Errorf("%s: single %#v, batch %#v", k, single[k], res[u.ID].User[k])
			}
		}
	})

	t.Run("empty", func(t *testing.T) {
		res, err := c.UsersByID(ctx, nil, fields)
		if err != nil || len(res) != 0 {
			t.Errorf("UsersByID(nil) = %v, %v", res, err)
		}
	})
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// TestUsersByIDThrottledItems: Graph throttles items inside a $batch (the batch itself
// answers 200); the client re-sends only those items after their Retry-After.
func TestUsersByIDThrottledItems(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	var ids []string
	for _, u := range v.tenant.Users[:5] {
		ids = append(ids, u.ID)
	}
	if _, err := c.User(ctx, ids[0], nil); err != nil { // token first
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 3, Window: 250 * time.Millisecond, RetryAfter: 300 * time.Millisecond})
	v.e.ResetRequests()

	res, err := c.UsersByID(ctx, ids, []string{"id"})
	if err != nil {
		t.Fatalf("UsersByID: %v", err)
	}
	for _, id := range ids {
		if r := res[id]; r.Err != nil || r.User["id"] != id {
			t.Errorf("item: %+v", r)
		}
	}
	if n := v.e.Count(batchRoute); n != 2 {
		t.Errorf("$batch requests = %d, want 2 (one re-send of throttled items)", n)
	}
	throttled := 0
	for _, r := range v.e.Requests() {
		if r.InBatch && r.Status == 429 {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("throttled items = %d, want 2", throttled)
	}

	t.Run("exhausted", func(t *testing.T) {
		c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = 1 })
		v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: 120 * time.Millisecond})
		res, err := c.UsersByID(ctx, ids[:3], []string{"id"})
		if err != nil {
			t.Fatalf("UsersByID: %v", err)
		}
		var te *graph.ThrottledError
		n := 0
		for _, id := range ids[:3] {
			if res[id].Err != nil {
				if !errors.As(res[id].Err, &te) || te.RetryAfter != 120*time.Millisecond {
					t.Errorf("item err = %v", res[id].Err)
				}
				n++
			}
		}
		if n < 2 {
			t.Errorf("%d throttled items, want at least 2", n)
		}
	})
}

// TestUsersByIDThrottledItemsWithoutRetryAfter: throttled batch items without
// Retry-After are re-sent after an exponential back-off; when the throttle outlasts the
// retries, they carry an estimated wait.
func TestUsersByIDThrottledItemsWithoutRetryAfter(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	var ids []string
	for _, u := range v.tenant.Users[:5] {
		ids = append(ids, u.ID)
	}
	if _, err := c.User(ctx, ids[0], nil); err != nil { // token first
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 3, Window: 150 * time.Millisecond, OmitRetryAfter: 1})
	v.e.ResetRequests()
	res, err := c.UsersByID(ctx, ids, []string{"id"})
	if err != nil {
		t.Fatalf("UsersByID: %v", err)
	}
	for _, id := range ids {
		if r := res[id]; r.Err != nil || r.User["id"] != id {
			t.Errorf("item: %+v", r)
		}
	}
	if n := v.e.Count(batchRoute); n < 2 {
		t.Errorf("$batch requests = %d, want a re-send of the throttled items", n)
	}

	t.Run("exhausted", func(t *testing.T) {
		c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = 1 })
		v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, OmitRetryAfter: 1})
		res, err := c.UsersByID(ctx, ids[:3], []string{"id"})
		if err != nil {
			t.Fatalf("UsersByID: %v", err)
		}
		n := 0
		for _, id := range ids[:3] {
			var te *graph.ThrottledError
			if res[id].Err != nil {
				if !errors.As(res[id].Err, &te) || !te.Estimated || te.RetryAfter < time.Second {
					t.Errorf("item err = %v (%+v), want an estimated wait", res[id].Err, te)
				}
				n++
			}
		}
		if n < 2 {
			t.Errorf("%d throttled items, want at least 2", n)
		}
	})
}

func TestUsersByIDOutage(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = -1 })
	ctx := ctxT(t)
	if _, err := c.User(ctx, v.tenant.Users[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.SetOutage(true)
	_, err := c.UsersByID(ctx, []string{v.tenant.Users[0].ID, v.tenant.Users[1].ID}, nil)
	wantKind(t, err, graph.ErrUnavailable)
}
