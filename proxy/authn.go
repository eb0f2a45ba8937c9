package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/auth"
	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/metrics"
)

// callers verifies who is calling: the bearer token, the tenant, and the session
// (revocation list, Entra's signInSessionsValidFromDateTime, deactivated accounts).
type callers struct {
	verifier TokenVerifier
	policy   *policy.Policy
	dir      *directory.Directory
	revs     Revocations
	metrics  *metrics.Metrics
	log      *slog.Logger
}

// verify validates the bearer token and the session and records the caller in the
// request's scope. It is the one way every authenticated route learns who is calling;
// on failure it has already answered.
func (a *callers) verify(c *gin.Context) bool {
	if len(c.Request.Header.Values("Authorization")) > 1 {
		// Ambiguous: which one would a proxy in front of us have checked? Refuse it.
		abortWithError(c, authError(&auth.Error{Code: auth.CodeInvalidRequest, Status: http.StatusBadRequest,
			Description: "the request holds more than one Authorization header"}))
		return false
	}
	raw, err := auth.ParseAuthorizationHeader(c.GetHeader("Authorization"))
	if err != nil {
		abortWithError(c, authError(err))
		return false
	}
	p, err := a.verifier.Verify(c.Request.Context(), raw)
	if err != nil {
		abortWithError(c, authError(err))
		return false
	}
	scopeOf(c).setPrincipal(p)
	if !a.dir.Serves(p.TenantID) {
		abortWithError(c, authError(&auth.Error{Code: auth.CodeInvalidToken, Status: http.StatusUnauthorized,
			Description: "the token's tenant is not served by this gateway"}))
		return false
	}
	if err := a.checkSession(c.Request.Context(), p); err != nil {
		abortWithError(c, err)
		return false
	}
	return true
}

// authenticate admits callers of the read path: a valid token and session, and a client
// app the policy knows (default deny).
func (a *callers) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !a.verify(c) {
			return
		}
		sc := scopeOf(c)
		cl, ok := a.policy.Client(sc.principal.ClientAppID)
		if !ok {
			abortWithError(c, errForbidden("The calling client application is not allowed by the gateway's policy."))
			return
		}
		sc.client = cl
		c.Next()
	}
}

// authenticateSession admits any caller with a valid token and session, whatever its
// client app. The admin and usage APIs use it with requireRole: there the app role,
// assigned per tenant in Entra, grants access, and the APIs return no profile data.
func (a *callers) authenticateSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.verify(c) {
			c.Next()
		}
	}
}

// authError maps a token problem to a 401/400/403 answer with an RFC 6750 challenge.
func authError(err error) *apiError {
	if errors.Is(err, auth.ErrKeysUnavailable) {
		return &apiError{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
			Message:    "The gateway cannot validate tokens right now: the tenant's signing keys are unavailable.",
			RetryAfter: 5 * time.Second, cause: err}
	}
	var ae *auth.Error
	if !errors.As(err, &ae) {
		ae = &auth.Error{Code: "invalid_token", Status: http.StatusUnauthorized, Description: "the access token is invalid"}
	}
	status := ae.Status
	if status == 0 {
		status = http.StatusUnauthorized
	}
	code := "InvalidAuthenticationToken"
	msg := "Access token is empty."
	if ae.Code != "" {
		msg = fmt.Sprintf("Access token validation failure: %s.", ae.Description)
	}
	if status == http.StatusForbidden {
		code = "Authorization_RequestDenied"
		msg = fmt.Sprintf("Insufficient privileges: %s.", ae.Description)
	}
	return &apiError{Status: status, Code: code, Message: msg, WWWAuthenticate: ae.WWWAuthenticate(), cause: err}
}

// require refuses the request with 403 unless the caller's client app may use op.
func require(op policy.Operation) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := scopeOf(c).client
		if !cl.Allows(op) {
			abortWithError(c, errForbidden(fmt.Sprintf("The client application %q may not use operation %q.", cl.Name, op)))
			return
		}
		c.Next()
	}
}

// requireAny refuses the request with 403 unless the caller may use one of ops.
func requireAny(ops ...policy.Operation) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := scopeOf(c).client
		for _, op := range ops {
			if cl.Allows(op) {
				c.Next()
				return
			}
		}
		abortWithError(c, errForbidden("The client application may not read user profiles."))
	}
}

// requireRole refuses the request with 403 unless the caller holds the app role.
func requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !scopeOf(c).principal.HasRole(role) {
			abortWithError(c, errForbidden("The caller does not hold the app role "+role+" of the gateway."))
			return
		}
		c.Next()
	}
}
