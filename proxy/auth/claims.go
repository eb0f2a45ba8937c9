package auth

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphgate/graphgate/graph/spec"
)

// claims are the members of an Entra v2 access token that graphgate reads.
type claims struct {
	jwt.RegisteredClaims
	TenantID        string   `json:"tid"`
	ObjectID        string   `json:"oid"`
	AuthorizedParty string   `json:"azp"`
	Scope           string   `json:"scp"`
	Roles           []string `json:"roles"`
	Version         string   `json:"ver"`
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
	if c.Version != "2.0" {
		return nil, "", invalidToken("the access token must be an Entra v2.0 token (ver 2.0)")
	}
	if c.TenantID == "" {
		return nil, "", invalidToken("the access token has no tenant id (tid)")
	}
	ts, ok := v.tenants[c.TenantID]
	if !ok {
		return nil, "", invalidToken("the access token's tenant is not allowed to use this gateway")
	}
	if c.Issuer != ts.issuer {
		return nil, "", invalidToken("the access token's issuer does not match its tenant")
	}
	if err := checkAudience(c.Audience, ts.audience); err != nil {
		return nil, "", err
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, "", invalidToken("the access token has no key id (kid)")
	}
	return ts, kid, nil
}

// checkAudience accepts exactly one audience: the tenant's gateway app id or its
// api:// URI.
func checkAudience(aud jwt.ClaimStrings, want string) error {
	if len(aud) != 1 {
		return invalidToken("the access token must name this gateway as its only audience")
	}
	if a := aud[0]; !strings.EqualFold(a, want) && !strings.EqualFold(a, "api://"+want) {
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
	if !spec.IsObjectID(c.AuthorizedParty) {
		return Principal{}, invalidToken("the access token has no valid client app id (azp)")
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, v.cfg.RequiredScope) {
		desc := "the access token lacks the delegated scope " + v.cfg.RequiredScope
		if len(scopes) == 0 {
			desc = "app-only tokens are refused; a delegated user token with scope " + v.cfg.RequiredScope + " is required"
		}
		return Principal{}, insufficientScope(desc, "api://"+ts.audience+"/"+v.cfg.RequiredScope)
	}
	return Principal{
		TenantID:    c.TenantID,
		ObjectID:    strings.ToLower(c.ObjectID),
		ClientAppID: strings.ToLower(c.AuthorizedParty),
		Roles:       slices.Clone(c.Roles),
		Scopes:      scopes,
		IssuedAt:    c.IssuedAt.Time,
		ExpiresAt:   c.ExpiresAt.Time,
	}, nil
}
