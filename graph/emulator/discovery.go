package emulator

import (
	"net/http"
	"strings"
)

// Entra's OpenID Connect metadata and signing keys come in a v1.0 and a v2.0 flavour: a
// v1.0 token is validated with the v1.0 document
// (/{tenant}/.well-known/openid-configuration, issuer https://sts.windows.net/{tid}/) and
// a v2.0 token with the v2.0 one (/{tenant}/v2.0/.well-known/openid-configuration,
// issuer {authority}/{tid}/v2.0); the key sets drop the "/v2.0" likewise, and the
// tenant-independent /common key sets publish the keys of every tenant ("Access tokens
// in the Microsoft identity platform", v1.0 and v2.0 tokens and validate the issuer:
// https://learn.microsoft.com/entra/identity-platform/access-tokens#v10-and-v20-tokens).

// discoveryTenant resolves the tenant segment of a discovery or key-set path: tid is
// "{tenantid}" for a multi-tenant alias. On an unknown tenant it writes AADSTS90002.
func (e *Emulator) discoveryTenant(w http.ResponseWriter, r *http.Request) (seg, tid string, ok bool) {
	seg = r.PathValue("tenant")
	if isCommon(seg) {
		return seg, "{tenantid}", true
	}
	e.mu.RLock()
	ts := e.tenant(seg)
	e.mu.RUnlock()
	if ts == nil {
		entraError(w, r, http.StatusBadRequest, "invalid_tenant", aadTenantNotFound, "Tenant '"+seg+
			"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return "", "", false
	}
	return ts.ID, ts.ID, true
}

// handleDiscovery serves the v2.0 OpenID Connect discovery document of a tenant.
func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	seg, tid, ok := e.discoveryTenant(w, r)
	if !ok {
		return
	}
	base := e.url + "/" + seg
	doc := e.discoveryCommon(base)
	for k, v := range map[string]any{
		"token_endpoint":                  base + "/oauth2/v2.0/token",
		"jwks_uri":                        base + "/discovery/v2.0/keys",
		"response_types_supported":        []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                []string{"openid", "profile", "email", "offline_access"},
		"issuer":                          e.url + "/" + tid + "/v2.0",
		"request_uri_parameter_supported": false,
		"userinfo_endpoint":               e.url + "/oidc/userinfo",
		"authorization_endpoint":          base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":   base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":            base + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"tenant_region_sub_scope": nil,
	} {
		doc[k] = v
	}
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", doc)
}

// handleDiscoveryV1 serves the v1.0 OpenID Connect discovery document of a tenant: the
// issuer is the sts.windows.net one v1.0 tokens carry, the endpoints lack "/v2.0".
func (e *Emulator) handleDiscoveryV1(w http.ResponseWriter, r *http.Request) {
	seg, tid, ok := e.discoveryTenant(w, r)
	if !ok {
		return
	}
	base := e.url + "/" + seg
	doc := e.discoveryCommon(base)
	for k, v := range map[string]any{
		"token_endpoint":                base + "/oauth2/token",
		"jwks_uri":                      base + "/discovery/keys",
		"response_types_supported":      []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"scopes_supported":              []string{"openid"},
		"issuer":                        v1Authority + "/" + tid + "/",
		"microsoft_multi_refresh_token": true,
		"authorization_endpoint":        base + "/oauth2/authorize",
		"device_authorization_endpoint": base + "/oauth2/devicecode",
		"end_session_endpoint":          base + "/oauth2/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr",
			"nonce", "email", "given_name", "family_name", "nickname"},
		"check_session_iframe": base + "/oauth2/checksession",
		"userinfo_endpoint":    base + "/openid/userinfo",
	} {
		doc[k] = v
	}
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", doc)
}

// discoveryCommon returns the members the v1.0 and v2.0 discovery documents share.
func (e *Emulator) discoveryCommon(base string) map[string]any {
	return map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"kerberos_endpoint":                     base + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
		"cloud_instance_host_name":              strings.TrimPrefix(e.url, "https://"),
	}
}

// handleKeys serves the v2.0 key set of a tenant, or of every tenant on /common and
// /organizations; each key names its tenant's v2.0 issuer.
func (e *Emulator) handleKeys(w http.ResponseWriter, r *http.Request) { e.serveKeys(w, r, true) }

// handleKeysV1 serves the v1.0 key set (the same keys, without issuer members).
func (e *Emulator) handleKeysV1(w http.ResponseWriter, r *http.Request) { e.serveKeys(w, r, false) }

func (e *Emulator) serveKeys(w http.ResponseWriter, r *http.Request, v2 bool) {
	seg := r.PathValue("tenant")
	keys := []any{}
	e.mu.RLock()
	tenants, found := e.tenants, isCommon(seg)
	if !found {
		if ts := e.tenant(seg); ts != nil {
			tenants, found = []*tenantState{ts}, true
		}
	}
	if found {
		for _, ts := range tenants {
			keys = e.jwks(keys, ts, v2)
		}
	}
	e.mu.RUnlock()
	if !found {
		entraError(w, r, http.StatusBadRequest, "invalid_tenant", aadTenantNotFound, "Tenant '"+seg+"' not found.")
		return
	}
	writeJSONType(w, http.StatusOK, "application/json; charset=utf-8", map[string]any{"keys": keys})
}
