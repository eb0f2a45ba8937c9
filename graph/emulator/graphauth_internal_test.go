package emulator

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestGraphChecksIssuerOfVersion checks that Graph accepts a token only with the issuer
// of its version: v1.0 tokens (the ones Graph's registration receives) from
// sts.windows.net, v2.0 tokens from the v2.0 authority
// (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
// The tokens are signed with the tenant's real key, so only the issuer can fail.
func TestGraphChecksIssuerOfVersion(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	ts := e.tenants[0]
	tests := []struct {
		name, ver, iss string
		status         int
	}{
		{"v1.0, sts issuer", "1.0", v1Issuer(ts.ID), http.StatusOK},
		{"v2.0, v2.0 issuer", "2.0", e.issuer(ts.ID), http.StatusOK},
		{"v1.0, v2.0 issuer", "1.0", e.issuer(ts.ID), http.StatusUnauthorized},
		{"v2.0, sts issuer", "2.0", v1Issuer(ts.ID), http.StatusUnauthorized},
		{"no ver", "", v1Issuer(ts.ID), http.StatusUnauthorized},
		{"no ver, no iss", "", "", http.StatusUnauthorized},
		{"other tenant's sts issuer", "1.0", v1Issuer(e.tenants[1].ID), http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.appClaims(ts, e.now(), graphTokenTTL, "1")
			c["ver"], c["iss"] = tc.ver, tc.iss
			tok, err := signJWT(ts.keys[0], c)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, e.URL()+"/v1.0/users/"+ts.users[0].ID+"?$select=id", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Message string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%+v), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == http.StatusUnauthorized && body.Error.Message != "Access token validation failure. Invalid issuer." {
				t.Fatalf("error = %+v", body.Error)
			}
		})
	}
}
