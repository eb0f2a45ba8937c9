// Package auth validates the Entra ID (Azure AD) bearer tokens that client apps send to
// graphgate's own API and turns them into a Principal.
//
// Entra issues these access tokens in v1.0 or v2.0 format, as graphgate's app
// registration (accessTokenAcceptedVersion) chooses; both are accepted with the same
// strictness. Only RS256 access tokens minted for graphgate's app registration are
// accepted: the token's tenant (tid) must be configured, its issuer must be exactly that
// tenant's issuer for the token's version (ver), its audience one that version carries,
// its client app (appid in v1.0, azp in v2.0) a GUID, its signing key must come from
// that tenant's JWKS, and it must be a delegated (user) token carrying the required
// scope. Tokens minted for Microsoft Graph itself are
// refused. Verified tokens are cached by their SHA-256 so the hot path does no RSA.
package auth

import (
	"slices"
	"time"
)

// Principal is the verified caller: a user (ObjectID) of a tenant (TenantID) calling
// through a client app (ClientAppID).
type Principal struct {
	// TenantID is the token's tid: the GUID of the caller's Entra tenant.
	TenantID string
	// ObjectID is the token's oid: the caller's immutable user object id in the tenant.
	// It is personal data: never log it raw.
	ObjectID string
	// ClientAppID is the application (client) id of the calling app: the token's appid
	// (v1.0) or azp (v2.0).
	ClientAppID string
	// Roles are the app roles of graphgate's app registration granted to the user,
	// for example "Gateway.Admin".
	Roles []string
	// Scopes are the delegated scopes of the token (scp, split on spaces).
	Scopes []string
	// IssuedAt is the token's iat; revocation compares it with a user's cut-off.
	IssuedAt time.Time
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
}

// HasRole reports whether the principal holds the app role r (exact, case-sensitive
// match, as Entra emits role values verbatim).
func (p Principal) HasRole(r string) bool {
	return slices.Contains(p.Roles, r)
}

// HasScope reports whether the token carries the delegated scope s.
func (p Principal) HasScope(s string) bool {
	return slices.Contains(p.Scopes, s)
}

// clone returns a copy whose slices do not alias p's, so a caller cannot change a
// cached principal.
func (p Principal) clone() Principal {
	p.Roles = slices.Clone(p.Roles)
	p.Scopes = slices.Clone(p.Scopes)
	return p
}
