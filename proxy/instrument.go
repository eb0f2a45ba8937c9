package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// upstreamOutcome classifies an error of the graph package for the metrics.
func upstreamOutcome(err error) string {
	var te *graph.ThrottledError
	switch {
	case err == nil:
		return metrics.OutcomeOK
	case errors.As(err, &te), errors.Is(err, graph.ErrThrottled):
		return metrics.OutcomeThrottled
	case errors.Is(err, graph.ErrNotFound):
		return metrics.OutcomeNotFound
	case errors.Is(err, graph.ErrBadRequest):
		return metrics.OutcomeBadRequest
	case errors.Is(err, graph.ErrForbidden), errors.Is(err, graph.ErrUnauthorized):
		return metrics.OutcomeDenied
	case errors.Is(err, graph.ErrUnavailable):
		return metrics.OutcomeUnavailable
	default:
		return metrics.OutcomeError
	}
}

// instrumented wraps an Upstream so that every call to Graph is counted by operation and
// outcome and timed.
type instrumented struct {
	up Upstream
	m  *metrics.Metrics
}

// instrumentUpstream returns up itself when metrics are off.
func instrumentUpstream(up Upstream, m *metrics.Metrics) Upstream {
	if m == nil {
		return up
	}
	return instrumented{up: up, m: m}
}

func (u instrumented) observe(op string, start time.Time, err error) {
	u.m.ObserveUpstream(op, upstreamOutcome(err), time.Since(start))
}

func (u instrumented) User(ctx context.Context, idOrUPN string, fields []string) (r graph.User, err error) {
	defer func(start time.Time) { u.observe("user", start, err) }(time.Now())
	return u.up.User(ctx, idOrUPN, fields)
}

func (u instrumented) Users(ctx context.Context, q graph.Query) (r graph.UserPage, err error) {
	defer func(start time.Time) { u.observe("users", start, err) }(time.Now())
	return u.up.Users(ctx, q)
}

func (u instrumented) Manager(ctx context.Context, id string, fields []string) (r graph.User, err error) {
	defer func(start time.Time) { u.observe("manager", start, err) }(time.Now())
	return u.up.Manager(ctx, id, fields)
}

func (u instrumented) DirectReports(ctx context.Context, id string, fields []string) (r []graph.User, err error) {
	defer func(start time.Time) { u.observe("direct_reports", start, err) }(time.Now())
	return u.up.DirectReports(ctx, id, fields)
}

func (u instrumented) Photo(ctx context.Context, id, size string) (r graph.Photo, err error) {
	defer func(start time.Time) { u.observe("photo", start, err) }(time.Now())
	return u.up.Photo(ctx, id, size)
}

func (u instrumented) Presence(ctx context.Context, id string) (r graph.Presence, err error) {
	defer func(start time.Time) { u.observe("presence", start, err) }(time.Now())
	return u.up.Presence(ctx, id)
}

func (u instrumented) Presences(ctx context.Context, ids []string) (r []graph.Presence, err error) {
	defer func(start time.Time) { u.observe("presences", start, err) }(time.Now())
	return u.up.Presences(ctx, ids)
}

func (u instrumented) UsersByID(ctx context.Context, ids []string, fields []string) (r map[string]graph.BatchResult, err error) {
	defer func(start time.Time) { u.observe("users_batch", start, err) }(time.Now())
	return u.up.UsersByID(ctx, ids, fields)
}

func (u instrumented) RevokeSignInSessions(ctx context.Context, id string) (err error) {
	defer func(start time.Time) { u.observe("revoke_sign_in_sessions", start, err) }(time.Now())
	return u.up.RevokeSignInSessions(ctx, id)
}
