package proxy_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
)

// Entra is eventually consistent: with the emulator's replication delay on, an account
// disabled moments ago is still listed (as enabled) by Graph's advanced queries, and
// Entra's token service still issues it tokens. These tests prove graphgate's
// guarantees hold regardless: it reads the account's own record where it decides.

// graphList sends an advanced query straight to the emulator's Graph with the gateway
// app's own token, and returns the users listed with their accountEnabled.
func graphList(t *testing.T, e *env, tenant int, query string) map[string]bool {
	t.Helper()
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: e.tenant(tenant).ID, Audience: "https://graph.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, e.emu.URL()+"/v1.0/users?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("ConsistencyLevel", "eventual")
	resp, err := e.emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Value []struct {
			ID             string `json:"id"`
			AccountEnabled bool   `json:"accountEnabled"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Graph list: %d %v", resp.StatusCode, err)
	}
	out := map[string]bool{}
	for _, u := range body.Value {
		out[u.ID] = u.AccountEnabled
	}
	return out
}

// TestAdvancedQueriesLagButTheGatewayHidesJustDisabledAccounts disables an account
// while Graph's index lags an hour behind: Graph still lists it as enabled, the gateway
// neither lists, counts nor serves it.
func TestAdvancedQueriesLagButTheGatewayHidesJustDisabledAccounts(t *testing.T) {
	e := newEnv(t)
	o := newZyxwvOrg(t, e)
	e.emu.SetReplicationDelay(time.Hour)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	if err := e.emu.SetAccountEnabled(e.tenant(0).ID, o.baker.ID, false); err != nil {
		t.Fatal(err)
	}
	lagging := graphList(t, e, 0, url.Values{"$search": {`"displayName:zyxwv"`}, "$select": {"id,accountEnabled"}}.Encode())
	if enabled, listed := lagging[o.baker.ID]; !listed || !enabled {
		t.Fatalf("the emulator's index does not lag (baker listed %t, enabled %t): this test proves nothing", listed, enabled)
	}
	want := map[string]bool{o.able.ID: true, o.charlie.ID: true}
	for name, query := range map[string]string{
		"$search":           `$search="displayName:zyxwv"&$count=true`,
		"$filter, counted":  `$filter=startswith(displayName,'Zyxwv')&$count=true`,
		"$search, one page": `$search="displayName:zyxwv"&$count=true&$top=5`,
	} {
		t.Run(name, func(t *testing.T) {
			l := walk(t, e, tok, "/v1.0/users?"+encodeQuery(query))
			if !maps.Equal(l.ids, want) {
				t.Errorf("listed %v, want only the enabled able and charlie (baker %s was just disabled)", l.ids, o.baker.ID)
			}
			if len(l.counts) > 0 && int(l.counts[0]) != len(want) {
				t.Errorf("@odata.count %v, want %d", l.counts[0], len(want))
			}
		})
	}
	if r := e.get("/v1.0/users/"+o.baker.ID, tok); r.Status != http.StatusNotFound {
		t.Errorf("GET the just-disabled user: %d, want 404", r.Status)
	}
}

// tokenFromEntra redeems a grant at the emulator's token endpoint for the gateway's
// scope and returns the access and refresh tokens; ok is false when Entra refused.
func tokenFromEntra(t *testing.T, e *env, tenant int, form url.Values) (access, refresh string, ok bool) {
	t.Helper()
	tn := e.tenant(tenant)
	form.Set("client_id", e.clientID(tenant, "intranet-directory"))
	form.Set("scope", "api://"+tn.GatewayAppID+"/access_as_user offline_access")
	resp, err := e.emu.HTTPClient().PostForm(e.emu.URL()+"/"+tn.ID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.AccessToken, body.RefreshToken, resp.StatusCode == http.StatusOK
}

// TestTokenServiceLagDoesNotLetAUserBackIn: while the change has not reached Entra's
// token service, a disabled account still signs in and a logged-out user still
// refreshes; the gateway refuses both tokens.
func TestTokenServiceLagDoesNotLetAUserBackIn(t *testing.T) {
	e := newEnv(t)
	e.emu.SetReplicationDelay(time.Hour)
	tn := e.tenant(0)
	victim, admin := e.victim(0), e.withRole(0, proxy.RoleAdmin)
	password := func(u emulator.UserInfo) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {u.UserPrincipalName}, "password": {tn.Password}}
	}

	t.Run("disabled account", func(t *testing.T) {
		u := e.enabledUsers(0)[4]
		if err := e.emu.SetAccountEnabled(tn.ID, u.ID, false); err != nil {
			t.Fatal(err)
		}
		access, _, ok := tokenFromEntra(t, e, 0, password(u))
		if !ok {
			t.Fatal("Entra refused the disabled account's sign-in at once: the token service does not lag, this test proves nothing")
		}
		r := e.get("/v1.0/me", access)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "disabled") {
			t.Errorf("a disabled account's fresh token: %d %q, want 401 (account disabled)", r.Status, r.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("logged-out user", func(t *testing.T) {
		_, refresh, ok := tokenFromEntra(t, e, 0, password(victim))
		if !ok || refresh == "" {
			t.Fatal("no refresh token")
		}
		decodeLogout(t, e.logout(e.token(0, "chat-web", admin), victim.ID))
		time.Sleep(1100 * time.Millisecond) // the refreshed token's iat is a later second than the logout
		access, _, ok := tokenFromEntra(t, e, 0, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if !ok {
			t.Fatal("Entra refused the refresh at once: the token service does not lag, this test proves nothing")
		}
		if r := e.get("/v1.0/me", access); r.Status != http.StatusUnauthorized {
			t.Errorf("a token refreshed after the logout: %d, want 401", r.Status)
		}
	})

	t.Run("sessions revoked in Entra", func(t *testing.T) {
		u := e.enabledUsers(0)[5]
		_, refresh, ok := tokenFromEntra(t, e, 0, password(u))
		if !ok || refresh == "" {
			t.Fatal("no refresh token")
		}
		revokeInEntra(t, e, 0, u.ID)
		time.Sleep(1100 * time.Millisecond)
		access, _, ok := tokenFromEntra(t, e, 0, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if !ok {
			t.Fatal("Entra refused the refresh at once: the token service does not lag, this test proves nothing")
		}
		r := e.get("/v1.0/me", access)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "revoked") {
			t.Errorf("a token refreshed after Entra revoked the sessions: %d %q, want 401 (revoked)", r.Status, r.Header.Get("WWW-Authenticate"))
		}
	})
}

// revokeInEntra calls Graph's revokeSignInSessions for a user directly, as a tenant
// admin would in Entra, not through the gateway.
func revokeInEntra(t *testing.T, e *env, tenant int, id string) {
	t.Helper()
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: e.tenant(tenant).ID, Audience: "https://graph.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.emu.URL()+"/v1.0/users/"+id+"/revokeSignInSessions", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("revokeSignInSessions: %d", resp.StatusCode)
	}
}
