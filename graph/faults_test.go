package graph_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

const userRoute = "GET /v1.0/users/{id}"

// TestThrottleFractionalRetryAfter: Graph answers 429 with Retry-After "0.35"; the
// client must wait those 350 ms (kiota's handler would truncate to 0 and retry into
// the same window) and then succeed.
func TestThrottleFractionalRetryAfter(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	target := v.user(t, enabled)
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: 300 * time.Millisecond, RetryAfter: 350 * time.Millisecond})

	if _, err := c.User(ctx, target.ID, []string{"id"}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	v.e.ResetRequests()
	u, err := c.User(ctx, target.ID, []string{"id"})
	if err != nil {
		t.Fatalf("throttled call not recovered: %v", err)
	}
	if u["id"] != target.ID {
		t.Errorf("id = %v", u["id"])
	}
	var statuses []int
	for _, r := range v.e.Requests() {
		if r.Route == userRoute {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("upstream statuses = %v, want [429 200]", statuses)
	}
}

func TestThrottleExhausted(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		maxRetries int
		timeout    time.Duration
		wantCalls  int
	}{
		{"retries used up", 150 * time.Millisecond, 2, 10 * time.Second, 3},
		{"retry-after beyond deadline", 2128 * time.Millisecond, 2, time.Second, 1},
		{"retries disabled", 100 * time.Millisecond, -1, 10 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t)
			c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = tt.maxRetries; cfg.Timeout = tt.timeout })
			ctx := ctxT(t)
			target := v.user(t, enabled)
			if _, err := c.User(ctx, target.ID, nil); err != nil { // token + budget
				t.Fatal(err)
			}
			v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: tt.retryAfter})
			_, _ = c.User(ctx, target.ID, nil)
			v.e.ResetRequests()

			_, err := c.User(ctx, target.UserPrincipalName, nil)
			wantKind(t, err, graph.ErrThrottled)
			var te *graph.ThrottledError
			if !errors.As(err, &te) || te.RetryAfter != tt.retryAfter {
				t.Fatalf("ThrottledError = %+v, want RetryAfter %v", te, tt.retryAfter)
			}
			if n := v.e.Count(userRoute); n != tt.wantCalls {
				t.Errorf("upstream calls = %d, want %d", n, tt.wantCalls)
			}
			assertNoPersonalData(t, err, target.UserPrincipalName, target.ID)
		})
	}
}

func TestBadSecret(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.ClientSecret = "not-the-secret" })
	_, err := c.User(ctxT(t), v.tenant.Users[0].ID, nil)
	wantKind(t, err, graph.ErrUnauthorized)
	if n := v.e.Count(userRoute); n != 0 {
		t.Errorf("Graph called %d times without a token", n)
	}
	assertNoPersonalData(t, err, "not-the-secret", v.tenant.Users[0].ID)
}

func TestTimeout(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.Timeout = 400 * time.Millisecond })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil { // token outside the slow path
		t.Fatal(err)
	}
	v.e.SetFault(userRoute, emulator.Fault{Latency: 5 * time.Second})
	_, err := c.User(ctx, target.UserPrincipalName, nil)
	wantKind(t, err, graph.ErrUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to match context.DeadlineExceeded", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the test's own context expired: the client ignored its timeout")
	}
	assertNoPersonalData(t, err, target.UserPrincipalName, target.ID)

	t.Run("caller's deadline wins", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := c.User(short, target.ID, nil)
		if !errors.Is(err, graph.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestOutage(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.SetOutage(true)
	_, err := c.User(ctx, target.UserPrincipalName, nil)
	wantKind(t, err, graph.ErrUnavailable)
	assertNoPersonalData(t, err, target.UserPrincipalName, target.ID, v.e.URL())

	t.Run("no token either", func(t *testing.T) {
		fresh := v.client(t, func(cfg *graph.Config) { cfg.Timeout = 3 * time.Second })
		_, err := fresh.User(ctx, target.ID, nil)
		wantKind(t, err, graph.ErrUnavailable)
	})
	v.e.SetOutage(false)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestErrorStatuses(t *testing.T) {
	tests := []struct {
		status int
		kind   error
	}{
		{400, graph.ErrBadRequest},
		{401, graph.ErrUnauthorized},
		{403, graph.ErrForbidden},
		{404, graph.ErrNotFound},
		{500, graph.ErrUnavailable},
		{503, graph.ErrUnavailable},
	}
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = -1 })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	for _, tt := range tests {
		t.Run(tt.kind.Error(), func(t *testing.T) {
			v.e.SetFault(userRoute, emulator.Fault{ErrorRate: 1, Status: tt.status})
			defer v.e.SetFault(userRoute, emulator.Fault{})
			_, err := c.User(ctx, target.UserPrincipalName, []string{"id"})
			wantKind(t, err, tt.kind)
			var ge *graph.Error
			errors.As(err, &ge)
			if ge.Status != tt.status {
				t.Errorf("Status = %d, want %d", ge.Status, tt.status)
			}
			assertNoPersonalData(t, err, target.UserPrincipalName, target.ID)
		})
	}
}

func TestServerErrorRetried(t *testing.T) {
	v := newEnv(t)
	c := v.client(t, func(cfg *graph.Config) { cfg.MaxRetries = 1 })
	ctx := ctxT(t)
	target := v.user(t, enabled)
	if _, err := c.User(ctx, target.ID, nil); err != nil {
		t.Fatal(err)
	}
	v.e.ResetRequests()
	v.e.SetFault(userRoute, emulator.Fault{ErrorRate: 1, Status: 503})
	_, err := c.User(ctx, target.ID, nil)
	wantKind(t, err, graph.ErrUnavailable)
	if n := v.e.Count(userRoute); n != 2 {
		t.Errorf("upstream calls = %d, want 2 (one retry)", n)
	}
}

func TestConfigValidation(t *testing.T) {
	base := graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}
	tests := []struct {
		name string
		mod  func(*graph.Config)
		ok   bool
	}{
		{"minimal", func(*graph.Config) {}, true},
		{"no tenant", func(c *graph.Config) { c.TenantID = "" }, false},
		{"no client", func(c *graph.Config) { c.ClientID = "" }, false},
		{"no credential", func(c *graph.Config) { c.ClientSecret = "" }, false},
		{"two credentials", func(c *graph.Config) { c.CertificatePEM = []byte("x") }, false},
		{"bad certificate", func(c *graph.Config) { c.ClientSecret = ""; c.CertificatePEM = []byte("not pem") }, false},
		{"http graph", func(c *graph.Config) { c.BaseURL = "http://graph.example/v1.0" }, false},
		{"http authority", func(c *graph.Config) { c.AuthorityHost = "http://login.example/" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mod(&cfg)
			_, err := graph.New(cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestRetriedPostStaysValid: a throttled POST (gzip-compressed body) is retried with a
// freshly compressed body; kiota's default chain would resend a plain body labelled gzip.
func TestRetriedPostStaysValid(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	ids := []string{v.tenant.Users[0].ID, v.tenant.Users[1].ID}
	if _, err := c.Presence(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: 300 * time.Millisecond, RetryAfter: 350 * time.Millisecond})
	if _, err := c.Presence(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	v.e.ResetRequests()
	ps, err := c.Presences(ctx, ids)
	if err != nil {
		t.Fatalf("Presences after a 429: %v", err)
	}
	if len(ps) != 2 {
		t.Errorf("%d presences, want 2", len(ps))
	}
	var statuses []int
	for _, r := range v.e.Requests() {
		if r.Route == "POST /v1.0/communications/getPresencesByUserId" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("upstream statuses = %v, want [429 200]", statuses)
	}
}

// TestThrottleWithoutRetryAfter: Graph's 429 may come without Retry-After
// (https://learn.microsoft.com/en-us/graph/throttling); the client then backs off
// exponentially instead of retrying at once, recovers when the throttle lifts, and when
// it cannot, reports a non-zero estimated wait so callers hold off too.
func TestThrottleWithoutRetryAfter(t *testing.T) {
	t.Run("recovers after backing off", func(t *testing.T) {
		v := newEnv(t)
		c := v.client(t)
		ctx := ctxT(t)
		target := v.user(t, enabled)
		v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: 300 * time.Millisecond, OmitRetryAfter: 1})
		if _, err := c.User(ctx, target.ID, []string{"id"}); err != nil {
			t.Fatalf("first call: %v", err)
		}
		v.e.ResetRequests()
		start := time.Now()
		if _, err := c.User(ctx, target.ID, []string{"id"}); err != nil {
			t.Fatalf("throttled call not recovered: %v", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("recovered after %v: the 429 without Retry-After was retried without backing off", d)
		}
		var statuses []int
		for _, r := range v.e.Requests() {
			statuses = append(statuses, r.Status)
		}
		if len(statuses) < 2 || statuses[0] != 429 || statuses[len(statuses)-1] != 200 {
			t.Errorf("upstream statuses = %v, want 429s then 200", statuses)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		v := newEnv(t)
		c := v.client(t)
		ctx := ctxT(t)
		target := v.user(t, enabled)
		if _, err := c.User(ctx, target.ID, nil); err != nil {
			t.Fatal(err)
		}
		v.e.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, OmitRetryAfter: 1})
		_, _ = c.User(ctx, target.ID, nil)
		v.e.ResetRequests()
		start := time.Now()
		_, err := c.User(ctx, target.ID, nil)
		wantKind(t, err, graph.ErrThrottled)
		var te *graph.ThrottledError
		if !errors.As(err, &te) || !te.Estimated || te.RetryAfter < time.Second {
			t.Fatalf("ThrottledError = %+v, want an estimated wait of at least 1s", te)
		}
		// The back-off doubles with each 429 without Retry-After: 1 s is waited out
		// (MaxRetryWait), the next 2 s is not.
		if n := v.e.Count(userRoute); n != 2 {
			t.Errorf("upstream calls = %d, want 2 (one retry after 1s)", n)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("2 attempts took %v, want the 1s back-off between them", d)
		}
		if te.RetryAfter < 2*time.Second-50*time.Millisecond {
			t.Errorf("reported wait %v, want the next step of the back-off, 2s", te.RetryAfter)
		}
	})
}
