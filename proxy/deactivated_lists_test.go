package proxy_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// zyxwvOrg is a small org chart added to tenant 0 whose members all have "Zyxwv" in
// their display name: able (enabled) manages baker (enabled) and gone (deactivated);
// left (deactivated) manages charlie (enabled).
type zyxwvOrg struct {
	able, baker, charlie, gone, left emulator.User
}

func newZyxwvOrg(t *testing.T, e *env) zyxwvOrg {
	t.Helper()
	add := func(name string, enabled bool, manager string) emulator.User {
		u, err := e.emu.AddUser(e.tenant(0).ID, emulator.User{DisplayName: "Zyxwv " + name,
			UserPrincipalName: "zyxwv." + strings.ToLower(name) + "@" + e.tenant(0).Domain,
			AccountEnabled:    enabled, ManagerID: manager})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	var o zyxwvOrg
	o.able = add("Able", true, "")
	o.baker = add("Baker", true, o.able.ID)
	o.gone = add("Gone", false, o.able.ID)
	o.left = add("Left", false, "")
	o.charlie = add("Charlie", true, o.left.ID)
	return o
}

// listing is every page of a user list as the gateway served it.
type listing struct {
	counts []float64       // @odata.count of each page
	ids    map[string]bool // the users listed, over all pages
	dupes  int             // users listed more than once
}

// walk follows @odata.nextLink from path to the last page.
func walk(t *testing.T, e *env, tok, path string) listing {
	t.Helper()
	l := listing{ids: map[string]bool{}}
	for pages := 0; path != ""; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		r := e.get(path, tok, "ConsistencyLevel", "eventual")
		if r.Status != http.StatusOK {
			t.Fatalf("page %d of %s: %d %s", pages, path, r.Status, r.Body)
		}
		body := r.JSON(t)
		n, _ := body["@odata.count"].(float64)
		l.counts = append(l.counts, n)
		for _, v := range body["value"].([]any) {
			id, _ := v.(map[string]any)["id"].(string)
			if l.ids[id] {
				l.dupes++
			}
			l.ids[id] = true
		}
		link, _ := body["@odata.nextLink"].(string)
		path = strings.TrimPrefix(link, e.url)
	}
	return l
}

// TestDeactivatedUsersAreAbsentFromCountsAndPages walks user lists page by page with a
// small $top and checks that @odata.count and the pages hold exactly the enabled users
// that match, for the whole directory, a $search and a $filter, and that the org chart
// around a deactivated manager or report shows only enabled accounts.
func TestDeactivatedUsersAreAbsentFromCountsAndPages(t *testing.T) {
	e := newEnv(t)
	o := newZyxwvOrg(t, e)
	tok := e.token(0, "intranet-directory", e.enabledUsers(0)[0])
	enabled, deactivated := map[string]bool{}, map[string]bool{}
	for _, u := range e.emu.Directory().Tenants[0].Users {
		if u.AccountEnabled {
			enabled[u.ID] = true
		} else {
			deactivated[u.ID] = true
		}
	}
	zyxwv := map[string]bool{o.able.ID: true, o.baker.ID: true, o.charlie.ID: true}
	lists := []struct {
		name, query string
		want        map[string]bool
	}{
		{"whole directory", "$count=true&$top=7", enabled},
		{"$search", `$search="displayName:zyxwv"&$count=true&$top=2`, zyxwv},
		{"$filter", `$filter=startswith(displayName,'Zyxwv')&$count=true&$top=2`, zyxwv},
		{"$filter and $orderby", `$filter=startswith(displayName,'Zyxwv')&$orderby=displayName desc&$count=true&$top=1`, zyxwv},
		{"$filter by ids", "$filter=id in ('" + o.gone.ID + "','" + o.left.ID + "','" + o.baker.ID + "')&$count=true&$top=1",
			map[string]bool{o.baker.ID: true}},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			l := walk(t, e, tok, "/v1.0/users?"+encodeQuery(tt.query))
			// Graph answers @odata.count on the first page only
			// (https://learn.microsoft.com/graph/paging); so does the gateway.
			for i, n := range l.counts {
				if i == 0 && int(n) != len(tt.want) {
					t.Errorf("page %d: @odata.count %v, want the %d enabled users that match", i, n, len(tt.want))
				}
				if i > 0 && n != 0 {
					t.Errorf("page %d: @odata.count %v on a later page", i, n)
				}
			}
			for id := range l.ids {
				if deactivated[id] {
					t.Errorf("deactivated user %s listed", id)
				}
			}
			if !maps.Equal(l.ids, tt.want) || l.dupes != 0 {
				t.Errorf("listed %d users (%d twice) over %d pages, want the %d enabled users that match",
					len(l.ids), l.dupes, len(l.counts), len(tt.want))
			}
			if len(tt.want) > 1 && len(l.counts) < 2 {
				t.Errorf("one page only: $top did not page the list")
			}
		})
	}
	orgChart := []struct {
		name, path string
		status     int
		ids        []string // the users listed (directReports) or returned (manager)
	}{
		{"reports of an enabled manager", "/v1.0/users/" + o.able.ID + "/directReports", http.StatusOK, []string{o.baker.ID}},
		{"reports of a deactivated manager", "/v1.0/users/" + o.left.ID + "/directReports", http.StatusNotFound, nil},
		{"manager of a deactivated user", "/v1.0/users/" + o.gone.ID + "/manager", http.StatusNotFound, nil},
		{"deactivated manager of an enabled user", "/v1.0/users/" + o.charlie.ID + "/manager", http.StatusNotFound, nil},
		{"enabled manager", "/v1.0/users/" + o.baker.ID + "/manager", http.StatusOK, []string{o.able.ID}},
	}
	for _, tt := range orgChart {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(tt.path, tok)
			if r.Status != tt.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tt.status)
			}
			if r.Status != http.StatusOK {
				if code := errorCode(t, r); code != "Request_ResourceNotFound" {
					t.Errorf("error code %q", code)
				}
				return
			}
			body := r.JSON(t)
			var got []string
			if vs, ok := body["value"].([]any); ok {
				for _, v := range vs {
					got = append(got, v.(map[string]any)["id"].(string))
				}
			} else {
				got = append(got, body["id"].(string))
			}
			if !slices.Equal(got, tt.ids) {
				t.Errorf("ids %v, want %v", got, tt.ids)
			}
		})
	}
}
