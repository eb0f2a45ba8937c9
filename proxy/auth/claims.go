package auth

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphgate/graphgate/graph/spec"
)

// Access token versions (the ver claim). Entra issues a custom API's tokens in the
// version its app registration's accessTokenAcceptedVersion selects: unset or 1 gives
// v1.0, 2 gives v2.0, whichever endpoint the client used ("Access tokens in the
// Microsoft identity platform", token formats:
// https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats).
const (
	version1 = "1.0"
	version2 = "2.0"
)

// claims are the members of an Entra access token (v1.0 or v2.0) that graphgate reads.
// The calling client app is appid in v1.0 tokens and azp in v2.0 tokens ("Access token
// claims reference": https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
type claims struct {
	jwt.RegisteredClaims
	TenantID        string   `json:"tid"`
	ObjectID        string   `json:"oid"`
	AppID           string   `json:"appid"`
	AuthorizedParty string   `json:"azp"`
	Scope           string   `json:"scp"`
	Roles           []string `json:"roles"`
	Version         string   `json:"ver"`
}

// clientApp returns the client-app claim of the token's version and its name.
func (c *claims) clientApp() (id, name string) {
	if c.Version == version1 {
		return c.AppID, "appid"
	}
	return c.AuthorizedParty, "azp"
}

// graphAudiences are the aud values of tokens minted for Microsoft Graph itself (its
// app id, and its resource URIs in the public and national clouds).
var graphAudiences = []string{
	"00000003-0000-0000-c000-000000000000",
	"https://graph.microsoft.com",
	"https://graph.microsoft.us",
	"https://dod-graph.microsoft.us",
	"https://microsoftgraph.chinacloudapi.cn",
	"https://canary.graph.microsoft.com",
}

// preCheck runs the checks that need no signature (on claims the caller wrote, so the
// descriptions reveal nothing the caller does not know): audience, version, tenant,
// issuer and kid. It returns the token's tenant (whose key set is the only one its key
// is looked up in) and the kid.
func (v *Verifier) preCheck(t *jwt.Token, c *claims) (*tenantState, string, error) {
	for _, a := range c.Audience {
		if isGraphAudience(a) {
			return nil, "", invalidToken("the access token was issued for Microsoft Graph, not for this gateway")
		}
	}
	switch c.Version {
	case version1, version2:
	case "":
		return nil, "", invalidToken("the access token has no version (ver)")
	default:
		return nil, "", invalidToken("the access token must be an Entra v1.0 or v2.0 token (ver 1.0 or 2.0)")
	}
	if c.TenantID == "" {
		return nil, "", invalidToken("the access token has no tenant id (tid)")
	}
	ts, ok := v.tenants[c.TenantID]
	if !ok {
		return nil, "", invalidToken("the access token's tenant is not allowed to use this gateway")
	}
	if c.Issuer != ts.issuer(c.Version) {
		return nil, "", invalidToken("the access token's issuer does not match its tenant and version")
	}
	if err := checkAudience(c.Audience, ts.audiences(c.Version)); err != nil {
		return nil, "", err
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, "", invalidToken("the access token has no key id (kid)")
	}
	return ts, kid, nil
}

// issuer returns the iss a token of version ver must carry.
func (ts *tenantState) issuer(ver string) string {
	if ver == version1 {
		return ts.v1Issuer
	}
	return ts.v2Issuer
}

// audiences returns the aud values a token of version ver may carry: v2.0 tokens always
// name the API's client id; v1.0 tokens its client id or Application ID URI, whichever
// the client asked for (access token claims reference, aud).
func (ts *tenantState) audiences(ver string) []string {
	if ver == version1 {
		return []string{ts.audience, ts.appIDURI}
	}
	return []string{ts.audience}
}

// checkAudience accepts exactly one audience, one of want.
func checkAudience(aud jwt.ClaimStrings, want []string) error {
	if len(aud) != 1 {
		return invalidToken("the access token must name this gateway as its only audience")
	}
	if !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(aud[0], w) }) {
		return invalidToken("the access token was issued for another audience")
	}
	return nil
}

func isGraphAudience(a string) bool {
	a = strings.ToLower(strings.TrimRight(a, "/"))
	return slices.Contains(graphAudiences, a)
}

// principal checks the claims that matter once the signature is good and builds the
// Principal.
func (v *Verifier) principal(c *claims, ts *tenantState) (Principal, error) {
	if c.IssuedAt == nil {
		return Principal{}, invalidToken("the access token has no issue time (iat)")
	}
	if !spec.IsObjectID(c.ObjectID) {
		return Principal{}, invalidToken("the access token has no valid user object id (oid)")
	}
	client, claim := c.clientApp()
	if !spec.IsObjectID(client) {
		return Principal{}, invalidToken("the access token has no valid client app id (" + claim + ")")
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, v.cfg.RequiredScope) {
		desc := "the access token lacks the delegated scope " + v.cfg.RequiredScope
		if len(scopes) == 0 {
			desc = "app-only tokens are refused; a delegated user token with scope " + v.cfg.RequiredScope + " is required"
		}
		return Principal{}, insufficientScope(desc, ts.appIDURI+"/"+v.cfg.RequiredScope)
	}
	return Principal{
		TenantID:    c.TenantID,
		ObjectID:    strings.ToLower(c.ObjectID),
		ClientAppID: strings.ToLower(client),
		Roles:       slices.Clone(c.Roles),
		Scopes:      scopes,
		IssuedAt:    c.IssuedAt.Time,
		ExpiresAt:   c.ExpiresAt.Time,
	}, nil
}
