package proxy

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/graphgate/graphgate/graph"
)

// tenantState guards one tenant's upstream: a bounded number of concurrent Graph calls,
// and a gate that answers at once while Graph is throttling the tenant instead of letting
// requests pile up behind it.
type tenantState struct {
	id           string
	up           Upstream
	slots        chan struct{}
	queueWait    time.Duration
	blockedUntil atomic.Int64 // unix nanos until which Graph asked us to back off
}

func newTenantState(t Tenant, concurrency int, wait time.Duration) *tenantState {
	return &tenantState{id: t.ID, up: t.Upstream, slots: make(chan struct{}, concurrency), queueWait: wait}
}

// errBusy is returned when no upstream slot frees up in time.
var errBusy = &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
	Message:    "The gateway is at its concurrency limit toward Microsoft Graph; retry shortly.",
	RetryAfter: time.Second}

// call runs fn with an upstream slot, honouring an active throttling back-off.
func (t *tenantState) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if until := t.blockedUntil.Load(); until > 0 {
		if d := time.Until(time.Unix(0, until)); d > 0 {
			return &graph.ThrottledError{RetryAfter: d}
		}
	}
	timer := time.NewTimer(t.queueWait)
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
	case <-timer.C:
		return errBusy
	case <-ctx.Done():
		return errBusy
	}
	defer func() { <-t.slots }()
	err := fn(ctx)
	var te *graph.ThrottledError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		t.blockedUntil.Store(time.Now().Add(te.RetryAfter).UnixNano())
	}
	return err
}
