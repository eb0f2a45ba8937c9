package emulator

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// v1Authority is the security token service named in the iss of every v1.0 token of
// Entra's public cloud, whatever authority host the client signed in through: iss is
// "https://sts.windows.net/{tid}/" ("Access token claims reference", iss:
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
const v1Authority = "https://sts.windows.net"

// v1Issuer returns the v1.0 issuer of a tenant.
func v1Issuer(tid string) string { return v1Authority + "/" + tid + "/" }

// issuer returns the v2.0 issuer of a tenant.
func (e *Emulator) issuer(tid string) string { return e.url + "/" + tid + "/v2.0" }

// issuerFor returns the issuer a token of version ver ("1.0" or "2.0") carries; ok is
// false for any other version.
func (e *Emulator) issuerFor(tid, ver string) (iss string, ok bool) {
	switch ver {
	case "1.0":
		return v1Issuer(tid), true
	case "2.0":
		return e.issuer(tid), true
	}
	return "", false
}

// tokenVersion returns the access token version (1 or 2) Entra issues for the gateway
// app: its registration's accessTokenAcceptedVersion, where null and 1 give v1.0 and 2
// gives v2.0, whichever endpoint the client used ("Access tokens in the Microsoft
// identity platform", token formats and token ownership:
// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats).
func (ts *tenantState) tokenVersion() int {
	if ts.AccessTokenAcceptedVersion == 2 {
		return 2
	}
	return 1
}

// Access token lifetimes. Entra gives an access token for a registered API a random
// lifetime between 60 and 90 minutes ("Access tokens in the Microsoft identity
// platform", token lifetime:
// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-lifetime). That
// page excludes tokens for Microsoft-owned APIs: the gateway's app-only token for
// Microsoft Graph keeps the one hour (expires_in 3599) Entra's client-credentials
// responses show.
const (
	minTokenLifetime = 60 * time.Minute
	maxTokenLifetime = 90 * time.Minute
	graphTokenTTL    = time.Hour
)

// userTokenLifetime draws a user access token's lifetime, in whole seconds, from
// [60 min, 90 min].
func userTokenLifetime() time.Duration {
	spread := int64((maxTokenLifetime - minTokenLifetime) / time.Second)
	return minTokenLifetime + time.Duration(rand.Int64N(spread+1))*time.Second
}

// userToken describes a delegated access token for the gateway API.
type userToken struct {
	ts       *tenantState
	u        *User
	clientID string
	aud      string
	roles    []string
	iat      time.Time
	ttl      time.Duration
	version  int  // 1 or 2
	profile  bool // the client asked for the profile scope
}

// claims builds the token's claims as Entra issues them for the version ("Access token
// claims reference":
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
// v1.0 names the client app in appid/appidacr, is issued by sts.windows.net and carries
// the v1.0 basic user claims (name, given_name, family_name, upn, unique_name); v2.0
// names it in azp/azpacr and carries name and preferred_username only when the client
// requested the profile scope.
func (t userToken) claims(e *Emulator) map[string]any {
	c := map[string]any{
		"aud": t.aud, "iat": t.iat.Unix(), "nbf": t.iat.Unix(), "exp": t.iat.Add(t.ttl).Unix(),
		"aio": randID(24), "oid": t.u.ID, "rh": "0." + randID(30) + ".", "scp": "access_as_user",
		"sub": pairwiseSub(t.u.ID, strings.TrimPrefix(t.aud, "api://")), "tid": t.ts.ID, "uti": randID(16),
	}
	if len(t.roles) > 0 {
		c["roles"] = slices.Clone(t.roles)
	}
	if t.version == 2 {
		c["iss"], c["ver"], c["azp"], c["azpacr"] = e.issuer(t.ts.ID), "2.0", t.clientID, "0"
		if t.profile {
			c["name"], c["preferred_username"] = t.u.DisplayName, t.u.UserPrincipalName
		}
		return c
	}
	c["iss"], c["ver"], c["appid"], c["appidacr"] = v1Issuer(t.ts.ID), "1.0", t.clientID, "0"
	c["acr"], c["amr"] = "1", []string{"pwd"}
	c["name"], c["upn"], c["unique_name"] = t.u.DisplayName, t.u.UserPrincipalName, t.u.UserPrincipalName
	if t.u.GivenName != "" {
		c["given_name"] = t.u.GivenName
	}
	if t.u.Surname != "" {
		c["family_name"] = t.u.Surname
	}
	return c
}

// v1Audience returns the aud of a v1.0 token for the gateway API requested as resource:
// "the client ID or the resource URI used in the request" (access token claims
// reference, aud). A v2.0 token always carries the client id.
func (ts *tenantState) v1Audience(resource string) string {
	if strings.HasPrefix(strings.ToLower(resource), "api://") {
		return "api://" + ts.GatewayAppID
	}
	return ts.GatewayAppID
}

// appClaims builds the gateway app's app-only token for Microsoft Graph. Graph's own
// registration receives v1.0 tokens, so the token is v1.0: issued by sts.windows.net,
// the client app in appid/appidacr, no azp (access token claims reference). appidacr is
// "1" for a client secret and "2" for a certificate.
func (e *Emulator) appClaims(ts *tenantState, iat time.Time, ttl time.Duration, appidacr string) map[string]any {
	return map[string]any{
		"aud": graphAudience, "iss": v1Issuer(ts.ID), "iat": iat.Unix(), "nbf": iat.Unix(),
		"exp": iat.Add(ttl).Unix(), "aio": randID(24), "app_displayname": "graphgate",
		"appid": ts.GatewayAppID, "appidacr": appidacr, "idp": v1Issuer(ts.ID), "idtyp": "app",
		"oid": ts.GatewayServicePrincipalID, "rh": "0." + randID(30) + ".",
		"roles": slices.Clone(ts.GatewayGraphRoles), "sub": ts.GatewayServicePrincipalID,
		"tid": ts.ID, "uti": randID(16), "ver": "1.0",
	}
}
