package graph_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
)

// call is one report to Config.OnCall.
type call struct {
	op, outcome string
	d           time.Duration
}

// callLog is a hand-written OnCall hook that records every report.
type callLog struct {
	mu    sync.Mutex
	calls []call
}

func (l *callLog) hook(op, outcome string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call{op, outcome, d})
}

// take returns the calls recorded so far and forgets them.
func (l *callLog) take() []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// TestOnCall: a success, a 404 and a throttled call each report their operation and
// outcome once, with the call's duration.
func TestOnCall(t *testing.T) {
	v := newEnv(t)
	var log callLog
	c := v.client(t, func(cfg *graph.Config) { cfg.OnCall = log.hook; cfg.MaxRetries = -1 })
	target := v.user(t, enabled)

	tests := []struct {
		name        string
		fault       emulator.Fault
		idOrUPN     string
		wantOutcome string
	}{
		{"success", emulator.Fault{}, target.ID, graph.OutcomeOK},
		{"not found", emulator.Fault{}, "nobody.here@" + v.tenant.Domain, graph.OutcomeNotFound},
		{"throttled", emulator.Fault{ErrorRate: 1, Status: 429}, target.ID, graph.OutcomeThrottled},
		{"invalid input", emulator.Fault{}, "a/../b", graph.OutcomeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.e.SetFault(userRoute, tt.fault)
			defer v.e.SetFault(userRoute, emulator.Fault{})
			log.take()
			start := time.Now()
			_, err := c.User(ctxT(t), tt.idOrUPN, []string{"id"})
			elapsed := time.Since(start)
			got := log.take()
			if len(got) != 1 {
				t.Fatalf("OnCall called %d times, want once: %+v", len(got), got)
			}
			if got[0].op != "user" || got[0].outcome != tt.wantOutcome {
				t.Errorf("OnCall(%q, %q), want (%q, %q); err = %v", got[0].op, got[0].outcome, "user", tt.wantOutcome, err)
			}
			if got[0].outcome != graph.Outcome(err) {
				t.Errorf("outcome %q differs from Outcome(err) = %q", got[0].outcome, graph.Outcome(err))
			}
			if got[0].d <= 0 || got[0].d > elapsed {
				t.Errorf("duration %v, want within (0, %v]", got[0].d, elapsed)
			}
		})
	}
}

// TestOnCallOperations: every public method reports its own operation name exactly
// once per call, however many upstream requests the call made.
func TestOnCallOperations(t *testing.T) {
	v := newEnv(t)
	var log callLog
	c := v.client(t, func(cfg *graph.Config) { cfg.OnCall = log.hook })
	withManager := v.user(t, func(u emulator.User) bool { return enabled(u) && u.ManagerID != "" && u.HasPhoto })
	// More ids than one upstream request holds: one report all the same.
	manyIDs := make([]string, spec.MaxPresenceIDs+1)
	for i := range manyIDs {
		manyIDs[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
	}
	batchIDs := manyIDs[:spec.MaxBatchRequests+1]
	batchIDs[0] = withManager.ID
	fields := []string{"id"}

	tests := []struct {
		op   string
		call func(ctx context.Context) error
	}{
		{"user", func(ctx context.Context) error { _, err := c.User(ctx, withManager.ID, fields); return err }},
		{"users", func(ctx context.Context) error { _, err := c.Users(ctx, graph.Query{Top: 5}); return err }},
		{"manager", func(ctx context.Context) error { _, err := c.Manager(ctx, withManager.ID, fields); return err }},
		{"direct_reports", func(ctx context.Context) error {
			_, err := c.DirectReports(ctx, withManager.ManagerID, fields)
			return err
		}},
		{"photo", func(ctx context.Context) error { _, err := c.Photo(ctx, withManager.ID, "48x48"); return err }},
		{"presence", func(ctx context.Context) error { _, err := c.Presence(ctx, withManager.ID); return err }},
		{"presences", func(ctx context.Context) error { _, err := c.Presences(ctx, manyIDs); return err }},
		{"users_batch", func(ctx context.Context) error { _, err := c.UsersByID(ctx, batchIDs, fields); return err }},
		{"revoke_sign_in_sessions", func(ctx context.Context) error {
			return c.RevokeSignInSessions(ctx, withManager.ID)
		}},
		{"people", func(ctx context.Context) error { _, err := c.People(ctx, withManager.ID, "", true, 6); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			log.take()
			if err := tt.call(ctxT(t)); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := log.take()
			want := []call{{op: tt.op, outcome: graph.OutcomeOK}}
			if !slices.EqualFunc(got, want, func(a, b call) bool { return a.op == b.op && a.outcome == b.outcome }) {
				t.Errorf("OnCall reports %+v, want %+v", got, want)
			}
		})
	}
}

// TestOnCallNil: no hook, no reports and no panic.
func TestOnCallNil(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	if _, err := c.User(ctxT(t), v.user(t, enabled).ID, []string{"id"}); err != nil {
		t.Fatal(err)
	}
}
