package emulator_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// listed returns the ids and accountEnabled of the users a GET /users query lists.
func listed(t *testing.T, e *emulator.Emulator, tok, query string, hdr map[string]string) map[string]bool {
	t.Helper()
	status, body := graphGet(t, e, tok, "/v1.0/users?"+query, hdr)
	if status != http.StatusOK {
		t.Fatalf("GET /users?%s: %d %v", query, status, body)
	}
	out := map[string]bool{}
	for _, v := range body["value"].([]any) {
		u := v.(map[string]any)
		enabled, _ := u["accountEnabled"].(bool)
		out[u["id"].(string)] = enabled
	}
	return out
}

// count returns GET /users/$count.
func count(t *testing.T, e *emulator.Emulator, tok string) int {
	t.Helper()
	resp, b := do(t, e, http.MethodGet, "/v1.0/users/$count", tok, nil, map[string]string{"ConsistencyLevel": "eventual"})
	n, err := strconv.Atoi(string(b))
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("$count: %d %q", resp.StatusCode, b)
	}
	return n
}

// TestReplicationDelay: with a delay, a change is visible at once to plain reads and
// lists, and only after the delay to advanced queries (ConsistencyLevel: eventual) and
// the token service; without one, everywhere at once.
func TestReplicationDelay(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	sel := url.Values{"$select": {"id,accountEnabled"}, "$top": {"999"}}.Encode()
	var victim emulator.UserInfo
	for _, u := range ti.Users[1:] {
		if u.AccountEnabled && len(u.Roles) == 0 {
			victim = u
			break
		}
	}
	before := count(t, e, tok)

	e.SetReplicationDelay(time.Hour)
	if err := e.SetAccountEnabled(ti.ID, victim.ID, false); err != nil {
		t.Fatal(err)
	}
	added, err := e.AddUser(ti.ID, emulator.User{UserPrincipalName: "lagging.new@" + ti.Domain, AccountEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, u := graphGet(t, e, tok, "/v1.0/users/"+victim.ID+"?$select=id,accountEnabled", nil); u["accountEnabled"] != false {
		t.Errorf("plain read of the disabled user: accountEnabled %v, want false at once", u["accountEnabled"])
	}
	if plain := listed(t, e, tok, sel, nil); plain[victim.ID] || !plain[added.ID] {
		t.Errorf("plain list: disabled user enabled=%t, new user listed=%t; want the directory's current state", plain[victim.ID], plain[added.ID])
	}
	adv := listed(t, e, tok, sel, eventual)
	if enabled, ok := adv[victim.ID]; !ok || !enabled {
		t.Errorf("advanced query: disabled user listed=%t enabled=%t, want still listed as enabled (index lags)", ok, enabled)
	}
	if _, ok := adv[added.ID]; ok {
		t.Error("advanced query lists a user created moments ago: the index does not lag")
	}
	if n := count(t, e, tok); n != before {
		t.Errorf("$count %d right after adding a user, want %d (the index's)", n, before)
	}
	search := url.Values{"$search": {`"userPrincipalName:lagging.new"`}}.Encode()
	if found := listed(t, e, tok, search, eventual); len(found) != 0 {
		t.Errorf("$search finds the new user before the index has it: %v", found)
	}
	if full, _ := e.User(ti.ID, victim.ID); full.ManagerID != "" {
		reports := "/v1.0/users/" + full.ManagerID + "/directReports?$select=id,accountEnabled"
		for _, tc := range []struct {
			hdr  map[string]string
			want bool
		}{{nil, false}, {eventual, true}} {
			_, body := graphGet(t, e, tok, reports, tc.hdr)
			for _, v := range body["value"].([]any) {
				if u := v.(map[string]any); u["id"] == victim.ID && u["accountEnabled"] != tc.want {
					t.Errorf("directReports (ConsistencyLevel %v): accountEnabled %v, want %v", tc.hdr, u["accountEnabled"], tc.want)
				}
			}
		}
	} else {
		t.Error("the victim has no manager: pick one that has")
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {ti.Clients[0].ID}, "username": {victim.UserPrincipalName},
		"password": {ti.Password}, "scope": {ti.Scope}}
	if resp, m := postForm(t, e, ti.ID, form); resp.StatusCode != http.StatusOK {
		t.Errorf("password grant of the just-disabled user: %d %v, want a token (the token service lags)", resp.StatusCode, m)
	}
	form.Set("username", added.UserPrincipalName)
	if resp, _ := postForm(t, e, ti.ID, form); resp.StatusCode == http.StatusOK {
		t.Error("the token service knows a user created moments ago")
	}

	e.SetReplicationDelay(0)
	if err := e.SetAccountEnabled(ti.ID, victim.ID, true); err != nil {
		t.Fatal(err)
	}
	if adv := listed(t, e, tok, sel, eventual); !adv[victim.ID] || !adv[added.ID] {
		t.Errorf("without a delay the index is current: re-enabled listed %t, new listed %t", adv[victim.ID], adv[added.ID])
	}
	if n := count(t, e, tok); n != before+1 {
		t.Errorf("$count %d without a delay, want %d", n, before+1)
	}
}

// TestReplicationCatchesUp: once the delay has passed, advanced queries and the token
// service see the change.
func TestReplicationCatchesUp(t *testing.T) {
	e := fresh(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	e.SetReplicationDelay(200 * time.Millisecond)
	var victim emulator.UserInfo
	for _, u := range ti.Users {
		if u.AccountEnabled {
			victim = u // the last enabled user
		}
	}
	if err := e.SetAccountEnabled(ti.ID, victim.ID, false); err != nil {
		t.Fatal(err)
	}
	sel := url.Values{"$select": {"id,accountEnabled"}, "$filter": {"id eq '" + victim.ID + "'"}, "$count": {"true"}}.Encode()
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	deadline := time.Now().Add(10 * time.Second)
	for listed(t, e, tok, sel, eventual)[victim.ID] {
		if time.Now().After(deadline) {
			t.Fatal("the index never caught up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {ti.Clients[0].ID}, "username": {victim.UserPrincipalName},
		"password": {ti.Password}, "scope": {ti.Scope}}
	resp, m := postForm(t, e, ti.ID, form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(m["error_description"].(string), "50057") {
		t.Errorf("password grant after the delay: %d %v, want AADSTS50057 (disabled)", resp.StatusCode, m)
	}
}
