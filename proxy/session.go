package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/proxy/audit"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
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
}

// AuditSink receives one record per admin action. *audit.Logger implements it.
type AuditSink interface {
	Emit(audit.Event) error
}

// discardAudit is the AuditSink used when none is configured.
type discardAudit struct{}

func (discardAudit) Emit(audit.Event) error { return nil }

// initSessions fills in the revocation list and audit sink defaults and has the list
// purge this instance's cache when another instance revokes a user or purges a tenant.
func (s *Server) initSessions() error {
	if s.cfg.Revocations == nil {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("proxy: revocation key: %w", err)
		}
		m, err := revoke.NewMemory(revoke.Config{Secret: secret})
		if err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		s.cfg.Revocations = m
	}
	if s.cfg.Audit == nil {
		s.cfg.Audit = discardAudit{}
	}
	s.cfg.Revocations.Subscribe(revoke.Subscriber{
		UserRevoked:  s.purgeUserByKey,
		TenantPurged: func(tenantID string) { s.PurgeTenant(tenantID) },
	})
	return nil
}

// purgeUserByKey drops every cached entry of the tenant holding data of the user whose
// keyed hash (Revocations.KeyOf) is key. Other instances name a revoked user by that
// hash only, so each user id the tenant's cached entries list is hashed and compared.
func (s *Server) purgeUserByKey(tenantID, key string) {
	s.cache.PurgeUsersWhere(tenantID, func(userID string) bool {
		return s.cfg.Revocations.KeyOf(tenantID, userID) == key
	})
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
func (s *Server) checkSession(ctx context.Context, p auth.Principal) error {
	switch s.cfg.Revocations.Check(p.TenantID, p.ObjectID, p.IssuedAt) {
	case revoke.Revoked:
		s.cfg.Metrics.RevokedTokenRefused()
		return errSessionEnded(descRevoked)
	case revoke.Unverifiable:
		return errRevocationUnavailable
	}
	t, ok := s.tenants[p.TenantID]
	if !ok {
		return nil // authenticate refuses the tenant next
	}
	u, _, err := s.loadAnyUser(ctx, t, p.ObjectID)
	var ae *apiError
	switch {
	case err == nil:
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return errSessionEnded(descDisabled)
	default:
		s.log.Debug("session check without the user record", "tenant", p.TenantID, "error_type", fmt.Sprintf("%T", err))
		return nil
	}
	if !enabled(u) {
		return errSessionEnded(descDisabled)
	}
	if from, ok := validFrom(u); ok && revoke.IssuedBefore(p.IssuedAt, from) {
		s.cfg.Metrics.RevokedTokenRefused()
		return errSessionEnded(descEntraRevoked)
	}
	return nil
}

// validFrom reads signInSessionsValidFromDateTime from a user record.
func validFrom(u graph.User) (time.Time, bool) {
	s, _ := u["signInSessionsValidFromDateTime"].(string)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
