package graph

import (
	"errors"
	"time"
)

// Outcome words classify how a Client call ended, for metrics labels. Each word
// stands for a sentinel error (or success), except OutcomeGated, a refusal of the
// throttling gate; Outcome picks the word for an error.
const (
	// OutcomeOK is a call that succeeded.
	OutcomeOK = "ok"
	// OutcomeThrottled is a call Graph throttled (ErrThrottled).
	OutcomeThrottled = "throttled"
	// OutcomeGated is a call that never reached Graph because an earlier 429's
	// Retry-After was still running (ErrThrottled with ThrottledError.Gated): it is no
	// call to Graph, and metrics that count calls to Graph should leave it out.
	OutcomeGated = "gated"
	// OutcomeNotFound is a call for something that does not exist (ErrNotFound).
	OutcomeNotFound = "not_found"
	// OutcomeBadRequest is a call rejected as malformed (ErrBadRequest).
	OutcomeBadRequest = "bad_request"
	// OutcomeDenied is a call refused for the gateway's identity (ErrForbidden,
	// ErrUnauthorized).
	OutcomeDenied = "denied"
	// OutcomeUnavailable is a call Graph could not serve (ErrUnavailable).
	OutcomeUnavailable = "unavailable"
	// OutcomeError is any other failure.
	OutcomeError = "error"
)

// Operation names passed to Config.OnCall, one per public method of Client.
const (
	opUser          = "user"
	opUsers         = "users"
	opManager       = "manager"
	opDirectReports = "direct_reports"
	opPhoto         = "photo"
	opPresence      = "presence"
	opPresences     = "presences"
	opUsersBatch    = "users_batch"
	opRevoke        = "revoke_sign_in_sessions"
	opPeople        = "people"
)

// Outcome returns the outcome word for an error returned by a Client: OutcomeOK for
// nil, OutcomeGated for a call the throttling gate kept from Graph, the word of the
// sentinel the error matches, else OutcomeError.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case gated(err):
		return OutcomeGated
	case errors.Is(err, ErrThrottled): // a *ThrottledError matches too
		return OutcomeThrottled
	case errors.Is(err, ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, ErrBadRequest):
		return OutcomeBadRequest
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrUnauthorized):
		return OutcomeDenied
	case errors.Is(err, ErrUnavailable):
		return OutcomeUnavailable
	default:
		return OutcomeError
	}
}

// observe reports one finished public call to Config.OnCall. Methods defer it with
// their named error result: defer c.observe(op, time.Now(), &err).
func (c *Client) observe(op string, start time.Time, err *error) {
	if c.onCall == nil {
		return
	}
	c.onCall(op, Outcome(*err), time.Since(start))
}

// gated reports whether err is the throttling gate's refusal of a call that never
// reached Graph.
func gated(err error) bool {
	var te *ThrottledError
	return errors.As(err, &te) && te.Gated
}
