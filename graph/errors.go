package graph

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Sentinel errors. Every error returned by a Client matches exactly one of them
// with errors.Is, so callers never inspect Graph's wire format.
var (
	// ErrNotFound means the user, manager, photo or other resource does not exist.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means Graph refused the gateway's app identity (missing permission).
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable means Graph could not be reached or failed (5xx, timeout, outage).
	ErrUnavailable = errors.New("unavailable")
	// ErrBadRequest means Graph (or this package) rejected the request as malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized means the gateway could not authenticate to Graph (bad secret or
	// certificate, unknown app, expired or rejected token).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrThrottled means Graph throttled the gateway and the retry budget, MaxRetryWait
	// or the deadline did not allow waiting, or that the call was not sent because an
	// earlier 429's Retry-After still runs; the error chain holds a *ThrottledError with
	// the delay.
	ErrThrottled = errors.New("throttled")
)

// ThrottledError reports how long the caller should wait before calling Graph again.
// It matches ErrThrottled with errors.Is.
type ThrottledError struct {
	// RetryAfter is Graph's Retry-After (fractional seconds preserved) or, when Graph
	// sent none, the client's exponential back-off (throttleBackoff); never zero for an
	// error returned by a Client.
	RetryAfter time.Duration
	// Estimated reports that Graph's 429 carried no Retry-After, so RetryAfter is the
	// client's back-off: Graph documents that the header may be missing
	// (https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling).
	Estimated bool
	// Gated reports that the call never reached Graph: the client's throttling gate,
	// shut by an earlier 429 for the tenant, refused it, and RetryAfter is what remained
	// of that delay.
	Gated bool
}

// Error describes the throttling without personal data.
func (e *ThrottledError) Error() string {
	if e.Gated {
		return "graph: throttled, not sent while the tenant's retry-after runs, retry after " + e.RetryAfter.String()
	}
	return "graph: throttled, retry after " + e.RetryAfter.String()
}

// Is reports whether target is ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Error is an upstream failure mapped to one of the sentinel errors. Its message
// holds the operation, the HTTP status and Graph's error code, never the request
// path, user ids, UPNs or Graph's free-text message.
type Error struct {
	// Status is the HTTP status Graph answered with; 0 for transport failures.
	Status int
	// Code is Graph's error.code (e.g. "Request_ResourceNotFound"), sanitised; may be empty.
	Code string
	// Kind is one of the sentinel errors (ErrNotFound, ErrThrottled, ...).
	Kind error

	op    string
	cause error // only context errors or *ThrottledError: nothing that prints a URL
}

// Error formats the failure without personal data.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.op != "" {
		b.WriteString(e.op + ": ")
	}
	b.WriteString(e.Kind.Error())
	var details []string
	if e.Status != 0 {
		details = append(details, "status "+strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		details = append(details, "code "+e.Code)
	}
	if te, ok := e.cause.(*ThrottledError); ok {
		if te.Gated {
			details = append(details, "not sent while the tenant's retry-after runs")
		}
		details = append(details, "retry after "+te.RetryAfter.String())
	} else if e.cause != nil {
		details = append(details, e.cause.Error())
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	return b.String()
}

// Unwrap exposes the sentinel and, when present, the context error or *ThrottledError.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

// kindForStatus maps an HTTP status to a sentinel error.
func kindForStatus(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusTooManyRequests:
		return ErrThrottled
	case status >= 500, status == http.StatusFailedDependency, status == http.StatusRequestTimeout:
		return ErrUnavailable
	case status >= 400:
		return ErrBadRequest
	default:
		return ErrUnavailable
	}
}

// statusError builds an *Error for an HTTP status, Graph code and Retry-After.
func statusError(op string, status int, code string, retryAfter time.Duration) *Error {
	e := &Error{Status: status, Code: sanitizeCode(code), Kind: kindForStatus(status), op: op}
	if e.Kind == ErrThrottled {
		e.cause = &ThrottledError{RetryAfter: retryAfter}
	}
	return e
}

// mapError turns whatever the SDK, azidentity or the transport returned into an
// *Error. It never calls Error() on SDK error values: ODataError.Error() panics when
// the body has no error.message. info holds what the recorder middleware saw on the
// wire for this call (status, Retry-After), ctx is the call's context, and shut how
// long the client's throttling gate stays shut (a throttled call reports at least
// that: no request goes out before).
func mapError(ctx context.Context, op string, err error, info *callInfo, shut time.Duration) error {
	if err == nil {
		return nil
	}
	mapped := classify(ctx, op, err, info)
	attempts := info.attemptCount()
	settleRetryAfter(mapped, attempts, shut)
	var te *ThrottledError
	if errors.As(mapped, &te) && te.Gated && attempts > 0 {
		te.Gated = false // the call reached Graph before the gate refused its retry
	}
	return mapped
}

// settleRetryAfter fills in the delay of a throttling error: the back-off
// (throttleBackoff) when its 429 carried no Retry-After, after attempts requests, and at
// least shut, what remains of the client's throttling gate.
func settleRetryAfter(err error, attempts int, shut time.Duration) {
	var te *ThrottledError
	if !errors.As(err, &te) {
		return
	}
	if te.RetryAfter <= 0 {
		te.RetryAfter, te.Estimated = throttleBackoff(attempts), true
	}
	te.RetryAfter = max(te.RetryAfter, shut)
}

// classify maps an upstream failure to an *Error (see mapError).
func classify(ctx context.Context, op string, err error, info *callInfo) error {
	var ge *Error
	if errors.As(err, &ge) {
		if ge.op == "" {
			ge.op = op // a gate refusal made by the retrier, which knows no operation
		}
		return ge
	}
	status, retryAfter := info.last()
	var odataErr *odataerrors.ODataError
	var apiErr *abstractions.ApiError
	var authErr *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &odataErr):
		if s := odataErr.ResponseStatusCode; s != 0 {
			status = s
		}
		return statusError(op, nonZero(status, http.StatusBadGateway), odataCode(odataErr), retryAfter)
	case errors.As(err, &apiErr):
		if apiErr.ResponseStatusCode != 0 {
			status = apiErr.ResponseStatusCode
		}
		return statusError(op, nonZero(status, http.StatusBadGateway), "", retryAfter)
	case ctx.Err() != nil:
		return &Error{Kind: ErrUnavailable, op: op, cause: contextCause(ctx)}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		cause := context.DeadlineExceeded
		if errors.Is(err, context.Canceled) {
			cause = context.Canceled
		}
		return &Error{Kind: ErrUnavailable, op: op, cause: cause}
	case errors.As(err, &authErr):
		return authError(op, authErr)
	case status >= 400:
		// The SDK failed to read an error body (odd shape, unknown content type).
		return statusError(op, status, "", retryAfter)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return &Error{Kind: ErrUnavailable, op: op, Code: "transport"}
	}
	return &Error{Kind: ErrUnavailable, op: op, Code: "unexpected"}
}

// authError maps a token acquisition failure: Entra's 4xx means our credentials are
// wrong, anything else means Entra is unavailable.
func authError(op string, e *azidentity.AuthenticationFailedError) error {
	if e.RawResponse == nil {
		return &Error{Kind: ErrUnavailable, op: op, Code: "token_unavailable"}
	}
	s := e.RawResponse.StatusCode
	if s == http.StatusTooManyRequests || s >= 500 {
		return &Error{Kind: ErrUnavailable, op: op, Status: s, Code: "token_unavailable"}
	}
	return &Error{Kind: ErrUnauthorized, op: op, Status: s, Code: "token_rejected"}
}

// odataCode reads error.code nil-safely.
func odataCode(e *odataerrors.ODataError) string {
	main := e.GetErrorEscaped()
	if main == nil {
		return ""
	}
	if c := main.GetCode(); c != nil {
		return *c
	}
	return ""
}

// contextCause returns the context's error as a bare sentinel.
func contextCause(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return context.Canceled
	}
	return context.DeadlineExceeded
}

// sanitizeCode keeps Graph error codes printable and short: they are identifiers
// like "Request_ResourceNotFound", never data.
func sanitizeCode(code string) string {
	if len(code) > 64 {
		code = code[:64]
	}
	for _, r := range code {
		ok := r == '_' || r == '.' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return "invalid_code"
		}
	}
	return code
}

func nonZero(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// badRequest reports invalid input caught before calling Graph.
func badRequest(op, what string) error {
	return &Error{Kind: ErrBadRequest, op: op, Code: what}
}
