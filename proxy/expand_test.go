package proxy_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/directory"
	"github.com/graphgate/graphgate/proxy/odata"
)

// personCardProps is the $select of Microsoft Graph Toolkit's person card, inside and
// outside its $expand (buildOrgStructureRequest in packages/mgt-components/src/
// components/mgt-person-card/mgt-person-card.graph.ts of
// microsoftgraph/microsoft-graph-toolkit).
const personCardProps = "businessPhones,companyName,department,displayName,givenName,jobTitle,mail,mobilePhone,officeLocation,preferredLanguage,surname,userPrincipalName,id,accountEnabled"

// personCardURL is the person card's request for a user's profile and management chain,
// as the Toolkit puts it in a $batch (with ConsistencyLevel: eventual).
func personCardURL(userID string) string {
	return "users/" + userID + "?$expand=manager($levels=max;$select=" + personCardProps + ")&$select=" + personCardProps + "&$count=true"
}

// chainIDs returns the ids of the managers nested in body, nearest first, and checks
// each one's @odata.type.
func chainIDs(t *testing.T, body map[string]any) []string {
	t.Helper()
	var ids []string
	for _, m := range chain(body) {
		mm := m.(map[string]any)
		if mm["@odata.type"] != "#microsoft.graph.user" {
			t.Errorf("manager without @odata.type: %v", mm)
		}
		ids = append(ids, mm["id"].(string))
	}
	return ids
}

// TestExpandManagerChain serves the person card's $expand=manager($levels=max;...) as
// the Toolkit sends it (in a $batch) and directly: the whole management chain, each
// manager within the caller's policy, stopping before a deactivated manager.
func TestExpandManagerChain(t *testing.T) {
	e := newEnv(t)
	o := newOrgChart(t, e, "Expandchain")
	tok := e.tokenOf("intranet-directory", o.leaf) // others: no mobilePhone, companyName, preferredLanguage
	want := []string{o.low.ID, o.mid.ID, o.top.ID}

	t.Run("toolkit batch", func(t *testing.T) {
		batch := map[string]any{"requests": []map[string]any{{"id": "person", "method": "GET",
			"url": personCardURL(o.leaf.ID), "headers": map[string]string{"ConsistencyLevel": "eventual"}}}}
		r := e.do(http.MethodPost, "/v1.0/$batch", tok, batch)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		item := r.JSON(t)["responses"].([]any)[0].(map[string]any)
		body, _ := item["body"].(map[string]any)
		if item["status"] != float64(http.StatusOK) || body == nil {
			t.Fatalf("item: %v", item)
		}
		if got := chainIDs(t, body); !slices.Equal(got, want) {
			t.Fatalf("chain %v, want %v", got, want)
		}
		for _, m := range chain(body) {
			mm := m.(map[string]any)
			for _, hidden := range []string{"mobilePhone", "companyName", "preferredLanguage"} {
				if _, ok := mm[hidden]; ok {
					t.Errorf("manager shows %s", hidden)
				}
			}
			if mm["accountEnabled"] != true || mm["displayName"] == nil || mm["jobTitle"] == nil {
				t.Errorf("manager %v", mm)
			}
		}
		if body["mobilePhone"] == nil || body["accountEnabled"] != true {
			t.Errorf("the caller's own profile: %v", body)
		}
		h, _ := item["headers"].(map[string]any)
		if w, _ := h["Graphgate-Withheld-Fields"].(string); !strings.Contains(w, "companyName") {
			t.Errorf("item withheld header %q", w)
		}
	})

	direct := func(path string, headers ...string) response {
		return e.get(path, tok, headers...)
	}
	cases := []struct {
		name, path string
		eventual   bool
		want       []string
	}{
		{"direct, /users/{id}", "/v1.0/" + personCardURL(o.leaf.ID), true, want},
		{"direct, /me", "/v1.0/me?$expand=manager($levels=max;$select=displayName)", true, want},
		{"levels 2", "/v1.0/me?$expand=manager($levels=2)", true, want[:2]},
		{"no levels: the manager only, no header needed", "/v1.0/me?$expand=manager($select=displayName)", false, want[:1]},
		{"another user's chain", "/v1.0/users/" + o.mid.ID + "?$expand=manager($levels=max)", true, want[2:]},
		{"top of the chain", "/v1.0/users/" + o.top.ID + "?$expand=manager($levels=max)", true, nil},
		{"deactivated manager", "/v1.0/users/" + o.cut.ID + "?$expand=manager($levels=max)", true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.eventual {
				r = direct(tc.path, "ConsistencyLevel", "eventual")
			} else {
				r = direct(tc.path)
			}
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if got := chainIDs(t, r.JSON(t)); !slices.Equal(got, tc.want) {
				t.Errorf("chain %v, want %v", got, tc.want)
			}
		})
	}
	// /manager agrees: a deactivated manager is none.
	assertGraphError(t, direct("/v1.0/users/"+o.cut.ID+"/manager"), http.StatusNotFound, "")
}

// TestExpandManagerStopsBeforeDeactivated checks a chain cut in the middle: the managers
// below the deactivated one are shown, nobody above.
func TestExpandManagerStopsBeforeDeactivated(t *testing.T) {
	e := newEnv(t)
	o := newOrgChart(t, e, "Expandcut")
	if err := e.emu.SetAccountEnabled(e.tenant(0).ID, o.mid.ID, false); err != nil {
		t.Fatal(err)
	}
	tok := e.tokenOf("intranet-directory", o.leaf)
	r := e.get("/v1.0/me?$expand=manager($levels=max)", tok, "ConsistencyLevel", "eventual")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if got := chainIDs(t, r.JSON(t)); !slices.Equal(got, []string{o.low.ID}) {
		t.Errorf("chain %v, want only the manager below the deactivated one", got)
	}
}

// TestExpandRefusals covers what $expand does not serve: a client app without
// manager.read (manager withheld), $levels without ConsistencyLevel: eventual, other
// navigation properties, and $expand where only one user's manager can be expanded.
func TestExpandRefusals(t *testing.T) {
	e := newEnv(t)
	o := newOrgChart(t, e, "Expandrefuse")

	chat := e.tokenOf("chat-web", o.leaf) // no manager.read
	r := e.get("/v1.0/me?$expand=manager($levels=max;$select=displayName)&$select=displayName", chat, "ConsistencyLevel", "eventual")
	if r.Status != http.StatusOK || r.JSON(t)["manager"] != nil || !slices.Contains(withheld(r), "manager") {
		t.Errorf("without manager.read: %d %v %s", r.Status, withheld(r), r.Body)
	}

	tok := e.tokenOf("intranet-directory", o.leaf)
	tests := []struct {
		name, path    string
		status        int
		code, message string
	}{
		{"levels without ConsistencyLevel", "/v1.0/me?$expand=manager($levels=max)", 400, "Request_UnsupportedQuery", "Try adding ConsistencyLevel:eventual header"},
		{"toolkit request without ConsistencyLevel", "/v1.0/" + personCardURL(o.leaf.ID), 400, "Request_UnsupportedQuery", "Try adding ConsistencyLevel:eventual header"},
		{"directReports", "/v1.0/me?$expand=directReports", 400, "BadRequest", "graphgate expands only manager"},
		{"two navigations", "/v1.0/me?$expand=manager,directReports", 400, "BadRequest", "the maximum allowed is 1"},
		{"levels out of range", "/v1.0/me?$expand=manager($levels=1001)", 400, "BadRequest", "between 1 and 1000"},
		{"nested filter", "/v1.0/me?$expand=manager($filter=x)", 400, "BadRequest", "Only $select and $levels"},
		{"on a list", "/v1.0/users?$expand=manager", 400, "BadRequest", "not supported on this resource"},
		{"on /manager", "/v1.0/me/manager?$expand=manager", 400, "BadRequest", "not supported on this resource"},
		{"on directReports", "/v1.0/me/directReports?$expand=manager", 400, "BadRequest", "not supported on this resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, tok)
			assertGraphError(t, r, tc.status, tc.code)
			if !strings.Contains(string(r.Body), tc.message) {
				t.Errorf("message: %s", r.Body)
			}
		})
	}
}

// TestLevelsBoundsAgree: $levels=max walks as far as the directory walks a chain.
func TestLevelsBoundsAgree(t *testing.T) {
	if odata.MaxLevels != directory.MaxChain {
		t.Errorf("odata.MaxLevels %d, directory.MaxChain %d", odata.MaxLevels, directory.MaxChain)
	}
}
