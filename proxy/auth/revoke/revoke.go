// Package revoke keeps graphgate's per-user revocation list: for a (tenant, user) pair,
// a cut-off time before which every access token of that user is refused.
//
// Users are never stored under their raw ids: an entry's key is
// hex(HMAC-SHA256(secret, tenant‖0x00‖oid)), userkey.Of, as in the audit trail. The hot-path check (Check) is a
// local map lookup; stores that share revocations between gateway instances (Redis)
// keep a local mirror that they update in the background.
package revoke

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Defaults applied to zero Config fields.
const (
	DefaultLockout          = 5 * time.Minute
	DefaultMaxTokenLifetime = 90 * time.Minute
	DefaultMaxStaleness     = 30 * time.Second
)

// Mode says what a store does with tokens it cannot check because its view of the
// shared list is not current (never loaded, or lost contact for longer than
// Config.MaxStaleness). Known revocations are enforced in every mode.
type Mode string

const (
	// FailClosed answers Unverifiable for such tokens: the gateway refuses them with
	// 503 and Retry-After until the list is current again. It is the default.
	FailClosed Mode = "fail_closed"
	// FailOpen answers Allow for such tokens: the gateway keeps serving with the last
	// known list (and Entra's signInSessionsValidFromDateTime as a backstop).
	FailOpen Mode = "fail_open"
)

// Verdict is the outcome of checking a token against the list.
type Verdict int

const (
	// Allow means the token is not revoked as far as the store can tell.
	Allow Verdict = iota
	// Revoked means the token was issued before its user's cut-off.
	Revoked
	// Unverifiable means the store's view is not current and Mode is FailClosed.
	Unverifiable
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Revoked:
		return "revoked"
	default:
		return "unverifiable"
	}
}

// Config configures a store. Secret is required; the zero value of every other field
// is a safe default.
type Config struct {
	// Secret keys the HMAC under which users are stored (at least 16 bytes). Every
	// gateway instance sharing a Redis must use the same secret.
	Secret []byte
	// Lockout is added to the logout time to get the cut-off: tokens issued up to that
	// long after the logout are refused too, covering Entra's delay in revoking
	// refresh tokens. 0 means five minutes; negative means none.
	Lockout time.Duration
	// MaxTokenLifetime is the longest lifetime of an accepted access token; a
	// revocation is remembered for Lockout + MaxTokenLifetime. 0 means 90 minutes.
	MaxTokenLifetime time.Duration
	// OnUnavailable is what to do with tokens the store cannot check; "" means
	// FailClosed.
	OnUnavailable Mode
	// MaxStaleness is how long a store that lost contact with the shared list keeps
	// answering Allow for unrevoked tokens under FailClosed; 0 means 30 seconds.
	MaxStaleness time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
	// Logger receives state changes (no personal data); nil discards.
	Logger *slog.Logger
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	if len(c.Secret) < 16 {
		return c, errors.New("revoke: config: the secret must be at least 16 bytes")
	}
	c = c.withDurationDefaults()
	switch c.OnUnavailable {
	case "":
		c.OnUnavailable = FailClosed
	case FailClosed, FailOpen:
	default:
		return c, fmt.Errorf("revoke: config: on_unavailable must be %q or %q", FailClosed, FailOpen)
	}
	if c.MaxStaleness <= 0 {
		c.MaxStaleness = DefaultMaxStaleness
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// withDurationDefaults fills in Lockout and MaxTokenLifetime as their docs say.
func (c Config) withDurationDefaults() Config {
	switch {
	case c.Lockout == 0:
		c.Lockout = DefaultLockout
	case c.Lockout < 0:
		c.Lockout = 0
	}
	if c.MaxTokenLifetime <= 0 {
		c.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	return c
}

// Retention is how long a revocation is remembered: Lockout + MaxTokenLifetime. It is
// meant for a Config whose defaults are filled in; see RetentionFor otherwise.
func (c Config) Retention() time.Duration { return c.Lockout + c.MaxTokenLifetime }

// RetentionFor returns how long a store whose Config has the given Lockout and
// MaxTokenLifetime remembers a revocation, applying their defaults as a store does
// (zero lockout: DefaultLockout, negative: none; zero or negative lifetime:
// DefaultMaxTokenLifetime). It is what the record of processing states.
func RetentionFor(lockout, maxTokenLifetime time.Duration) time.Duration {
	return Config{Lockout: lockout, MaxTokenLifetime: maxTokenLifetime}.withDurationDefaults().Retention()
}

// Revocation reports what Revoke did.
type Revocation struct {
	// CutOff is the time before which the user's tokens are refused.
	CutOff time.Time
	// Expires is when the revocation is forgotten.
	Expires time.Time
	// Shared reports whether the store shares revocations with other instances at all.
	Shared bool
	// Notified reports whether the other instances were told (always false when not
	// Shared). When false on a shared store, the revocation is retried on reconnect.
	Notified bool
	// Receivers is the number of instances subscribed when the revocation was
	// published, this one included (Redis PUBLISH's answer).
	Receivers int64
	// NotifyErr says why the others were not told; it holds no personal data.
	NotifyErr error
}

// Subscriber is told about revocations and purges that other instances made, so the
// gateway can drop its cached copies. Calls come from a background goroutine, outside
// the store's locks.
type Subscriber struct {
	// UserRevoked is called with the tenant id and the keyed hash of a user whose
	// revocation arrived (Key(secret, tenant, user), as the store's KeyOf returns it);
	// the user's raw id never travels between instances.
	UserRevoked func(tenantID, key string)
	// TenantPurged is called when another instance purged a tenant's cache.
	TenantPurged func(tenantID string)
}

// IssuedBefore reports whether a token issued at iat counts as issued before cut.
// Token times have one-second resolution, so a token issued in the same second as the
// cut-off counts as before it: iat must be strictly after cut's second (Entra's rule
// for signInSessionsValidFromDateTime too).
func IssuedBefore(iat, cut time.Time) bool {
	return iat.Before(cut.Truncate(time.Second).Add(time.Second))
}

// ErrInvalidUser is returned by Revoke for an empty tenant or user id.
var ErrInvalidUser = errors.New("revoke: tenant and user ids are required")

// checkIDs validates the ids given to Revoke.
func checkIDs(tenantID, userID string) error {
	if tenantID == "" || userID == "" {
		return ErrInvalidUser
	}
	return nil
}
