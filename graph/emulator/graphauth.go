package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// graphFunc is a Graph handler running for an authenticated app in a tenant.
type graphFunc func(w http.ResponseWriter, r *http.Request, ts *tenantState)

// graph wraps a Graph handler: bearer-token validation (the token's tid selects the
// tenant), application permission check, throttling, then faults.
func (e *Emulator) graph(perms []string, throttle bool, h graphFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ts, tok, ok := e.authenticate(w, r)
		if !ok {
			return
		}
		st := state(r)
		st.tenantID = ts.ID
		st.appID = tok.str(tok.claims, "appid")
		if st.appID == "" {
			st.appID = tok.str(tok.claims, "azp")
		}
		if perms != nil && !hasRole(tok, perms) {
			graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied",
				"Insufficient privileges to complete the operation.")
			return
		}
		if throttle && !e.applyThrottle(w, r, ts.ID, st.appID) {
			return
		}
		if !e.applyFaults(w, r, r.Pattern, true) {
			return
		}
		h(w, r, ts)
	}
}

// hasRole reports whether the token's roles claim holds one of perms.
func hasRole(tok *jwtParts, perms []string) bool {
	roles, _ := tok.claims["roles"].([]any)
	for _, r := range roles {
		if s, ok := r.(string); ok && slices.Contains(perms, s) {
			return true
		}
	}
	return false
}

// authenticate validates the bearer token as Graph does and resolves its tenant; on
// failure it writes 401 InvalidAuthenticationToken.
func (e *Emulator) authenticate(w http.ResponseWriter, r *http.Request) (*tenantState, *jwtParts, bool) {
	fail := func(msg string) (*tenantState, *jwtParts, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+e.url+
			`/common/oauth2/authorize", client_id="`+graphAppID+`"`)
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return nil, nil, false
	}
	authz := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(authz, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return fail("Access token is empty.")
	}
	tok, err := parseJWT(raw)
	if err != nil {
		return fail("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.")
	}
	e.mu.RLock()
	ts := e.tenant(tok.str(tok.claims, "tid"))
	var key *signingKey
	if ts != nil {
		for _, k := range ts.keys {
			if k.kid == tok.str(tok.header, "kid") {
				key = k
			}
		}
	}
	e.mu.RUnlock()
	switch now := e.now(); {
	case ts == nil || tok.str(tok.claims, "tid") != ts.ID:
		return fail("Access token validation failure. Invalid issuer.")
	case tok.str(tok.header, "alg") != "RS256" || key == nil || tok.verifyRSA(&key.key.PublicKey) != nil:
		return fail("Access token validation failure. Invalid signature.")
	case !isGraphAudience(tok.str(tok.claims, "aud")):
		return fail("Access token validation failure. Invalid audience.")
	case !e.validIssuer(ts, tok):
		return fail("Access token validation failure. Invalid issuer.")
	case !now.Before(tok.unix("exp").Add(5 * time.Minute)):
		return fail("Lifetime validation failed, the token is expired.")
	case now.Add(5 * time.Minute).Before(tok.unix("nbf")):
		return fail("Lifetime validation failed, the token is not yet valid.")
	}
	return ts, tok, true
}

// validIssuer reports whether the token's iss is its tenant's issuer for the token's
// version: Graph's registration receives v1.0 tokens, issued by sts.windows.net ("Access
// token claims reference", iss and ver:
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
func (e *Emulator) validIssuer(ts *tenantState, tok *jwtParts) bool {
	want, ok := e.issuerFor(ts.ID, tok.str(tok.claims, "ver"))
	return ok && tok.str(tok.claims, "iss") == want
}
