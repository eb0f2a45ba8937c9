package graph

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DefaultMaxRetryWait is Config.MaxRetryWait's default: the longest throttling delay
// (Graph's Retry-After or the client's back-off) a call waits out before retrying. One
// second is the shortest Retry-After graphgate can answer its own clients (whole
// seconds, never 0), so waiting that long inside a request never keeps a client longer
// than a 429 would; a longer wait holds an upstream slot and the client's connection
// for nothing, and Graph's Retry-After values are typically several seconds.
const DefaultMaxRetryWait = time.Second

// service is a Graph workload with throttling limits of its own. Graph throttles each
// service separately ("Microsoft Graph service-specific throttling limits",
// https://learn.microsoft.com/en-us/graph/throttling-limits): users and the org chart
// under the identity and access service limits, profile photos under Outlook's (per
// mailbox), presence under cloud communications', relevant people (the People API,
// computed from each mailbox's communication) apart from all three. A 429 on one photo
// must not stop user reads, searches or a logout's revokeSignInSessions.
type service int

const (
	directory service = iota // users, lists, org chart, $batch of users, revokeSignInSessions
	photos                   // profile photos
	presence                 // presence and getPresencesByUserId
	people                   // the People API (/users/{id}/people)
	numServices
)

// serviceOf classifies a Graph request path by its segments after the version, so that
// a key (a UPN such as presence@…) never decides: /users/{id}/photo(s)/… is photos,
// /users/{id}/presence and /communications/… are presence, /users/{id}/people is people,
// anything else directory.
func serviceOf(path string) service {
	segs := strings.Split(strings.ToLower(path), "/")
	for i, seg := range segs {
		switch {
		case seg == "communications":
			return presence
		case i > 0 && segs[i-1] == "users":
			continue // the key
		case seg == "photo" || seg == "photos":
			return photos
		case seg == "presence":
			return presence
		case seg == "people":
			return people
		}
	}
	return directory
}

// gates are one Client's throttling gates, one per service.
type gates [numServices]gate

// gate is the throttling gate of one service of one Client, hence of one tenant: the
// instant before which no request to that service may reach Graph. Graph asks callers to stop sending requests until
// Retry-After has passed: "If you continue to send requests while your app is
// throttled, the Retry-After value may become longer"
// (https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling).
// Every 429 the client receives, for a whole request or a $batch item, closes it.
type gate struct {
	mu     sync.Mutex
	until  time.Time
	streak int // 429s without Retry-After since the service last answered otherwise
}

// throttled records a 429 of the gate's service and returns how long the gate stays
// shut. With Graph's Retry-After the gate is shut for it. Without one, Graph advises an
// exponential back-off: the gate's back-off doubles with each such 429 that finds the
// gate open (1 s, 2 s, 4 s, … up to maxThrottleBackoff), across calls, until the
// service answers a request otherwise (succeeded); a 429 that finds the gate already
// shut (a request or $batch item in flight when it closed) does not escalate it.
func (g *gate) throttled(retryAfter time.Duration, given bool) time.Duration {
	if given {
		g.close(retryAfter)
		return g.remaining()
	}
	g.mu.Lock()
	if !time.Now().Before(g.until) {
		g.streak++
	}
	d := throttleBackoff(max(g.streak, 1))
	g.mu.Unlock()
	g.close(d)
	return g.remaining()
}

// succeeded records that the gate's service answered a request with something other
// than 429: the back-off starts again from its first step.
func (g *gate) succeeded() {
	g.mu.Lock()
	g.streak = 0
	g.mu.Unlock()
}

// close keeps the gate shut for d from now: it extends the gate, never shortens it.
func (g *gate) close(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
}

// remaining returns how long the gate stays shut; 0 when it is open.
func (g *gate) remaining() time.Duration {
	g.mu.Lock()
	until := g.until
	g.mu.Unlock()
	return max(time.Until(until), 0)
}

// admit returns nil when a request may be sent to Graph. While the gate is shut, a
// request whose caller is prepared to wait (patience, e.g. a retry within
// Config.MaxRetryWait) waits for it to open if the wait is at most patience and fits
// ctx's deadline; any other request is refused at once with an *Error of kind
// ErrThrottled whose *ThrottledError (Gated set) carries the remaining delay. Waiting
// re-checks the gate, which another 429 may have extended meanwhile.
func (g *gate) admit(ctx context.Context, op string, patience time.Duration) error {
	for {
		d := g.remaining()
		if d <= 0 {
			return nil
		}
		if d > patience || !fits(ctx, d) {
			return gatedError(op, d)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// gatedError is the refusal of a request the gate kept from Graph: no HTTP status (Graph
// never saw it), the remaining delay as Retry-After.
func gatedError(op string, d time.Duration) *Error {
	return &Error{Kind: ErrThrottled, op: op, cause: &ThrottledError{RetryAfter: d, Gated: true}}
}
