package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// TestPresenceByObjectIDOnly: Graph serves presence by user object id only
// (https://learn.microsoft.com/en-us/graph/api/presence-get); a userPrincipalName is
// refused with 400 BadRequest, directly and in getPresencesByUserId.
func TestPresenceByObjectIDOnly(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	u := ti.Users[3]
	for _, key := range []string{u.UserPrincipalName, url.PathEscape(strings.ToUpper(u.UserPrincipalName))} {
		st, m := graphGet(t, e, tok, "/v1.0/users/"+key+"/presence", nil)
		if st != 400 || errCode(m) != "BadRequest" {
			t.Errorf("presence by UPN: %d %v, want 400 BadRequest", st, m)
		}
	}
	if st, m := graphGet(t, e, tok, "/v1.0/users/"+strings.ToUpper(u.ID)+"/presence", nil); st != 200 || m["id"] != u.ID {
		t.Errorf("presence by upper-case object id: %d %v", st, m)
	}
	resp, b := do(t, e, http.MethodPost, "/v1.0/communications/getPresencesByUserId", tok,
		jsonBody(t, map[string]any{"ids": []string{u.ID, u.UserPrincipalName}}), map[string]string{"Content-Type": "application/json"})
	if m := decodeObj(t, b); resp.StatusCode != 400 || errCode(m) != "BadRequest" {
		t.Errorf("getPresencesByUserId with a UPN: %d %s", resp.StatusCode, b)
	}
}

// TestRevokeAnswers: revokeSignInSessions answers 200 {"value": true} or 204 No Content
// (https://learn.microsoft.com/en-us/graph/known-issues#revoke-sign-in-sessions-returns-wrong-http-code);
// by default the first tenant answers 200 and the second 204; either way the user's
// signInSessionsValidFromDateTime moves.
func TestRevokeAnswers(t *testing.T) {
	e := fresh(t)
	tests := []struct {
		name   string
		domain string
		answer emulator.RevokeAnswer
		status int
	}{
		{"default, first tenant", "contoso.example", emulator.RevokeByTenant, 200},
		{"default, second tenant", "fabrikam.example", emulator.RevokeByTenant, 204},
		{"forced 204", "contoso.example", emulator.RevokeNoContent, 204},
		{"forced 200", "fabrikam.example", emulator.RevokeOKTrue, 200},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.SetRevokeAnswer(tc.answer)
			defer e.ResetFaults()
			ti := tenant(t, e, tc.domain)
			tok := appToken(t, e, tc.domain)
			id := ti.Users[10+i].ID
			before, _ := e.User(ti.ID, id)
			resp, b := do(t, e, http.MethodPost, "/v1.0/users/"+id+"/revokeSignInSessions", tok, nil, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status == 204 && len(b) != 0 {
				t.Fatalf("204 with a body: %s", b)
			}
			if tc.status == 200 && decodeObj(t, b)["value"] != true {
				t.Fatalf("200 body %s, want value true", b)
			}
			if after, _ := e.User(ti.ID, id); !after.SignInSessionsValidFromDateTime.After(before.SignInSessionsValidFromDateTime) {
				t.Fatalf("signInSessionsValidFromDateTime did not move: %v", after.SignInSessionsValidFromDateTime)
			}
		})
	}
	t.Run("control API", func(t *testing.T) {
		defer e.ResetFaults()
		ti := tenant(t, e, "contoso.example")
		tok := appToken(t, e, "contoso.example")
		if resp, b := do(t, e, http.MethodPut, "/_emulator/revoke", "", strings.NewReader(`{"answer":"204"}`), nil); resp.StatusCode != 204 {
			t.Fatalf("PUT /_emulator/revoke: %d %s", resp.StatusCode, b)
		}
		if resp, _ := do(t, e, http.MethodPost, "/v1.0/users/"+ti.Users[20].ID+"/revokeSignInSessions", tok, nil, nil); resp.StatusCode != 204 {
			t.Fatalf("after the control call: %d, want 204", resp.StatusCode)
		}
		if resp, _ := do(t, e, http.MethodPut, "/_emulator/revoke", "", strings.NewReader(`{"answer":"202"}`), nil); resp.StatusCode != 400 {
			t.Fatalf("unknown answer: %d, want 400", resp.StatusCode)
		}
	})
}
