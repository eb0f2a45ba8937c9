package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// These tests cover error shapes the emulator cannot produce on demand (bodies
// without error.message, no body at all, SDK parse failures). They build the SDK's
// own error values; they do not imitate Graph's wire format.

func odataError(status int, code *string) *odataerrors.ODataError {
	e := odataerrors.NewODataError()
	e.ResponseStatusCode = status
	if code != nil {
		main := odataerrors.NewMainError()
		main.SetCode(code)
		e.SetErrorEscaped(main)
	}
	return e
}

func TestMapErrorShapes(t *testing.T) {
	code := "Request_ResourceNotFound"
	odd := "not a code: alice@contoso.example"
	tests := []struct {
		name       string
		err        error
		info       *callInfo
		kind       error
		status     int
		wantCode   string
		retryAfter time.Duration
	}{
		{"odata without error object", odataError(500, nil), &callInfo{}, ErrUnavailable, 500, "", 0},
		{"odata with code, no message", odataError(404, &code), &callInfo{}, ErrNotFound, 404, code, 0},
		{"odata code holding data", odataError(403, &odd), &callInfo{}, ErrForbidden, 403, "invalid_code", 0},
		{"odata 429 with recorded retry-after", odataError(429, nil), &callInfo{status: 429, retryAfter: 2128 * time.Millisecond}, ErrThrottled, 429, "", 2128 * time.Millisecond},
		// Graph may leave Retry-After out: the error then carries the back-off after 3 attempts.
		{"odata 429 without retry-after", odataError(429, nil), &callInfo{status: 429, attempts: 3}, ErrThrottled, 429, "", 4 * time.Second},
		{"429 without retry-after, one attempt", odataError(429, nil), &callInfo{status: 429, attempts: 1}, ErrThrottled, 429, "", time.Second},
		{"api error without body", &abstractions.ApiError{ResponseStatusCode: 401}, &callInfo{}, ErrUnauthorized, 401, "", 0},
		{"unreadable body, status recorded", errors.New("content type text/html does not have a factory"), &callInfo{status: 502}, ErrUnavailable, 502, "", 0},
		{"unknown failure", errors.New("boom /users/alice@contoso.example"), &callInfo{}, ErrUnavailable, 0, "unexpected", 0},
		{"wrapped deadline", fmt.Errorf("Get \"https://x/users/alice@contoso.example\": %w", context.DeadlineExceeded), &callInfo{}, ErrUnavailable, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapError(context.Background(), "get user", tt.err, tt.info, 0)
			var ge *Error
			if !errors.As(err, &ge) || !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want *Error of kind %v", err, tt.kind)
			}
			if ge.Status != tt.status || ge.Code != tt.wantCode {
				t.Errorf("status/code = %d/%q, want %d/%q", ge.Status, ge.Code, tt.status, tt.wantCode)
			}
			if msg := err.Error(); strings.Contains(msg, "alice") || strings.Contains(msg, "/users/") {
				t.Errorf("message leaks data: %q", msg)
			}
			var te *ThrottledError
			if errors.As(err, &te) != (tt.kind == ErrThrottled) || (te != nil && te.RetryAfter != tt.retryAfter) {
				t.Errorf("ThrottledError = %+v, want retry after %v", te, tt.retryAfter)
			}
		})
	}
}

func TestMapErrorContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mapError(ctx, "get user", errors.New("transport closed"), &callInfo{}, 0)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want unavailable + context.Canceled", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2.128", 2128 * time.Millisecond, true},
		{"0.15", 150 * time.Millisecond, true},
		{"3", 3 * time.Second, true},
		{" 1.5 ", 1500 * time.Millisecond, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestProject(t *testing.T) {
	m := map[string]any{"@odata.context": "x", "id": "1", "displayName": "A", "businessPhones": []any{}, "mail@odata.type": "y"}
	tests := []struct {
		name   string
		fields []string
		want   User
	}{
		{"selected, canonical case", []string{"DisplayName"}, User{"displayName": "A"}},
		{"missing field is null", []string{"id", "jobTitle"}, User{"id": "1", "jobTitle": nil}},
		{"annotations dropped", []string{"id"}, User{"id": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := project(m, tt.fields)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("project = %v, want %v", got, tt.want)
			}
		})
	}
	if got := project(m, nil); len(got) != len(defaultFields) {
		t.Errorf("default projection has %d keys, want %d", len(got), len(defaultFields))
	}
}

// TestThrottleBackoff: without Retry-After the reported wait grows exponentially with
// the attempts made, within [1s, maxThrottleBackoff].
func TestThrottleBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {5, 16 * time.Second},
		{6, maxThrottleBackoff}, {1000, maxThrottleBackoff},
	}
	for _, tt := range tests {
		if got := throttleBackoff(tt.n); got != tt.want {
			t.Errorf("throttleBackoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
