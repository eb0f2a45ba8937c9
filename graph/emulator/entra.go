package emulator

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Entra error codes (AADSTS numbers) the emulator answers with.
const (
	aadMissingParam      = 900144
	aadTenantNotFound    = 90002
	aadAppNotFound       = 700016
	aadNeedSecret        = 7000218
	aadBadSecret         = 7000215
	aadBadAssertion      = 700027
	aadBadScope          = 70011
	aadCCScope           = 1002012
	aadResourceNotFound  = 500011
	aadUnsupportedGrant  = 70003
	aadBadCredentials    = 50126
	aadUserDisabled      = 50057
	aadUserNotFound      = 50034
	aadBadRefreshToken   = 9002313
	aadRevoked           = 50173
	aadGrantNotOnCommon  = 9001023
	clientAssertionJWTv1 = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// isCommon reports whether a tenant path segment is a multi-tenant alias.
func isCommon(seg string) bool {
	seg = strings.ToLower(seg)
	return seg == "common" || seg == "organizations"
}

// handleUserRealm answers MSAL's home-realm discovery for the password grant: every
// account is managed (no federation).
func (e *Emulator) handleUserRealm(w http.ResponseWriter, r *http.Request) {
	_, domain, _ := strings.Cut(r.PathValue("username"), "@")
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{
		"ver": "1.0", "account_type": "Managed", "domain_name": domain,
		"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline",
	})
}

// handleToken is the token endpoint: client_credentials, password and refresh_token.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	if !e.applyFaults(w, r, r.Pattern, false) {
		return
	}
	if err := r.ParseForm(); err != nil {
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadMissingParam,
			"The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	state(r).appID = clientID
	switch grant := f.Get("grant_type"); grant {
	case "client_credentials":
		e.clientCredentials(w, r, clientID, secret)
	case "password":
		e.passwordGrant(w, r, clientID)
	case "refresh_token":
		e.refreshTokenGrant(w, r, clientID)
	case "":
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadMissingParam,
			"The request body must contain the following parameter: 'grant_type'.")
	default:
		entraError(w, r, http.StatusBadRequest, "unsupported_grant_type", aadUnsupportedGrant,
			"The app requested an unsupported grant type '"+grant+"'.")
	}
}

// handleTokenV1 is Entra's v1.0 token endpoint (/{tenant}/oauth2/token, advertised by
// the v1.0 discovery document): it names the target API with "resource" instead of
// "scope", and otherwise issues what the v2.0 endpoint issues for "{resource}/.default"
// (the token's version still follows the resource's registration). See
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// (the v1.0 "resource" parameter) and
// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats.
func (e *Emulator) handleTokenV1(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err == nil && r.PostForm.Get("scope") == "" {
		res := strings.TrimSuffix(r.PostForm.Get("resource"), "/")
		if res == "" && r.PostForm.Get("grant_type") != "" {
			entraError(w, r, http.StatusBadRequest, "invalid_request", aadMissingParam,
				"The request body must contain the following parameter: 'resource'.")
			return
		}
		if res != "" {
			r.PostForm.Set("scope", res+"/.default")
		}
	}
	e.handleToken(w, r)
}

// tokenTenant resolves the tenant of the token request path or writes the error.
func (e *Emulator) tokenTenant(w http.ResponseWriter, r *http.Request) *tenantState {
	seg := r.PathValue("tenant")
	ts := e.tenant(seg)
	if ts == nil {
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadTenantNotFound, "Tenant '"+seg+
			"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return nil
	}
	state(r).tenantID = ts.ID
	return ts
}

// clientCredentials issues the gateway app's app-only Graph token.
func (e *Emulator) clientCredentials(w http.ResponseWriter, r *http.Request, clientID, secret string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts := e.tokenTenant(w, r)
	if ts == nil {
		return
	}
	f := r.PostForm
	if clientID == "" {
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadMissingParam,
			"The request body must contain the following parameter: 'client_id'.")
		return
	}
	if !strings.EqualFold(clientID, ts.GatewayAppID) {
		if _, public := ts.client(clientID); public {
			entraError(w, r, http.StatusUnauthorized, "invalid_client", aadNeedSecret,
				"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
			return
		}
		e.appNotFound(w, r, ts, clientID)
		return
	}
	appidacr := "1" // client secret
	switch assertion := f.Get("client_assertion"); {
	case assertion != "":
		appidacr = "2" // client certificate
		if f.Get("client_assertion_type") != clientAssertionJWTv1 || !e.verifyAssertion(ts, clientID, assertion) {
			entraError(w, r, http.StatusUnauthorized, "invalid_client", aadBadAssertion,
				"The certificate with identifier used to sign the client assertion is not registered on application, or the client assertion failed signature validation.")
			return
		}
	case secret == "":
		entraError(w, r, http.StatusUnauthorized, "invalid_client", aadNeedSecret,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	case secret != ts.GatewayClientSecret:
		entraError(w, r, http.StatusUnauthorized, "invalid_client", aadBadSecret,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
		return
	}
	if !checkGraphScope(w, r, ts, f.Get("scope")) {
		return
	}
	tok, err := signJWT(ts.keys[len(ts.keys)-1], e.appClaims(ts, e.now(), graphTokenTTL, appidacr))
	if err != nil {
		entraError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	writeToken(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// checkGraphScope validates the client_credentials scope (Graph's /.default) or writes
// Entra's error. MSAL adds the OIDC scopes to every request; Entra ignores them here.
func checkGraphScope(w http.ResponseWriter, r *http.Request, ts *tenantState, raw string) bool {
	scope := strings.Join(slices.DeleteFunc(strings.Fields(raw), func(s string) bool {
		return slices.Contains(oidcScopes, strings.ToLower(s))
	}), " ")
	switch {
	case scope == "":
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadMissingParam,
			"The request body must contain the following parameter: 'scope'.")
	case !strings.HasSuffix(scope, "/.default"):
		entraError(w, r, http.StatusBadRequest, "invalid_scope", aadCCScope, "The provided value for scope "+scope+
			" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
	case !isGraphAudience(strings.TrimSuffix(scope, "/.default")):
		entraError(w, r, http.StatusBadRequest, "invalid_resource", aadResourceNotFound, "The resource principal named "+
			strings.TrimSuffix(scope, "/.default")+" was not found in the tenant named "+ts.Name+
			". This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
	default:
		return true
	}
	return false
}

// appNotFound writes AADSTS700016 for an unknown client id.
func (e *Emulator) appNotFound(w http.ResponseWriter, r *http.Request, ts *tenantState, clientID string) {
	entraError(w, r, http.StatusBadRequest, "unauthorized_client", aadAppNotFound, "Application with identifier '"+
		clientID+"' was not found in the directory '"+ts.Name+
		"'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
}

// writeToken writes a successful token response.
func writeToken(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", body)
}

// verifyAssertion checks a certificate credential (private_key_jwt) against the certs
// registered for the gateway app; callers hold e.mu.
func (e *Emulator) verifyAssertion(ts *tenantState, clientID, assertion string) bool {
	tok, err := parseJWT(assertion)
	if err != nil {
		return false
	}
	now := e.now()
	aud := tok.str(tok.claims, "aud")
	if tok.str(tok.claims, "iss") != clientID || tok.str(tok.claims, "sub") != clientID ||
		!strings.HasPrefix(aud, e.url+"/") || !strings.Contains(aud, "/oauth2/") ||
		!now.Before(tok.unix("exp").Add(5*time.Minute)) {
		return false
	}
	for _, c := range ts.certs {
		if !thumbprintMatches(tok, c) {
			continue
		}
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && tok.verifyRSA(pub) == nil {
			return true
		}
	}
	return false
}

// thumbprintMatches compares the assertion's x5t#S256 or x5t header with cert (absent
// headers match any cert).
func thumbprintMatches(tok *jwtParts, c *x509.Certificate) bool {
	s256, s1 := sha256.Sum256(c.Raw), sha1.Sum(c.Raw)
	check := func(h string, sum []byte) bool {
		return h == base64.StdEncoding.EncodeToString(sum) || h == base64.RawURLEncoding.EncodeToString(sum) ||
			h == base64.URLEncoding.EncodeToString(sum)
	}
	if h := tok.str(tok.header, "x5t#S256"); h != "" {
		return check(h, s256[:])
	}
	if h := tok.str(tok.header, "x5t"); h != "" {
		return check(h, s1[:])
	}
	return true
}

// AddGatewayCertificate registers a certificate credential (RSA key) for the tenant's
// gateway app; client_credentials then accepts client assertions signed with its key.
func (e *Emulator) AddGatewayCertificate(tenantID string, cert *x509.Certificate) error {
	if cert == nil {
		return ErrInvalid
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return ErrInvalid
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := e.tenant(tenantID)
	if ts == nil {
		return ErrTenantNotFound
	}
	ts.certs = append(ts.certs, cert)
	return nil
}
