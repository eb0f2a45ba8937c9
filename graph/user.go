package graph

import "time"

// User is a user object as Graph returns it, restricted to the requested fields
// (Graph's default property set when none were requested), without @odata.* keys.
// A requested field Graph has no value for is present with a nil value, as in Graph.
//
// Code outside this package reads the properties it decides on through the typed
// accessors (ID, DisplayName, AccountEnabled, SignInSessionsValidFrom), never by
// string key; the map itself is what is passed on to clients after filtering.
type User map[string]any

// Property names read by the accessors, spelt as Graph spells them.
const (
	propID                      = "id"
	propDisplayName             = "displayName"
	propAccountEnabled          = "accountEnabled"
	propSignInSessionsValidFrom = "signInSessionsValidFromDateTime"
)

// ID returns the user's object id, or "" when the record has none.
func (u User) ID() string {
	s, _ := u[propID].(string)
	return s
}

// DisplayName returns the user's display name, or "" when the record has none.
func (u User) DisplayName() string {
	s, _ := u[propDisplayName].(string)
	return s
}

// AccountEnabled reports whether the record is of an enabled account. A record
// without accountEnabled (Graph returns it only when selected) or with a value that
// is not a boolean counts as disabled: hiding too much is the safe failure.
func (u User) AccountEnabled() bool {
	v, ok := u[propAccountEnabled].(bool)
	return ok && v
}

// SignInSessionsValidFrom returns signInSessionsValidFromDateTime, the time before
// which Entra considers the user's sign-in sessions revoked. It reports false when the
// record has no such value (Graph returns it only when selected) or the value is not
// an RFC 3339 time.
func (u User) SignInSessionsValidFrom() (time.Time, bool) {
	s, _ := u[propSignInSessionsValidFrom].(string)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
