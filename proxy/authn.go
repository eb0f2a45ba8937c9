package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/auth"
)

const (
	ctxPrincipal = "graphgate.principal"
	ctxClient    = "graphgate.client"
	ctxTenant    = "graphgate.tenant"
)

// caller is everything a handler knows about who is calling.
type caller struct {
	principal auth.Principal
	client    *policy.Client
	tenant    *tenantState
}

func principalOf(c *gin.Context) (auth.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return auth.Principal{}, false
	}
	p, ok := v.(auth.Principal)
	return p, ok
}

func callerOf(c *gin.Context) caller {
	p, _ := principalOf(c)
	cl, _ := c.MustGet(ctxClient).(*policy.Client)
	t, _ := c.MustGet(ctxTenant).(*tenantState)
	return caller{principal: p, client: cl, tenant: t}
}

// verifyCaller validates the bearer token and the session (revocation, Entra's
// signInSessionsValidFromDateTime, deactivated accounts) and resolves the tenant. It is
// the one way every authenticated route learns who is calling; on failure it has
// already answered.
func (s *Server) verifyCaller(c *gin.Context) (auth.Principal, *tenantState, bool) {
	if len(c.Request.Header.Values("Authorization")) > 1 {
		// Ambiguous: which one would a proxy in front of us have checked? Refuse it.
		abortWithError(c, authError(&auth.Error{Code: auth.CodeInvalidRequest, Status: http.StatusBadRequest,
			Description: "the request holds more than one Authorization header"}))
		return auth.Principal{}, nil, false
	}
	raw, err := auth.ParseAuthorizationHeader(c.GetHeader("Authorization"))
	if err != nil {
		abortWithError(c, authError(err))
		return auth.Principal{}, nil, false
	}
	p, err := s.cfg.Verifier.Verify(c.Request.Context(), raw)
	if err != nil {
		abortWithError(c, authError(err))
		return auth.Principal{}, nil, false
	}
	c.Set(ctxPrincipal, p)
	t, ok := s.tenants[p.TenantID]
	if !ok {
		abortWithError(c, authError(&auth.Error{Code: auth.CodeInvalidToken, Status: http.StatusUnauthorized,
			Description: "the token's tenant is not served by this gateway"}))
		return p, nil, false
	}
	if err := s.checkSession(c.Request.Context(), p); err != nil {
		abortWithError(c, err)
		return p, nil, false
	}
	c.Set(ctxTenant, t)
	return p, t, true
}

// authenticate admits callers of the read path: a valid token and session, and a client
// app the policy knows (default deny).
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _, ok := s.verifyCaller(c)
		if !ok {
			return
		}
		cl, ok := s.cfg.Policy.Client(p.ClientAppID)
		if !ok {
			abortWithError(c, errForbidden("The calling client application is not allowed by the gateway's policy."))
			return
		}
		c.Set(ctxClient, cl)
		c.Next()
	}
}

// authenticateSession admits any caller with a valid token and session, whatever its
// client app. The admin and usage APIs use it with requireRole: there the app role,
// assigned per tenant in Entra, grants access, and the APIs return no profile data.
func (s *Server) authenticateSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, _, ok := s.verifyCaller(c); ok {
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
		cl := callerOf(c).client
		if !cl.Allows(op) {
			abortWithError(c, errForbidden(fmt.Sprintf("The client application %q may not use operation %q.", cl.Name, op)))
			return
		}
		c.Next()
	}
}
