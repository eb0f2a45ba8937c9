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
	oidc                       []string
	issued                     time.Time
}

// oidcScopes are the OpenID Connect scopes that may accompany the gateway's scope.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// parseScopes splits a scope parameter into the OIDC scopes and whether the rest is
// exactly the gateway's delegated scope; bad is the first invalid scope.
func parseScopes(ts *tenantState, scope string) (oidc []string, bad string, ok bool) {
	valid := []string{"api://" + ts.GatewayAppID + "/access_as_user", ts.GatewayAppID + "/access_as_user",
		"api://" + ts.GatewayAppID + "/.default", ts.GatewayAppID + "/.default"}
	for _, s := range strings.Fields(scope) {
		switch {
		case slices.Contains(oidcScopes, strings.ToLower(s)):
			oidc = append(oidc, strings.ToLower(s))
		case slices.ContainsFunc(valid, func(v string) bool { return strings.EqualFold(v, s) }):
			ok = true
		default:
			return nil, s, false
		}
	}
	if !ok {
		return nil, scope, false
	}
	return oidc, "", true
}

// passwordGrant implements the resource-owner password credentials grant for demo users.
func (e *Emulator) passwordGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := r.PostForm
	username := f.Get("username")
	var ts *tenantState
	if isCommon(r.PathValue("tenant")) {
		_, domain, _ := strings.Cut(username, "@")
		if ts = e.tenant(domain); ts == nil {
			entraError(w, r, http.StatusBadRequest, "invalid_grant", aadUserNotFound,
				"The user account {EUII Hidden} does not exist in the directory.")
			return
		}
		state(r).tenantID = ts.ID
	} else if ts = e.tokenTenant(w, r); ts == nil {
		return
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
	oidc, bad, ok := parseScopes(ts, f.Get("scope"))
	if !ok {
		entraError(w, r, http.StatusBadRequest, "invalid_scope", aadBadScope,
			"The provided value for the input parameter 'scope' is not valid. The scope "+bad+" is not valid.")
		return
	}
	u := ts.byUPN[strings.ToLower(username)]
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
	e.issueUserTokens(w, r, ts, u, client.ID, oidc)
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
	u := ts.byID[g.userID]
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
	oidc := g.oidc
	if s := r.PostForm.Get("scope"); s != "" {
		var bad string
		var ok bool
		if oidc, bad, ok = parseScopes(ts, s); !ok {
			entraError(w, r, http.StatusBadRequest, "invalid_scope", aadBadScope,
				"The provided value for the input parameter 'scope' is not valid. The scope "+bad+" is not valid.")
			return
		}
	}
	delete(e.refresh, rt)
	e.issueUserTokens(w, r, ts, u, g.clientID, oidc)
}

// issueUserTokens writes the access token (plus id_token, client_info and refresh_token as
// requested); callers hold e.mu for writing.
func (e *Emulator) issueUserTokens(w http.ResponseWriter, r *http.Request, ts *tenantState, u *User, clientID string, oidc []string) {
	now := e.now()
	key := ts.keys[len(ts.keys)-1]
	at, err := signJWT(key, e.userClaims(ts, u, clientID, ts.GatewayAppID, u.Roles, now, tokenTTL))
	if err != nil {
		entraError(w, r, http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token.")
		return
	}
	granted := []string{ts.scope()}
	for _, s := range oidc {
		if s != "offline_access" {
			granted = append(granted, s)
		}
	}
	body := map[string]any{"token_type": "Bearer", "scope": strings.Join(granted, " "),
		"expires_in": 3599, "ext_expires_in": 3599, "access_token": at}
	if slices.Contains(oidc, "openid") {
		id, err := signJWT(key, map[string]any{
			"aud": clientID, "iss": e.issuer(ts.ID), "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(tokenTTL).Unix(), "name": u.DisplayName, "oid": u.ID,
			"preferred_username": u.UserPrincipalName, "rh": "0." + randID(30) + ".",
			"sub": pairwiseSub(u.ID, clientID), "tid": ts.ID, "uti": randID(16), "ver": "2.0",
		})
		if err == nil {
			body["id_token"] = id
		}
	}
	if r.PostForm.Get("client_info") == "1" {
		ci, _ := json.Marshal(map[string]string{"uid": u.ID, "utid": ts.ID})
		body["client_info"] = b64.EncodeToString(ci)
	}
	if slices.Contains(oidc, "offline_access") {
		if len(e.refresh) > 100_000 {
			clear(e.refresh)
		}
		rt := "1.AQ" + randID(48)
		e.refresh[rt] = refreshGrant{tenantID: ts.ID, userID: u.ID, clientID: clientID, oidc: oidc, issued: now}
		body["refresh_token"] = rt
	}
	writeToken(w, body)
}
