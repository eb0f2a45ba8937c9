package emulator_test

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestCountOption checks $count=true on /users: honoured only with ConsistencyLevel:
// eventual and otherwise "silently" ignored
// (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects),
// and @odata.count "present only in the first page of the paged data"
// (https://learn.microsoft.com/graph/paging).
func TestCountOption(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	t.Run("ignored without ConsistencyLevel", func(t *testing.T) {
		r := list(t, e, tok, "/v1.0/users", "$count=true&$top=5&$select=id", nil)
		if _, ok := r.body["@odata.count"]; r.status != 200 || ok || len(r.ids) != 5 {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
	t.Run("first page only", func(t *testing.T) {
		r := list(t, e, tok, "/v1.0/users", "$count=true&$top=25&$select=id", advancedHdr)
		if r.status != 200 || r.body["@odata.count"] != float64(len(ti.Users)) {
			t.Fatalf("first page: %d %v", r.status, r.body["@odata.count"])
		}
		seen := len(r.ids)
		for next := nextPath(t, e, r); next != ""; next = nextPath(t, e, r) {
			if r = listURL(t, e, tok, next, advancedHdr); r.status != 200 {
				t.Fatalf("next page: %d %v", r.status, r.body)
			}
			if _, ok := r.body["@odata.count"]; ok {
				t.Fatal("@odata.count on a later page")
			}
			seen += len(r.ids)
		}
		if seen != len(ti.Users) {
			t.Fatalf("paged through %d users, want %d", seen, len(ti.Users))
		}
	})
	t.Run("false", func(t *testing.T) {
		r := list(t, e, tok, "/v1.0/users", "$count=false&$top=5", advancedHdr)
		if _, ok := r.body["@odata.count"]; r.status != 200 || ok {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
	t.Run("not a boolean", func(t *testing.T) {
		if r := list(t, e, tok, "/v1.0/users", "$count=yes", advancedHdr); r.status != 400 || r.code() != "BadRequest" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
}

// TestCountSegment checks GET /users/$count: an advanced query answered as text/plain
// (https://learn.microsoft.com/graph/api/user-list), refused without ConsistencyLevel
// (https://learn.microsoft.com/graph/aad-advanced-queries#error-handling-for-advanced-queries-on-directory-objects).
func TestCountSegment(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	disabled := 0
	for _, u := range ti.Users {
		if !u.AccountEnabled {
			disabled++
		}
	}
	tests := []struct {
		name, query string
		want        int
	}{
		{"all", "", len(ti.Users)},
		{"filtered", "?$filter=accountEnabled%20eq%20false", disabled},
		{"searched", "?$search=%22userPrincipalName:adele@%22", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e, http.MethodGet, "/v1.0/users/$count"+tc.query, tok, nil, advancedHdr)
			if n, err := strconv.Atoi(string(b)); resp.StatusCode != 200 || err != nil || n != tc.want ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
	t.Run("needs ConsistencyLevel", func(t *testing.T) {
		st, m := graphGet(t, e, tok, "/v1.0/users/$count", nil)
		if st != 400 || errCode(m) != "Request_BadRequest" || m["error"].(map[string]any)["message"] != "$count is not currently supported." {
			t.Fatalf("got %d %v", st, m)
		}
	})
}

// TestTopOption checks $top on /users: 1..999, Graph's Request_UnsupportedQuery
// outside, an OData syntax error for a value that is not a non-negative integer.
func TestTopOption(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	tests := []struct {
		top    string
		status int
		code   string
		msg    string
	}{
		{"1", 200, "", ""},
		{"999", 200, "", ""},
		{"0", 400, "Request_UnsupportedQuery", "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."},
		{"1000", 400, "Request_UnsupportedQuery", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"-1", 400, "BadRequest", "Invalid value '-1' for $top query option found. The $top query option requires a non-negative integer value."},
		{"ten", 400, "BadRequest", "Invalid value 'ten' for $top query option found. The $top query option requires a non-negative integer value."},
	}
	for _, tc := range tests {
		t.Run(tc.top, func(t *testing.T) {
			r := list(t, e, tok, "/v1.0/users", "$top="+tc.top, nil)
			if r.status != tc.status || r.code() != tc.code || r.message() != tc.msg {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			if tc.top == "1" && len(r.ids) != 1 {
				t.Fatalf("%d users for $top=1", len(r.ids))
			}
		})
	}
}

// TestSkipRefusedOnUsers: Graph pages users with $skiptoken and refuses $skip
// (microsoftgraph/microsoft-graph-docs#9279), unlike the People API.
func TestSkipRefusedOnUsers(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	r := list(t, e, tok, "/v1.0/users", "$top=1&$skip=1", nil)
	if r.status != 400 || r.code() != "Request_BadRequest" || r.message() != "'$skip' is not supported by the service." {
		t.Fatalf("got %d %v", r.status, r.body)
	}
}

// TestOrderBy checks $orderby on users as Graph documents it: displayName and
// userPrincipalName by default, createdDateTime only in advanced queries, and with
// $filter only in advanced queries
// (https://learn.microsoft.com/graph/aad-advanced-queries#support-for-sorting-by-properties-of-microsoft-entra-id-directory-objects).
func TestOrderBy(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	lower := func(m map[string]any, k string) string { s, _ := m[k].(string); return strings.ToLower(s) }
	tests := []struct {
		name, query string
		advanced    bool
		code        string
		key         string
		desc        bool
	}{
		{"displayName", "$orderby=displayName", false, "", "displayName", false},
		{"userPrincipalName desc", "$orderby=userPrincipalName desc", false, "", "userPrincipalName", true},
		{"createdDateTime needs advanced", "$orderby=createdDateTime", false, "Request_UnsupportedQuery", "", false},
		{"createdDateTime advanced", "$orderby=createdDateTime desc", true, "", "createdDateTime", true},
		{"with $filter needs advanced", "$orderby=displayName&$filter=startsWith(displayName,'a')", false, "Request_UnsupportedQuery", "", false},
		{"with $filter advanced", "$orderby=displayName&$filter=startsWith(displayName,'a')", true, "", "displayName", false},
		{"with $search", `$orderby=displayName desc&$search="displayName:a"`, true, "", "displayName", true},
		{"not sortable", "$orderby=city", true, "Request_UnsupportedQuery", "", false},
		{"unknown property", "$orderby=shoeSize", false, "BadRequest", "", false},
		{"bad direction", "$orderby=displayName sideways", false, "BadRequest", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query, hdr := tc.query+"&$select=id,displayName,userPrincipalName,createdDateTime&$top=999", map[string]string(nil)
			if tc.advanced {
				query, hdr = query+"&$count=true", advancedHdr
			}
			r := list(t, e, tok, "/v1.0/users", query, hdr)
			if tc.code != "" {
				if r.status != 400 || r.code() != tc.code {
					t.Fatalf("got %d %v, want 400 %s", r.status, r.body, tc.code)
				}
				return
			}
			v, _ := r.body["value"].([]any)
			if r.status != 200 || len(v) < 2 {
				t.Fatalf("got %d, %d users", r.status, len(v))
			}
			if !sort.SliceIsSorted(v, func(i, j int) bool {
				a, b := lower(v[i].(map[string]any), tc.key), lower(v[j].(map[string]any), tc.key)
				if tc.desc {
					return a > b
				}
				return a < b
			}) {
				t.Fatalf("not sorted by %s (desc %t)", tc.key, tc.desc)
			}
		})
	}
	t.Run("sorting message", func(t *testing.T) {
		r := list(t, e, tok, "/v1.0/users", "$orderby=displayName&$filter=startsWith(displayName,'a')", nil)
		if r.message() != "Sorting not supported for current query." {
			t.Fatalf("message %q", r.message())
		}
	})
}

// TestSkipTokenBinding checks that a $skiptoken only continues the request it came
// from: "Do not try to extract the $skiptoken ... and use it in a different request"
// (https://learn.microsoft.com/graph/paging).
func TestSkipTokenBinding(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	r := list(t, e, tok, "/v1.0/users", "$top=5&$select=id", nil)
	next := nextPath(t, e, r)
	if next == "" {
		t.Fatal("no nextLink")
	}
	if again := listURL(t, e, tok, next, nil); again.status != 200 || slices.ContainsFunc(again.ids, func(id string) bool { return slices.Contains(r.ids, id) }) {
		t.Fatalf("next page: %d, %d ids", again.status, len(again.ids))
	}
	_, token, _ := strings.Cut(next, "$skiptoken=")
	if other := list(t, e, tok, "/v1.0/users", "$top=6&$select=id&$skiptoken="+token, nil); other.status != 400 {
		t.Fatalf("token reused with other options: %d", other.status)
	}
}
