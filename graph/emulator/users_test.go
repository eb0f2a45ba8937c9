package emulator_test

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

var eventual = map[string]string{"ConsistencyLevel": "eventual"}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestGetUserSelect(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	u := ti.Users[3]
	defaults := []string{"@odata.context", "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
		"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}
	tests := []struct {
		name, path string
		status     int
		keys       []string
		context    string
		code       string
	}{
		{"default set", "/v1.0/users/" + u.ID, 200, defaults, "#users/$entity", ""},
		{"by upn", "/v1.0/users/" + url.PathEscape(strings.ToUpper(u.UserPrincipalName)), 200, defaults, "#users/$entity", ""},
		{"select case-insensitive", "/v1.0/users/" + u.ID + "?$select=DisplayName,mail", 200,
			[]string{"@odata.context", "displayName", "mail"}, "#users(displayName,mail)/$entity", ""},
		{"internal fields only when selected", "/v1.0/users/" + u.ID + "?$select=id,accountEnabled,signInSessionsValidFromDateTime", 200,
			[]string{"@odata.context", "accountEnabled", "id", "signInSessionsValidFromDateTime"}, "#users(id,accountEnabled,signInSessionsValidFromDateTime)/$entity", ""},
		{"select without dollar", "/v1.0/users/" + u.ID + "?select=department", 200, []string{"@odata.context", "department"}, "#users(department)/$entity", ""},
		{"unknown property", "/v1.0/users/" + u.ID + "?$select=displayName,shoeSize", 400, nil, "", "BadRequest"},
		{"not found", "/v1.0/users/00000000-0000-4000-8000-000000000000", 404, nil, "", "Request_ResourceNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, m := graphGet(t, e, tok, tc.path, map[string]string{"client-request-id": "abc"})
			if st != tc.status {
				t.Fatalf("status %d, want %d: %v", st, tc.status, m)
			}
			if tc.code != "" {
				inner := m["error"].(map[string]any)["innerError"].(map[string]any)
				if errCode(m) != tc.code || inner["request-id"] == nil || inner["client-request-id"] != "abc" || inner["date"] == nil {
					t.Fatalf("error = %v", m)
				}
				if tc.code == "BadRequest" && m["error"].(map[string]any)["message"] !=
					"Could not find a property named 'shoeSize' on type 'microsoft.graph.user'." {
					t.Fatalf("message = %v", m["error"])
				}
				return
			}
			if got := keys(m); !slices.Equal(got, tc.keys) {
				t.Fatalf("keys = %v, want %v", got, tc.keys)
			}
			if m["@odata.context"] != e.URL()+"/v1.0/$metadata"+tc.context {
				t.Fatalf("context = %v", m["@odata.context"])
			}
		})
	}
	t.Run("disabled user still returned", func(t *testing.T) {
		var off emulator.UserInfo
		for _, x := range ti.Users {
			if !x.AccountEnabled {
				off = x
				break
			}
		}
		st, m := graphGet(t, e, tok, "/v1.0/users/"+off.ID+"?$select=accountEnabled,signInSessionsValidFromDateTime", nil)
		if st != 200 || m["accountEnabled"] != false || !strings.HasSuffix(m["signInSessionsValidFromDateTime"].(string), "Z") {
			t.Fatalf("disabled: %d %v", st, m)
		}
	})
	t.Run("headers", func(t *testing.T) {
		resp, _ := do(t, e, http.MethodGet, "/v1.0/users/"+u.ID, tok, nil, map[string]string{"client-request-id": "xyz"})
		if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") != "xyz" {
			t.Fatalf("headers = %v", resp.Header)
		}
	})
}

func TestGraphAuth(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	path := "/v1.0/users/" + ti.Users[0].ID
	userTok, _ := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, UserID: ti.Users[0].ID})
	expired, _ := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, Audience: "https://graph.microsoft.com",
		IssuedAt: time.Now().Add(-3 * time.Hour), TTL: time.Hour})
	noRoles, _ := e.MintToken(emulator.TokenRequest{TenantID: ti.ID, Audience: "https://graph.microsoft.com", Roles: []string{}})
	good := appToken(t, e, "contoso.example")
	tests := []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", 401, "InvalidAuthenticationToken"},
		{"garbage", "not-a-jwt", 401, "InvalidAuthenticationToken"},
		{"gateway-audience token", userTok, 401, "InvalidAuthenticationToken"},
		{"expired", expired, 401, "InvalidAuthenticationToken"},
		{"tampered", good[:len(good)-6] + "AAAAAA", 401, "InvalidAuthenticationToken"},
		{"no permissions", noRoles, 403, "Authorization_RequestDenied"},
		{"good", good, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, m := graphGet(t, e, tc.token, path, nil)
			if st != tc.status || errCode(m) != tc.code {
				t.Fatalf("got %d %v", st, m)
			}
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	e := shared(t)
	contoso := appToken(t, e, "contoso.example")
	fab := tenant(t, e, "fabrikam.example")
	for _, path := range []string{"/v1.0/users/" + fab.Users[0].ID, "/v1.0/users/" + fab.Users[0].UserPrincipalName} {
		if st, m := graphGet(t, e, contoso, path, nil); st != 404 {
			t.Fatalf("contoso token read fabrikam user: %d %v", st, m)
		}
	}
	st, m := graphGet(t, e, appToken(t, e, "fabrikam.example"), "/v1.0/users/"+fab.Users[0].ID, nil)
	if st != 200 || m["id"] != fab.Users[0].ID {
		t.Fatalf("fabrikam token: %d %v", st, m)
	}
	_, list := graphGet(t, e, contoso, "/v1.0/users?$select=userPrincipalName&$top=999", nil)
	for _, v := range list["value"].([]any) {
		if strings.HasSuffix(v.(map[string]any)["userPrincipalName"].(string), "fabrikam.example") {
			t.Fatal("fabrikam user in contoso list")
		}
	}
}

func TestListUsers(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	adele, _ := e.User(ti.ID, "adele@contoso.example")
	tests := []struct {
		name   string
		query  string
		hdr    map[string]string
		status int
		code   string
		check  func(t *testing.T, m map[string]any, value []map[string]any)
	}{
		{"default page", "", nil, 200, "", func(t *testing.T, m map[string]any, v []map[string]any) {
			if len(v) != len(ti.Users) || m["@odata.nextLink"] != nil || m["@odata.count"] != nil {
				t.Fatalf("got %d users, nextLink %v", len(v), m["@odata.nextLink"])
			}
		}},
		{"search needs ConsistencyLevel", `$search="displayName:adele"`, nil, 400, "Request_UnsupportedQuery", nil},
		{"search displayName prefix", `$search="displayName:ade"`, eventual, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != 1 || v[0]["id"] != adele.ID {
				t.Fatalf("value = %v", v)
			}
		}},
		{"search second token", `$search="displayName:` + strings.ToLower(adele.Surname[:3]) + `"`, eventual, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if !slices.ContainsFunc(v, func(m map[string]any) bool { return m["id"] == adele.ID }) {
				t.Fatalf("adele not found by surname prefix: %v", v)
			}
		}},
		{"search OR", `$search="displayName:adele" OR "mail:alex"`, eventual, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != 2 {
				t.Fatalf("value = %v", v)
			}
		}},
		{"search AND", `$search="displayName:adele" AND "mail:alex"`, eventual, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != 0 {
				t.Fatalf("value = %v", v)
			}
		}},
		{"search unquoted", `$search=displayName:adele`, eventual, 400, "BadRequest", nil},
		{"count without ConsistencyLevel is ignored", `$count=true`, nil, 200, "", func(t *testing.T, m map[string]any, v []map[string]any) {
			if _, ok := m["@odata.count"]; ok || len(v) != len(ti.Users) {
				t.Fatalf("@odata.count %v, %d users", m["@odata.count"], len(v))
			}
		}},
		{"count", `$count=true&$top=5&$select=id`, eventual, 200, "", func(t *testing.T, m map[string]any, v []map[string]any) {
			if m["@odata.count"] != float64(len(ti.Users)) || len(v) != 5 || m["@odata.nextLink"] == nil {
				t.Fatalf("count %v, %d items", m["@odata.count"], len(v))
			}
		}},
		{"filter accountEnabled", `$filter=accountEnabled eq false&$select=id,accountEnabled`, nil, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) < 3 || slices.ContainsFunc(v, func(m map[string]any) bool { return m["accountEnabled"] != false }) {
				t.Fatalf("value = %v", v)
			}
		}},
		{"filter startswith and eq", `$filter=startswith(displayName,'ADE') and userPrincipalName eq 'adele@contoso.example'`, nil, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != 1 || v[0]["id"] != adele.ID {
				t.Fatalf("value = %v", v)
			}
		}},
		{"filter id in", `$filter=id in ('` + ti.Users[1].ID + `','` + ti.Users[2].ID + `') or id eq '` + ti.Users[3].ID + `'`, nil, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != 3 {
				t.Fatalf("value = %v", v)
			}
		}},
		{"filter unknown property", `$filter=shoeSize eq '4'`, nil, 400, "BadRequest", nil},
		{"filter endswith needs advanced", `$filter=endswith(mail,'example')`, nil, 400, "Request_UnsupportedQuery", nil},
		{"filter endswith advanced", `$filter=endswith(mail,'@contoso.example')&$count=true`, eventual, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if len(v) != len(ti.Users)-1 { // all but the guest, whose mail is at partner.example
				t.Fatalf("got %d", len(v))
			}
		}},
		{"filter syntax", `$filter=displayName eq 'x`, nil, 400, "BadRequest", nil},
		{"orderby desc", `$orderby=displayName desc&$select=displayName`, nil, 200, "", func(t *testing.T, _ map[string]any, v []map[string]any) {
			if !sort.SliceIsSorted(v, func(i, j int) bool {
				return strings.ToLower(v[i]["displayName"].(string)) > strings.ToLower(v[j]["displayName"].(string))
			}) {
				t.Fatal("not sorted descending")
			}
		}},
		{"orderby unsupported", `$orderby=city`, nil, 400, "Request_UnsupportedQuery", nil},
		{"top too large", `$top=1000`, nil, 400, "Request_UnsupportedQuery", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			path := "/v1.0/users"
			if tc.query != "" {
				path += "?" + q.Encode()
			}
			st, m := graphGet(t, e, tok, path, tc.hdr)
			if st != tc.status || errCode(m) != tc.code {
				t.Fatalf("got %d %v", st, m)
			}
			if tc.check != nil {
				var v []map[string]any
				for _, x := range m["value"].([]any) {
					v = append(v, x.(map[string]any))
				}
				if m["@odata.context"] == nil {
					t.Fatal("no @odata.context")
				}
				tc.check(t, m, v)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	next := "/v1.0/users?$top=7&$select=id,displayName&$filter=accountEnabled eq true"
	seen := map[string]bool{}
	pages := 0
	for next != "" {
		st, m := graphGet(t, e, tok, next, nil)
		if st != 200 {
			t.Fatalf("page %d: %d %v", pages, st, m)
		}
		if m["@odata.context"] != e.URL()+"/v1.0/$metadata#users(id,displayName)" {
			t.Fatalf("context %v", m["@odata.context"])
		}
		for _, v := range m["value"].([]any) {
			u := v.(map[string]any)
			if seen[u["id"].(string)] || len(u) != 2 {
				t.Fatalf("duplicate or wrong shape: %v", u)
			}
			seen[u["id"].(string)] = true
		}
		next = ""
		if l, ok := m["@odata.nextLink"].(string); ok {
			if !strings.Contains(l, "$skiptoken=") || !strings.HasPrefix(l, e.URL()+"/v1.0/users?") {
				t.Fatalf("nextLink %s", l)
			}
			next = strings.TrimPrefix(l, e.URL())
		}
		pages++
	}
	enabled := 0
	for _, u := range ti.Users {
		if u.AccountEnabled {
			enabled++
		}
	}
	if len(seen) != enabled || pages != (enabled+6)/7 {
		t.Fatalf("saw %d users in %d pages, want %d", len(seen), pages, enabled)
	}
	if st, m := graphGet(t, e, tok, "/v1.0/users?$top=7&$skiptoken=garbage", nil); st != 400 {
		t.Fatalf("bad skiptoken: %d %v", st, m)
	}
}
