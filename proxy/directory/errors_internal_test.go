package directory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
)

// domainSentinels are the directory's errors a mapped error may match; each mapped
// error must match exactly one.
var domainSentinels = []error{ErrNotFound, ErrNoPhoto, ErrBusy, ErrUnknownTenant,
	ErrRejected, ErrInvalid, ErrDenied, ErrUnavailable}

func TestDomainError(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want error // a sentinel; nil for a *ThrottledError
	}{
		{"not found", graph.ErrNotFound, ErrNotFound},
		{"not found, graph.Error", &graph.Error{Status: 404, Code: "Request_ResourceNotFound", Kind: graph.ErrNotFound}, ErrNotFound},
		{"bad request", graph.ErrBadRequest, ErrRejected},
		{"bad request, wrapped", fmt.Errorf("graph: get user: %w", graph.ErrBadRequest), ErrRejected},
		{"bad request from Graph", &graph.Error{Status: 400, Code: "Request_BadRequest", Kind: graph.ErrBadRequest}, ErrRejected},
		{"refused before reaching Graph", &graph.Error{Kind: graph.ErrBadRequest, Code: "invalid_id"}, ErrInvalid},
		{"forbidden", &graph.Error{Status: 403, Kind: graph.ErrForbidden}, ErrDenied},
		{"unauthorized", &graph.Error{Status: 401, Kind: graph.ErrUnauthorized}, ErrDenied},
		{"unavailable", &graph.Error{Status: 503, Kind: graph.ErrUnavailable}, ErrUnavailable},
		{"canceled", context.Canceled, ErrUnavailable},
		{"deadline", context.DeadlineExceeded, ErrUnavailable},
		{"unknown error", errors.New("boom"), ErrUnavailable},
		{"already mapped, behind the cache", fmt.Errorf("cache: load: %w", domainError(graph.ErrNotFound)), ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domainError(tt.in)
			if !errors.Is(got, tt.want) {
				t.Errorf("domainError(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !errors.Is(got, tt.in) {
				t.Errorf("domainError(%v) = %v: the cause is lost", tt.in, got)
			}
			wantOneSentinel(t, got)
		})
	}
}

func TestDomainErrorThrottled(t *testing.T) {
	in := fmt.Errorf("graph: get user: %w", &graph.ThrottledError{RetryAfter: 2500 * time.Millisecond})
	got := domainError(in)
	var te *ThrottledError
	if !errors.As(got, &te) || te.RetryAfter != 2500*time.Millisecond {
		t.Fatalf("domainError(throttled) = %#v, want a *ThrottledError of 2.5s", got)
	}
	if !errors.Is(got, graph.ErrThrottled) || !errors.Is(got, in) {
		t.Errorf("domainError(throttled) = %v: the cause is lost", got)
	}
	for _, s := range domainSentinels {
		if errors.Is(got, s) {
			t.Errorf("a throttled error also matches %v", s)
		}
	}
}

func TestDomainErrorKeepsDomainErrors(t *testing.T) {
	gate := &ThrottledError{RetryAfter: time.Second}
	for _, in := range append([]error{gate}, domainSentinels...) {
		t.Run(in.Error(), func(t *testing.T) {
			if got := domainError(in); got != in {
				t.Errorf("domainError(%v) = %v, want it unchanged", in, got)
			}
		})
	}
	if got := domainError(nil); got != nil {
		t.Errorf("domainError(nil) = %v", got)
	}
}

// wantOneSentinel fails unless err matches exactly one of the domain sentinels.
func wantOneSentinel(t *testing.T, err error) {
	t.Helper()
	var matched []error
	for _, s := range domainSentinels {
		if errors.Is(err, s) {
			matched = append(matched, s)
		}
	}
	if len(matched) != 1 {
		t.Errorf("%v matches %v, want exactly one domain error", err, matched)
	}
}

// TestListKeysKeepCase: a list's cache key is the query as sent, case kept ($skiptoken is
// opaque), while user keys fold case (Graph compares ids and UPNs case-insensitively).
func TestListKeysKeepCase(t *testing.T) {
	a := key("t", kindList, listKey(graph.Query{SkipToken: "AbC"}))
	b := key("t", kindList, listKey(graph.Query{SkipToken: "abc"}))
	if a == b {
		t.Errorf("list keys fold the skiptoken's case: %v", a)
	}
	if key("t", kindUser, "Adele@Contoso.example") != key("t", kindUser, "adele@contoso.example") {
		t.Error("user keys must fold case")
	}
	if key("t", kindUser, "x") == key("u", kindUser, "x") {
		t.Error("user keys must be tenant-scoped")
	}
}
