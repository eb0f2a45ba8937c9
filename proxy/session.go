package proxy

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/directory"
)

// Revocations is the per-user revocation list: checked on every request (a local
// lookup), written by the admin logout. *revoke.Memory and *revoke.Redis implement it.
type Revocations interface {
	// Check reports whether a token of the user issued at issuedAt is revoked.
	Check(tenantID, userID string, issuedAt time.Time) revoke.Verdict
	// Revoke refuses every token of the user issued before now + the lock-out window.
	Revoke(ctx context.Context, tenantID, userID string) (revoke.Revocation, error)
	// PurgeTenant tells the other instances (if any) to purge a tenant's cache.
	PurgeTenant(ctx context.Context, tenantID string) (bool, error)
	// Subscribe registers callbacks for revocations and purges from other instances.
	Subscribe(revoke.Subscriber)
	// KeyOf returns the keyed hash of a user, as the subscribers' UserRevoked receives it.
	KeyOf(tenantID, userID string) string
	// Lockout is how long after a revocation Entra's token service may still issue
	// tokens from revoked refresh tokens; it widens every cut-off, the gateway's own
	// and Entra's signInSessionsValidFromDateTime alike.
	Lockout() time.Duration
}

// purgeUserByKey drops every cached entry of the tenant holding data of the user whose
// keyed hash (Revocations.KeyOf) is key. Other instances name a revoked user by that
// hash only, so each user id the tenant's cached entries list is hashed and compared.
func purgeUserByKey(dir *directory.Directory, revs Revocations, tenantID, key string) {
	dir.PurgeUsersWhere(tenantID, func(userID string) bool { return revs.KeyOf(tenantID, userID) == key })
}

// errRevocationUnavailable answers tokens the revocation list cannot check (its shared
// view is not current and the configured mode is fail_closed).
var errRevocationUnavailable = &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
	Message:    "The gateway cannot check whether the session was revoked right now; retry shortly.",
	RetryAfter: 5 * time.Second}

// errSessionEnded answers a token whose session was ended: 401 invalid_token with a
// description telling the client app to sign the user out.
func errSessionEnded(desc string) *apiError {
	return authError(&auth.Error{Code: auth.CodeInvalidToken, Status: http.StatusUnauthorized, Description: desc})
}

// Descriptions of ended sessions, as sent in error_description.
const (
	descRevoked      = "the session was revoked by an administrator; sign the user out and sign in again"
	descEntraRevoked = "the session was revoked (the user's sign-in sessions were revoked in Entra ID); sign the user out and sign in again"
	descDisabled     = "the session was revoked: the user account is disabled or no longer exists"
)

// checkSession refuses a verified token whose session has ended: a gateway-side
// revocation (cut-off after its iat), Entra's signInSessionsValidFromDateTime after its
// iat, or a deactivated or deleted account. Entra's facts come from the caller's own
// user record, cached no longer than profiles are, so they hold across restarts
// without the gateway storing anything. If the record cannot be read (Graph down or
// throttling), only the revocation list is enforced.
func (a *callers) checkSession(ctx context.Context, p auth.Principal) error {
	switch a.revs.Check(p.TenantID, p.ObjectID, p.IssuedAt) {
	case revoke.Revoked:
		a.metrics.RevokedTokenRefused()
		return errSessionEnded(descRevoked)
	case revoke.Unverifiable:
		return errRevocationUnavailable
	}
	u, _, err := a.dir.AnyUser(ctx, p.TenantID, p.ObjectID)
	switch {
	case err == nil:
	case errors.Is(err, directory.ErrNotFound):
		return errSessionEnded(descDisabled)
	default:
		a.log.Debug("session check without the user record", "tenant", p.TenantID, "error_code", apiErrorOf(err).Code)
		return nil
	}
	if !u.AccountEnabled() {
		return errSessionEnded(descDisabled)
	}
	// Entra's token service learns of a revocation minutes after the directory does and
	// meanwhile still redeems the revoked refresh tokens (graph/emulator/replica.go), so
	// tokens issued within the lock-out after signInSessionsValidFromDateTime are
	// refused too, as after a logout through the gateway.
	if from, ok := u.SignInSessionsValidFrom(); ok && revoke.IssuedBefore(p.IssuedAt, from.Add(a.revs.Lockout())) {
		a.metrics.RevokedTokenRefused()
		return errSessionEnded(descEntraRevoked)
	}
	return nil
}
