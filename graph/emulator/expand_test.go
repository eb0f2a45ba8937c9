package emulator_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// chainOf returns the ids of u's managers, nearest first, from the fixture records.
func chainOf(t *testing.T, e *emulator.Emulator, tid string, u emulator.User) []string {
	t.Helper()
	var ids []string
	for u.ManagerID != "" {
		ids = append(ids, u.ManagerID)
		u, _ = e.User(tid, u.ManagerID)
	}
	return ids
}

// nestedChain walks the "manager" members of a response body, checking each level's
// keys (always @odata.type and id, plus keys).
func nestedChain(t *testing.T, m map[string]any, keys ...string) []string {
	t.Helper()
	var ids []string
	for level := m["manager"]; level != nil; {
		mm := level.(map[string]any)
		want := append([]string{"@odata.type", "id"}, keys...)
		if _, more := mm["manager"]; more {
			want = append(want, "manager")
		}
		slices.Sort(want)
		if got := slices.Sorted(func(yield func(string) bool) {
			for k := range mm {
				if !yield(k) {
					return
				}
			}
		}); keys != nil && !slices.Equal(got, want) || mm["@odata.type"] != "#microsoft.graph.user" {
			t.Fatalf("level %d: keys %v, want %v", len(ids)+1, got, want)
		}
		ids = append(ids, mm["id"].(string))
		level = mm["manager"]
	}
	return ids
}

// TestExpandManager checks $expand=manager on a single user: the immediate manager, or
// the chain with $levels (ConsistencyLevel required), each level per the inner $select;
// a deactivated manager is returned like any other.
func TestExpandManager(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	kai, _ := e.User(ti.ID, emulator.ApostropheUPN)
	chain := chainOf(t, e, ti.ID, kai)
	if first, _ := e.User(ti.ID, chain[0]); len(chain) < 3 || first.AccountEnabled {
		t.Fatalf("fixture: Kai's chain %v should be 3+ deep and start with a deactivated manager", chain)
	}
	kaiKey := "/v1.0/users('" + url.PathEscape(strings.ReplaceAll(kai.UserPrincipalName, "'", "''")) + "')"
	defaults := []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName"}
	tests := []struct {
		name, path string
		hdr        map[string]string
		keys       []string // each level's keys besides @odata.type and id
		want       []string // the chain's ids
	}{
		{"immediate", "/v1.0/users/" + kai.ID + "?$expand=manager", nil, defaults, chain[:1]},
		{"immediate with select", "/v1.0/users/" + kai.ID + "?$select=id&$expand=manager($select=displayName)", nil, []string{"displayName"}, chain[:1]},
		{"levels 1", "/v1.0/users/" + kai.ID + "?$expand=manager($levels=1;$select=id)", eventual, []string{}, chain[:1]},
		{"levels 2", "/v1.0/users/" + kai.ID + "?$expand=manager($levels=2;$select=id,accountEnabled)", eventual, []string{"accountEnabled"}, chain[:2]},
		{"levels max", kaiKey + "?$expand=manager($levels=max;$select=id,displayName)", eventual, []string{"displayName"}, chain},
		{"levels max with count", kaiKey + "?$expand=manager($levels=max;$select=id)&$count=true", eventual, []string{}, chain},
		{"levels beyond the root", "/v1.0/users/" + kai.ID + "?$expand=manager(levels=1000;select=id)", eventual, []string{}, chain},
		{"escaped semicolon", "/v1.0/users/" + kai.ID + "?$expand=manager($levels=max%3B$select=id)", eventual, []string{}, chain},
		{"root has none", "/v1.0/users/" + chain[len(chain)-1] + "?$expand=manager", nil, nil, nil},
	}
	for _, tc := range tests {
		check := func(t *testing.T, st int, b []byte) {
			var m map[string]any
			if st != 200 || json.Unmarshal(b, &m) != nil {
				t.Fatalf("got %d %s", st, b)
			}
			if got := nestedChain(t, m, tc.keys...); !slices.Equal(got, tc.want) {
				t.Fatalf("chain %v, want %v", got, tc.want)
			}
			if lvl, ok := m["manager"].(map[string]any); ok && slices.Contains(tc.keys, "accountEnabled") && lvl["accountEnabled"] != false {
				t.Fatalf("deactivated manager: %v", lvl)
			}
		}
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e, "GET", tc.path, tok, nil, tc.hdr)
			check(t, resp.StatusCode, b)
		})
		t.Run(tc.name+"/batch", func(t *testing.T) {
			_, br, raw := postBatch(t, e, tok, []map[string]any{{"id": "1", "method": "GET",
				"url": strings.TrimPrefix(tc.path, "/v1.0/"), "headers": tc.hdr}}, false)
			if len(br.Responses) != 1 {
				t.Fatalf("batch %s", raw)
			}
			check(t, br.Responses[0].Status, br.Responses[0].Body)
		})
	}
}

// TestExpandRefusals checks the $expand requests Graph (or, where it says so, the
// emulator) refuses.
func TestExpandRefusals(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	user := "/v1.0/users/" + ti.Users[9].ID
	const failed = "Parsing OData Select and Expand failed: "
	tests := []struct {
		name, path string
		hdr        map[string]string
		code, msg  string
	}{
		{"levels without ConsistencyLevel", user + "?$expand=manager($levels=max)", nil, "Request_UnsupportedQuery",
			"Query option '$levels' is not supported because the required parameters might be missing. Try adding ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"},
		{"levels on the collection", "/v1.0/users?$expand=manager($levels=2)", eventual, "Request_UnsupportedQuery",
			"$levels in $expand is supported on a single user only, not on a collection of users."},
		{"levels zero", user + "?$expand=manager($levels=0)", eventual, "Request_UnsupportedQuery",
			"Invalid value '0' for $levels: it must be 'max' or a number between 1 and 1000."},
		{"levels too deep", user + "?$expand=manager($levels=1001)", eventual, "Request_UnsupportedQuery",
			"Invalid value '1001' for $levels: it must be 'max' or a number between 1 and 1000."},
		{"levels negative", user + "?$expand=manager($levels=-1)", eventual, "BadRequest",
			failed + "Levels option must be a non-negative integer or 'max', it is set to '-1' instead."},
		{"levels word", user + "?$expand=manager($levels=all)", eventual, "BadRequest",
			failed + "Levels option must be a non-negative integer or 'max', it is set to 'all' instead."},
		{"two navigations", user + "?$expand=manager,directReports", nil, "BadRequest",
			"The result of parsing $expand contained at least 2 items, but the maximum allowed is 1."},
		{"unmodelled navigation", user + "?$expand=directReports", nil, "BadRequest",
			failed + "Expanding 'directReports' is not supported by the emulator; only 'manager' is."},
		{"structural property", user + "?$expand=displayName", nil, "BadRequest",
			failed + "Property 'displayName' on type 'microsoft.graph.user' is not a navigation property or complex property. Only navigation properties can be expanded."},
		{"unknown property", user + "?$expand=boss", nil, "BadRequest",
			failed + "Could not find a property named 'boss' on type 'microsoft.graph.user'."},
		{"unknown inner select", user + "?$expand=manager($select=shoeSize)", nil, "BadRequest",
			failed + "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{"unmodelled inner option", user + "?$expand=manager($filter=accountEnabled%20eq%20true)", nil, "BadRequest",
			failed + "Query option '$filter' inside $expand=manager is not supported by the emulator."},
		{"unbalanced", user + "?$expand=manager($select=id", nil, "BadRequest", failed + "Found an unbalanced bracket expression."},
		{"on the list", "/v1.0/users?$expand=memberOf", nil, "BadRequest",
			failed + "Expanding 'memberOf' is not supported by the emulator; only 'manager' is."},
		{"search with expand", `/v1.0/users?$expand=manager&$search="displayName:kai"`, eventual, "Request_UnsupportedQuery",
			"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e, "GET", tc.path, tok, nil, tc.hdr)
			var m map[string]any
			if resp.StatusCode != 400 || json.Unmarshal(b, &m) != nil || errCode(m) != tc.code || m["error"].(map[string]any)["message"] != tc.msg {
				t.Fatalf("got %d %s, want 400 %s %q", resp.StatusCode, b, tc.code, tc.msg)
			}
		})
	}
}

// TestExpandManagerOnList checks $expand=manager on a collection: each user carries its
// immediate manager (the root none); $count=true is then silently ignored, as Graph
// ignores the advanced query parameters when $expand is present.
func TestExpandManagerOnList(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	st, m := graphGet(t, e, tok, "/v1.0/users?$select=id&$expand=manager($select=id)&$top=999&$count=true", eventual)
	v, _ := m["value"].([]any)
	if st != 200 || len(v) != len(ti.Users) || m["@odata.count"] != nil {
		t.Fatalf("got %d, %d items, count %v", st, len(v), m["@odata.count"])
	}
	for _, x := range v {
		item := x.(map[string]any)
		u, _ := e.User(ti.ID, item["id"].(string))
		got := nestedChain(t, item, []string{}...)
		if want := chainOf(t, e, ti.ID, u); len(want) > 0 && !slices.Equal(got, want[:1]) || len(want) == 0 && got != nil {
			t.Fatalf("%s: manager %v, want the first of %v", u.ID, got, want)
		}
	}
}

// TestExpandSelectLogged checks that the request log lists the fields asked of the
// expanded managers with the user's own, so privacy tests see every field requested.
func TestExpandSelectLogged(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	e.ResetRequests()
	graphGet(t, e, tok, "/v1.0/users/"+ti.Users[9].ID+"?$select=id,displayName&$expand=manager($levels=max;$select=id,mobilePhone)", eventual)
	reqs := e.Requests()
	if len(reqs) != 1 || reqs[0].Status != 200 || !slices.Equal(reqs[0].Select, []string{"id", "displayName", "id", "mobilePhone"}) {
		t.Fatalf("logged %+v", reqs)
	}
}
