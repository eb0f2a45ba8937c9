package directory_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

func TestThrottled(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*emulator.Emulator)
	}{
		{"budget spent", func(emu *emulator.Emulator) {
			emu.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, RetryAfter: 30 * time.Second})
		}},
		{"429 with Retry-After", func(emu *emulator.Emulator) {
			emu.SetFault(routeUser, emulator.Fault{ErrorRate: 1, Status: http.StatusTooManyRequests})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			us := enabled(e.a)
			ctx := context.Background()
			tt.inject(e.emu)
			_, _, _ = e.dir.Presence(ctx, e.a.ID, us[1].ID) // spends the budget, if any
			_, _, err := e.user(us[2].ID)
			wantThrottled(t, "first throttled read", err)
			if !errors.Is(err, graph.ErrThrottled) {
				t.Errorf("the graph error is not kept as the cause: %v", err)
			}
			calls := e.count(routeAll)
			e.emu.ResetFaults() // Graph would answer now: the gate alone must refuse
			_, _, err = e.user(us[3].ID)
			wantThrottled(t, "read while the gate is closed", err)
			_, err = e.dir.Presences(ctx, e.a.ID, []string{us[3].ID, us[4].ID})
			wantThrottled(t, "presences while the gate is closed", err) // its users' records are directory reads
			e.wantCalls(t, routeAll, calls)
			// Graph throttles its services separately: photos have a gate of their own.
			if _, _, err = e.dir.Photo(ctx, e.a.ID, us[3].ID, ""); err != nil && !errors.Is(err, directory.ErrNoPhoto) {
				t.Errorf("photo while the directory gate is closed: %v, want it read from Graph", err)
			}
			e.wantCalls(t, routeAll, calls+1)
			if _, _, err := e.dir.User(ctx, e.b.ID, enabled(e.b)[1].ID); err != nil {
				t.Errorf("another tenant is gated too: %v", err)
			}
		})
	}
}

// wantThrottled fails unless err is a *directory.ThrottledError with a delay.
func wantThrottled(t *testing.T, what string, err error) {
	t.Helper()
	var te *directory.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Errorf("%s: error = %v, want a *ThrottledError with RetryAfter > 0", what, err)
	}
}

func TestUpstreamFailures(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		want, cause error
	}{
		{"503", http.StatusServiceUnavailable, directory.ErrUnavailable, graph.ErrUnavailable},
		{"500", http.StatusInternalServerError, directory.ErrUnavailable, graph.ErrUnavailable},
		{"400", http.StatusBadRequest, directory.ErrRejected, graph.ErrBadRequest},
		{"401", http.StatusUnauthorized, directory.ErrDenied, graph.ErrUnauthorized},
		{"403", http.StatusForbidden, directory.ErrDenied, graph.ErrForbidden},
	}
	e := newEnv(t)
	us := enabled(e.a)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := us[i+1]
			e.emu.SetFault(routeUser, emulator.Fault{ErrorRate: 1, Status: tt.status})
			_, _, err := e.user(u.ID)
			wantErr(t, "User", err, tt.want)
			wantErr(t, "User (cause)", err, tt.cause)
			e.emu.SetFault(routeUser, emulator.Fault{})
			// Failures are not cached: the next read asks Graph again.
			before := e.count(routeUser)
			e.mustUser(t, u.ID, u.ID, cache.OutcomeMiss)
			e.wantCalls(t, routeUser, before+1)
		})
	}
}

func TestOutage(t *testing.T) {
	e := newEnv(t)
	us := enabled(e.a)
	e.mustUser(t, us[1].ID, us[1].ID, cache.OutcomeMiss) // gets a token first
	e.emu.SetOutage(true)
	_, _, err := e.user(us[2].ID)
	wantErr(t, "User during an outage", err, directory.ErrUnavailable)
	e.mustUser(t, us[1].ID, us[1].ID, cache.OutcomeHit) // cached records are still served
}

func TestPresencesReportsUpstreamFailure(t *testing.T) {
	e := newEnv(t)
	us := enabled(e.a)
	e.emu.SetFault("", emulator.Fault{ErrorRate: 1, Status: http.StatusServiceUnavailable})
	ps, err := e.dir.Presences(context.Background(), e.a.ID, []string{us[1].ID, us[2].ID})
	if len(ps) != 0 {
		t.Errorf("Presences = %v during an outage", ps)
	}
	wantErr(t, "Presences during an outage", err, directory.ErrUnavailable)
}

func TestBusy(t *testing.T) {
	e := newEnv(t, func(c *directory.Config) {
		c.Concurrency = 1
		c.QueueWait = 50 * time.Millisecond
	})
	us := enabled(e.a)
	e.mustUser(t, us[1].ID, us[1].ID, cache.OutcomeMiss) // gets a token first
	e.emu.SetFault(routeUser, emulator.Fault{Latency: time.Second})
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = e.user(us[i+2].ID) })
	}
	wg.Wait()
	ok, busy := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, directory.ErrBusy):
			busy++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("%d reads succeeded and %d were busy, want 1 and 1", ok, busy)
	}
	e.wantCalls(t, routeUser, 2) // the busy read never reached Graph
}
