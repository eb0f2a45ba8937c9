package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
)

func TestManagerAndDirectReports(t *testing.T) {
	e := shared(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	ceo, _ := e.User(ti.ID, ti.Users[0].ID)
	var report emulator.User
	for _, ui := range ti.Users[1:] {
		if u, _ := e.User(ti.ID, ui.ID); u.ManagerID != "" && u.ManagerID != ceo.ID {
			report = u
			break
		}
	}
	t.Run("manager", func(t *testing.T) {
		st, m := graphGet(t, e, tok, "/v1.0/users/"+report.UserPrincipalName+"/manager?$select=id,displayName", nil)
		if st != 200 || m["id"] != report.ManagerID || m["@odata.type"] != "#microsoft.graph.user" || len(m) != 4 ||
			!strings.HasSuffix(m["@odata.context"].(string), "#directoryObjects(id,displayName)/$entity") {
			t.Fatalf("manager: %d %v", st, m)
		}
	})
	t.Run("ceo has no manager", func(t *testing.T) {
		if st, m := graphGet(t, e, tok, "/v1.0/users/"+ceo.ID+"/manager", nil); st != 404 || errCode(m) != "Request_ResourceNotFound" {
			t.Fatalf("got %d %v", st, m)
		}
	})
	t.Run("direct reports", func(t *testing.T) {
		st, m := graphGet(t, e, tok, "/v1.0/users/"+report.ManagerID+"/directReports?$select=id,jobTitle", nil)
		v, _ := m["value"].([]any)
		if st != 200 || len(v) == 0 {
			t.Fatalf("reports: %d %v", st, m)
		}
		found := false
		for _, x := range v {
			r := x.(map[string]any)
			if r["@odata.type"] != "#microsoft.graph.user" || len(r) != 3 {
				t.Fatalf("report shape %v", r)
			}
			if sub, _ := e.User(ti.ID, r["id"].(string)); sub.ManagerID != report.ManagerID {
				t.Fatalf("%v does not report to the manager", r["id"])
			}
			found = found || r["id"] == report.ID
		}
		if !found {
			t.Fatal("report missing from directReports")
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		if st, _ := graphGet(t, e, tok, "/v1.0/users/nobody@contoso.example/directReports", nil); st != 404 {
			t.Fatalf("got %d", st)
		}
	})
}

func TestPresence(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	id := ti.Users[6].ID
	st, m := graphGet(t, e, tok, "/v1.0/users/"+id+"/presence", nil)
	if st != 200 || m["id"] != id || m["availability"] == nil || m["activity"] == nil {
		t.Fatalf("presence: %d %v", st, m)
	}
	if _, again := graphGet(t, e, tok, "/v1.0/users/"+id+"/presence", nil); again["availability"] != m["availability"] {
		t.Fatal("presence not deterministic")
	}
	if err := e.SetPresence(ti.ID, id, emulator.Presence{Availability: "DoNotDisturb", Activity: "Presenting"}); err != nil {
		t.Fatal(err)
	}
	if _, m := graphGet(t, e, tok, "/v1.0/users/"+id+"/presence", nil); m["availability"] != "DoNotDisturb" || m["activity"] != "Presenting" {
		t.Fatalf("after SetPresence: %v", m)
	}
	unknown := "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name   string
		ids    []string
		status int
		n      int
	}{
		{"two users and an unknown id", []string{id, ti.Users[7].ID, unknown}, 200, 3},
		{"empty", []string{}, 400, 0},
		{"not a guid", []string{"adele@contoso.example"}, 400, 0},
		{"too many", make([]string, 651), 400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := do(t, e, http.MethodPost, "/v1.0/communications/getPresencesByUserId", tok,
				jsonBody(t, map[string]any{"ids": tc.ids}), map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if tc.status != 200 {
				return
			}
			v := decodeObj(t, b)["value"].([]any)
			if len(v) != tc.n || v[0].(map[string]any)["availability"] != "DoNotDisturb" ||
				v[2].(map[string]any)["availability"] != "PresenceUnknown" {
				t.Fatalf("value = %v", v)
			}
		})
	}
}

func TestRevokeSignInSessions(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	ti := tenant(t, e, "contoso.example")
	id := ti.Users[9].ID
	before := time.Now().UTC().Truncate(time.Second)
	resp, b := do(t, e, http.MethodPost, "/v1.0/users/"+id+"/revokeSignInSessions", tok, nil, nil)
	m := decodeObj(t, b)
	if resp.StatusCode != 200 || m["value"] != true || !strings.HasSuffix(m["@odata.context"].(string), "$metadata#Edm.Boolean") {
		t.Fatalf("revoke: %d %v", resp.StatusCode, m)
	}
	_, m = graphGet(t, e, tok, "/v1.0/users/"+id+"?$select=signInSessionsValidFromDateTime", nil)
	s := m["signInSessionsValidFromDateTime"].(string)
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") || strings.Contains(s, ".") || ts.Before(before) || ts.After(time.Now()) {
		t.Fatalf("signInSessionsValidFromDateTime = %q (%v)", s, err)
	}
	if u, _ := e.User(ti.ID, id); !u.SignInSessionsValidFromDateTime.Equal(ts) {
		t.Fatalf("Go API sees %v, Graph %v", u.SignInSessionsValidFromDateTime, ts)
	}
	if resp, _ := do(t, e, http.MethodPost, "/v1.0/users/nobody@contoso.example/revokeSignInSessions", tok, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
}

// TestDirectReportsPaging checks that directReports honours $top and pages with
// @odata.nextLink and $skiptoken like /users (https://learn.microsoft.com/graph/paging),
// with Graph's default page size of 100 for directory collections.
func TestDirectReportsPaging(t *testing.T) {
	e := fresh(t)
	tok := appToken(t, e, "contoso.example")
	mgr := addUsers(t, e, emulator.User{UserPrincipalName: "mgr@contoso.example"})[0]
	var reports []emulator.User
	for i := range 105 {
		reports = append(reports, emulator.User{UserPrincipalName: fmt.Sprintf("rep%03d@contoso.example", i), ManagerID: mgr})
	}
	want := addUsers(t, e, reports...)
	path := "/v1.0/users/" + mgr + "/directReports"
	walk := func(t *testing.T, query string, hdr map[string]string) (pages []int, ids []string, first listResult) {
		t.Helper()
		r := list(t, e, tok, path, query, hdr)
		first = r
		for {
			if r.status != 200 {
				t.Fatalf("page %d: %d %v", len(pages), r.status, r.body)
			}
			for _, x := range r.body["value"].([]any) {
				if x.(map[string]any)["@odata.type"] != "#microsoft.graph.user" {
					t.Fatalf("item without @odata.type: %v", x)
				}
			}
			pages, ids = append(pages, len(r.ids)), append(ids, r.ids...)
			next := nextPath(t, e, r)
			if next == "" {
				return pages, ids, first
			}
			if !strings.HasPrefix(next, path+"?") {
				t.Fatalf("nextLink path %s", next)
			}
			if len(pages) > 1 {
				if _, ok := r.body["@odata.count"]; ok {
					t.Fatal("@odata.count on a later page")
				}
			}
			r = listURL(t, e, tok, next, hdr)
		}
	}
	tests := []struct {
		name, query string
		hdr         map[string]string
		pages       []int
	}{
		{"default page size", "$select=id", nil, []int{100, 5}},
		{"top", "$select=id,displayName&$top=40", nil, []int{40, 40, 25}},
		{"top and count", "$select=id&$top=50&$count=true", advancedHdr, []int{50, 50, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pages, ids, first := walk(t, tc.query, tc.hdr)
			if !slices.Equal(pages, tc.pages) || !slices.Equal(ids, want) {
				t.Fatalf("pages %v, %d ids", pages, len(ids))
			}
			if _, ok := first.body["@odata.count"]; ok != (tc.hdr != nil) || (ok && first.body["@odata.count"] != float64(len(want))) {
				t.Fatalf("@odata.count %v", first.body["@odata.count"])
			}
		})
	}
	t.Run("top out of range", func(t *testing.T) {
		if r := list(t, e, tok, path, "$top=0", nil); r.status != 400 || r.code() != "Request_UnsupportedQuery" {
			t.Fatalf("got %d %v", r.status, r.body)
		}
	})
	t.Run("skip token of another manager", func(t *testing.T) {
		next := nextPath(t, e, list(t, e, tok, path, "$top=10", nil))
		other := strings.Replace(next, mgr, want[0], 1)
		if r := listURL(t, e, tok, other, nil); r.status != 400 {
			t.Fatalf("got %d", r.status)
		}
	})
}
