package graph_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
)

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, graph.OutcomeOK},
		{"throttled sentinel", graph.ErrThrottled, graph.OutcomeThrottled},
		{"throttled error", &graph.ThrottledError{}, graph.OutcomeThrottled},
		{"wrapped throttled error", fmt.Errorf("x: %w", &graph.ThrottledError{}), graph.OutcomeThrottled},
		{"graph error throttled", &graph.Error{Status: 429, Kind: graph.ErrThrottled}, graph.OutcomeThrottled},
		{"refused by the throttling gate", &graph.ThrottledError{RetryAfter: time.Second, Gated: true}, graph.OutcomeGated},
		{"wrapped gate refusal", fmt.Errorf("x: %w", &graph.ThrottledError{Gated: true}), graph.OutcomeGated},
		{"not found", &graph.Error{Status: 404, Kind: graph.ErrNotFound}, graph.OutcomeNotFound},
		{"wrapped not found", fmt.Errorf("x: %w", graph.ErrNotFound), graph.OutcomeNotFound},
		{"bad request", &graph.Error{Kind: graph.ErrBadRequest}, graph.OutcomeBadRequest},
		{"forbidden", &graph.Error{Status: 403, Kind: graph.ErrForbidden}, graph.OutcomeDenied},
		{"unauthorized", &graph.Error{Status: 401, Kind: graph.ErrUnauthorized}, graph.OutcomeDenied},
		{"unavailable", &graph.Error{Status: 503, Kind: graph.ErrUnavailable}, graph.OutcomeUnavailable},
		{"other", errors.New("boom"), graph.OutcomeError},
		{"bare context error", context.DeadlineExceeded, graph.OutcomeError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := graph.Outcome(tc.err); got != tc.want {
				t.Errorf("Outcome(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestOutcomeWords pins the outcome words: they are metrics label values, which
// dashboards and alerts match literally, and proxy/metrics repeats them.
func TestOutcomeWords(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{graph.OutcomeOK, "ok"},
		{graph.OutcomeThrottled, "throttled"},
		{graph.OutcomeGated, "gated"},
		{graph.OutcomeNotFound, "not_found"},
		{graph.OutcomeBadRequest, "bad_request"},
		{graph.OutcomeDenied, "denied"},
		{graph.OutcomeUnavailable, "unavailable"},
		{graph.OutcomeError, "error"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("outcome word %q, want %q", tc.got, tc.want)
			}
		})
	}
}
