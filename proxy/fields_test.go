package proxy_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

// orgChart is a chain of enabled users added to tenant 0, leaf up to top (top has no
// manager), and cut, whose manager gone is deactivated and reports to top.
type orgChart struct {
	top, mid, low, leaf emulator.User
	gone, cut           emulator.User
}

// newOrgChart adds the users of an orgChart whose names start with prefix.
func newOrgChart(t *testing.T, e *env, prefix string) orgChart {
	t.Helper()
	add := func(name, manager string) emulator.User {
		u, err := e.emu.AddUser(e.tenant(0).ID, emulator.User{DisplayName: prefix + " " + name, JobTitle: name,
			UserPrincipalName: strings.ToLower(prefix+"."+name) + "@" + e.tenant(0).Domain, MobilePhone: "+1 555 0100",
			AccountEnabled: true, ManagerID: manager, CreatedDateTime: time.Now().Add(-time.Hour)}) // sessions valid from then
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	var o orgChart
	o.top = add("Top", "")
	o.mid = add("Mid", o.top.ID)
	o.low = add("Low", o.mid.ID)
	o.leaf = add("Leaf", o.low.ID)
	o.gone = add("Gone", o.top.ID)
	o.cut = add("Cut", o.gone.ID)
	if err := e.emu.SetAccountEnabled(e.tenant(0).ID, o.gone.ID, false); err != nil {
		t.Fatal(err)
	}
	return o
}

// tokenOf mints a token of a client app for a user added to tenant 0.
func (e *env) tokenOf(client string, u emulator.User) string {
	return e.token(0, client, emulator.UserInfo{ID: u.ID, UserPrincipalName: u.UserPrincipalName, AccountEnabled: true})
}

// withheld returns the Graphgate-Withheld-Fields header as a list.
func withheld(r response) []string {
	if h := r.Header.Get("Graphgate-Withheld-Fields"); h != "" {
		return strings.Split(h, ",")
	}
	return nil
}

// TestAccountEnabledWhenSelected checks that accountEnabled, when selected, is true on
// every route that returns users, for a client app whose policy does not list it:
// Microsoft Graph Toolkit's person card drops every direct report without it.
func TestAccountEnabledWhenSelected(t *testing.T) {
	e := newEnv(t)
	o := newOrgChart(t, e, "Acctenab")
	tok := e.tokenOf("intranet-directory", o.low)
	sel := "$select=displayName,accountEnabled,signInSessionsValidFromDateTime"
	routes := []struct {
		name, path string
		users      func(body map[string]any) []any
	}{
		{"me", "/v1.0/me?" + sel, one},
		{"user", "/v1.0/users/" + o.top.ID + "?" + sel, one},
		{"list", "/v1.0/users?$filter=" + url.QueryEscape("startswith(displayName,'Acctenab')") + "&" + sel, values},
		{"search", "/v1.0/users?$search=" + url.QueryEscape(`"displayName:Acctenab"`) + "&" + sel, values},
		{"manager", "/v1.0/me/manager?" + sel, one},
		{"directReports", "/v1.0/users/" + o.mid.ID + "/directReports?" + sel, values},
		{"my directReports", "/v1.0/me/directReports?" + sel, values},
		{"expanded managers", "/v1.0/me?$select=id&$expand=manager($levels=max;" + sel + ")", chain},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			r := e.get(rt.path, tok, "ConsistencyLevel", "eventual")
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			users := rt.users(r.JSON(t))
			if len(users) == 0 {
				t.Fatalf("no users in %s", r.Body)
			}
			for _, u := range users {
				m := u.(map[string]any)
				if m["accountEnabled"] != true || m["signInSessionsValidFromDateTime"] != nil {
					t.Errorf("user %v: accountEnabled %v, signInSessionsValidFromDateTime %v", m["id"], m["accountEnabled"], m["signInSessionsValidFromDateTime"])
				}
			}
			if w := withheld(r); slices.Contains(w, "accountEnabled") || !slices.Contains(w, "signInSessionsValidFromDateTime") {
				t.Errorf("withheld %v", w)
			}
		})
	}
	// Without $select, accountEnabled is not in Graph's default set: not shown.
	if r := e.get("/v1.0/users/"+o.top.ID, tok); r.Status != http.StatusOK || r.JSON(t)["accountEnabled"] != nil {
		t.Errorf("default set: %d %s", r.Status, r.Body)
	}
}

func one(body map[string]any) []any { return []any{body} }

func values(body map[string]any) []any { v, _ := body["value"].([]any); return v }

// chain lists the managers nested in body, nearest first.
func chain(body map[string]any) []any {
	var out []any
	for m, ok := body["manager"].(map[string]any); ok; m, ok = m["manager"].(map[string]any) {
		out = append(out, m)
	}
	return out
}

// TestSearchLeavesOutHiddenOrClauses runs the people search of Microsoft Graph Toolkit
// (findUsers in packages/mgt-components/src/graph/graph.user.ts of
// microsoftgraph/microsoft-graph-toolkit: "displayName:q" OR "mail:q" OR
// "userPrincipalName:q", $count=true, $top=10, ConsistencyLevel: eventual) for a client
// app that may not see others' userPrincipalName: the UPN clause is left out (which
// only narrows what the caller may find) and reported, instead of a 400 and an empty
// picker. Searches that would need the hidden property stay 400.
func TestSearchLeavesOutHiddenOrClauses(t *testing.T) {
	e := newEnv(t)
	add := func(name, upn, mail string) emulator.User {
		u, err := e.emu.AddUser(e.tenant(0).ID, emulator.User{DisplayName: name, Mail: mail,
			UserPrincipalName: upn + "@" + e.tenant(0).Domain, AccountEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	byName := add("Qwxyz Visible", "v.person", "")
	byMail := add("Mail Person", "m.person", "qwxyz.mail@"+e.tenant(0).Domain)
	byUPN := add("Hidden Person", "qwxyz.hidden", "")
	caller := e.enabledUsers(0)[0]
	chat := e.token(0, "chat-web", caller) // others: displayName, jobTitle, mail
	dir := e.token(0, "intranet-directory", caller)
	toolkit := `"displayName:qwxyz" OR "mail:qwxyz" OR "userPrincipalName:qwxyz"`
	search := func(tok, s, extra string) response {
		return e.get("/v1.0/users?$search="+url.QueryEscape(s)+"&$count=true&$top=10"+extra, tok, "ConsistencyLevel", "eventual")
	}
	ids := func(r response) []string {
		var out []string
		for _, v := range values(r.JSON(t)) {
			out = append(out, v.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(us ...emulator.User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		slices.Sort(out)
		return out
	}

	// A client that sees UPNs finds all three: the UPN clause matters.
	if r := search(dir, toolkit, ""); r.Status != http.StatusOK || !slices.Equal(ids(r), sorted(byName, byMail, byUPN)) {
		t.Fatalf("intranet-directory: %d %s", r.Status, r.Body)
	}
	e.emu.ResetRequests()
	r := search(chat, toolkit, "")
	if r.Status != http.StatusOK || !slices.Equal(ids(r), sorted(byName, byMail)) {
		t.Fatalf("chat-web: %d %s", r.Status, r.Body)
	}
	if body := r.JSON(t); body["@odata.count"] != float64(2) {
		t.Errorf("@odata.count %v, want 2", body["@odata.count"])
	}
	if !slices.Contains(withheld(r), "userPrincipalName") {
		t.Errorf("withheld %v", withheld(r))
	}
	for _, req := range e.emu.Requests() {
		if req.Search != "" && req.Search != `"displayName:qwxyz" OR "mail:qwxyz"` {
			t.Errorf("Graph was asked $search=%s", req.Search)
		}
	}
	// With a $select of visible fields, the header names the left-out clause only.
	if r := search(chat, toolkit, "&$select=displayName,mail"); r.Status != http.StatusOK || !slices.Equal(withheld(r), []string{"userPrincipalName"}) {
		t.Errorf("withheld %v: %d %s", withheld(r), r.Status, r.Body)
	}
	// Parentheses, as Graph accepts them.
	r = search(chat, `("displayName:qwxyz" OR "mail:qwxyz" OR "userPrincipalName:qwxyz") AND "displayName:visible"`, "")
	if r.Status != http.StatusOK || !slices.Equal(ids(r), sorted(byName)) {
		t.Errorf("parentheses: %d %s", r.Status, r.Body)
	}
	for name, s := range map[string]string{
		"every clause hidden":   `"userPrincipalName:qwxyz" OR "surname:qwxyz"`,
		"AND on a hidden field": `"displayName:qwxyz" AND "userPrincipalName:qwxyz"`,
		"hidden AND in an OR":   `"mail:qwxyz" OR ("displayName:qwxyz" AND "userPrincipalName:qwxyz")`,
		"lower-case operator":   `"displayName:qwxyz" or "mail:qwxyz"`,
		"unclosed parenthesis":  `("displayName:qwxyz" OR "mail:qwxyz"`,
	} {
		t.Run(name, func(t *testing.T) {
			r := search(chat, s, "")
			assertGraphError(t, r, http.StatusBadRequest, "BadRequest")
			if strings.Contains(string(r.Body), "qwxyz") {
				t.Errorf("error echoes the search term: %s", r.Body)
			}
		})
	}
}
