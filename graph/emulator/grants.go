package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// refreshGrant is what an opaque refresh token stands for.
type refreshGrant struct {
	tenantID, userID, clientID string
	resource                   string // the gateway API as the client named it
	oidc                       []string
	issued                     time.Time
}

// oidcScopes are the OpenID Connect scopes that may accompany the gateway's scope.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// parseScopes splits a scope parameter into the OIDC scopes and the gateway resource
// the rest names, as the client spelt it ("api://{app id}" or "{app id}"); ok is false
// unless the rest is exactly the gateway's delegated scope, and bad is then the first
// invalid scope.
func parseScopes(ts *tenantState, scope string) (oidc []string, resource, bad string, ok bool) {
	for _, s := range strings.Fields(scope) {
		if slices.Contains(oidcScopes, strings.ToLower(s)) {
			oidc = append(oidc, strings.ToLower(s))
			continue
		}
		res, perm, _ := strings.Cut(s, "/")
		if strings.HasPrefix(strings.ToLower(s), "api://") {
			res, perm, _ = strings.Cut(strings.TrimPrefix(strings.ToLower(s), "api://"), "/")
			res = "api://" + res
		}
		if !strings.EqualFold(strings.TrimPrefix(res, "api://"), ts.GatewayAppID) ||
			(!strings.EqualFold(perm, "access_as_user") && perm != ".default") {
			return nil, "", s, false
		}
		resource, ok = res, true
	}
	if !ok {
		return nil, "", scope, false
	}
	return oidc, resource, "", true
}

// passwordGrant implements the resource-owner password credentials grant for demo users.
func (e *Emulator) passwordGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := r.PostForm
	username := f.Get("username")
	var ts *tenantState
	switch seg := strings.ToLower(r.PathValue("tenant")); seg {
	case "common", "consumers":
		// Entra supports the password grant only on a tenant or /organizations
		// (https://learn.microsoft.com/entra/identity-platform/v2-oauth-ropc) and answers
		// AADSTS9001023 on /common and /consumers
		// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
		entraError(w, r, http.StatusBadRequest, "invalid_request", aadGrantNotOnCommon,
			"The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
		return
	case "organizations":
		_, domain, _ := strings.Cut(username, "@")
		if ts = e.tenant(domain); ts == nil {
			entraError(w, r, http.StatusBadRequest, "invalid_grant", aadUserNotFound,
				"The user account {EUII Hidden} does not exist in the directory.")
			return
		}
		state(r).tenantID = ts.ID
	default:
		if ts = e.tokenTenant(w, r); ts == nil {
			return
		}
	}
	client, ok := ts.client(clientID)
	if !ok {
		if strings.EqualFold(clientID, ts.GatewayAppID) {
			entraError(w, r, http.StatusUnauthorized, "invalid_client", aadNeedSecret,
				"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
			return
		}
		e.appNotFound(w, r, ts, clientID)
		return
	}
	oidc, resource, bad, ok := parseScopes(ts, f.Get("scope"))
	if !ok {
		entraError(w, r, http.StatusBadRequest, "invalid_scope", aadBadScope,
			"The provided value for the input parameter 'scope' is not valid. The scope "+bad+" is not valid.")
		return
	}
	u := e.tokenServiceUser(ts, ts.byUPN[strings.ToLower(username)])
	switch {
	case u == nil:
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadUserNotFound, "The user account {EUII Hidden} does not exist in the "+
			ts.ID+" directory. To sign into this application, the account must be added to the directory.")
		return
	case f.Get("password") != ts.Password:
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadBadCredentials,
			"Error validating credentials due to invalid username or password.")
		return
	case !u.AccountEnabled:
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadUserDisabled, "The user account is disabled.")
		return
	}
	e.issueUserTokens(w, r, u, refreshGrant{tenantID: ts.ID, userID: u.ID, clientID: client.ID, resource: resource, oidc: oidc})
}

// refreshTokenGrant redeems a refresh token issued by passwordGrant.
func (e *Emulator) refreshTokenGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	g, found := e.refresh[rt]
	ts := e.tenant(g.tenantID)
	if !found || ts == nil || (!isCommon(r.PathValue("tenant")) && e.tenant(r.PathValue("tenant")) != ts) {
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadBadRefreshToken, "Invalid request. Request is malformed or invalid.")
		return
	}
	state(r).tenantID = ts.ID
	u := e.tokenServiceUser(ts, ts.byID[g.userID])
	switch {
	case !strings.EqualFold(clientID, g.clientID):
		entraError(w, r, http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
		return
	case u == nil || !u.AccountEnabled:
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadUserDisabled, "The user account is disabled.")
		return
	case g.issued.Before(u.SignInSessionsValidFromDateTime.Add(time.Second)):
		entraError(w, r, http.StatusBadRequest, "invalid_grant", aadRevoked,
			"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '"+
				g.issued.Format(time.RFC3339)+"' and the TokensValidFrom date (before which tokens are not valid) for this user is '"+
				u.SignInSessionsValidFromDateTime.Format(time.RFC3339)+"'.")
		return
	}
	if s := r.PostForm.Get("scope"); s != "" {
		var bad string
		var ok bool
		if g.oidc, g.resource, bad, ok = parseScopes(ts, s); !ok {
			entraError(w, r, http.StatusBadRequest, "invalid_scope", aadBadScope,
				"The provided value for the input parameter 'scope' is not valid. The scope "+bad+" is not valid.")
			return
		}
	}
	delete(e.refresh, rt)
	e.issueUserTokens(w, r, u, g)
}

// issueUserTokens writes the access token of grant g for user u (plus id_token,
// client_info and refresh_token as requested), in the version the gateway app's
// registration selects; callers hold e.mu for writing.
func (e *Emulator) issueUserTokens(w http.ResponseWriter, r *http.Request, u *User, g refreshGrant) {
	ts := e.tenant(g.tenantID)
	now := e.now()
	key := ts.keys[len(ts.keys)-1]
	t := userToken{ts: ts, u: u, clientID: g.clientID, aud: ts.GatewayAppID, roles: u.Roles, iat: now,
		ttl: userTokenLifetime(), version: ts.tokenVersion(), profile: slices.Contains(g.oidc, "profile")}
	if t.version == 1 {
		t.aud = ts.v1Audience(g.resource)
	}
	at, err := signJWT(key, t.claims(e))
	if err != nil {
		entraError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	granted := []string{ts.scope()}
	for _, s := range g.oidc {
		if s != "offline_access" {
			granted = append(granted, s)
		}
	}
	secs := int(t.ttl / time.Second)
	body := map[string]any{"token_type": "Bearer", "scope": strings.Join(granted, " "),
		"expires_in": secs, "ext_expires_in": secs, "access_token": at}
	if slices.Contains(g.oidc, "openid") {
		if id, err := e.idToken(ts, u, g.clientID, now); err == nil {
			body["id_token"] = id
		}
	}
	if r.PostForm.Get("client_info") == "1" {
		ci, _ := json.Marshal(map[string]string{"uid": u.ID, "utid": ts.ID})
		body["client_info"] = b64.EncodeToString(ci)
	}
	if slices.Contains(g.oidc, "offline_access") {
		if len(e.refresh) > 100_000 {
			clear(e.refresh)
		}
		rt := "1.AQ" + randID(48)
		g.issued = now
		e.refresh[rt] = g
		body["refresh_token"] = rt
	}
	writeToken(w, body)
}

// idToken signs the v2.0 ID token of a sign-in through the v2.0 endpoint.
func (e *Emulator) idToken(ts *tenantState, u *User, clientID string, now time.Time) (string, error) {
	return signJWT(ts.keys[len(ts.keys)-1], map[string]any{
		"aud": clientID, "iss": e.issuer(ts.ID), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "name": u.DisplayName, "oid": u.ID,
		"preferred_username": u.UserPrincipalName, "rh": "0." + randID(30) + ".",
		"sub": pairwiseSub(u.ID, clientID), "tid": ts.ID, "uti": randID(16), "ver": "2.0",
	})
}
