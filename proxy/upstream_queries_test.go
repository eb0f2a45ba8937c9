package proxy_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// readTour is the set of users a tour of the read routes is about.
type readTour struct {
	caller    emulator.UserInfo   // a manager with a deactivated report
	colleague emulator.UserInfo   // an enabled user
	gone      emulator.UserInfo   // the caller's deactivated report
	batched   []emulator.UserInfo // enabled users read only through $batch
}

// newReadTour picks the fixture's first deactivated user and its (enabled) manager.
func newReadTour(t *testing.T, e *env) readTour {
	t.Helper()
	gone := e.disabledUser(0)
	full, ok := e.emu.User(e.tenant(0).ID, gone.ID)
	if !ok || full.ManagerID == "" {
		t.Fatal("the fixture's deactivated user has no manager")
	}
	tour := readTour{gone: gone}
	for _, u := range e.enabledUsers(0) {
		switch {
		case u.ID == full.ManagerID:
			tour.caller = u
		case tour.colleague.ID == "":
			tour.colleague = u
		case len(tour.batched) < 2:
			tour.batched = append(tour.batched, u)
		}
	}
	if tour.caller.ID == "" {
		t.Fatal("the deactivated user's manager is not an enabled fixture user")
	}
	return tour
}

// drive sends every read route once with the token of one client app: user by id and
// by UPN, /me, lists with $search, $filter, $orderby, $top, $count and their next page,
// manager, direct reports, photos, presence and $batch. It fails on any 5xx answer,
// which would mean the tour asked Graph nothing.
func (tour readTour) drive(t *testing.T, e *env, client string) {
	t.Helper()
	tok := e.token(0, client, tour.caller)
	col, gone := "/v1.0/users/"+tour.colleague.ID, "/v1.0/users/"+tour.gone.ID
	eventual := []string{"ConsistencyLevel", "eventual"}
	gets := []string{
		"/v1.0/me?" + allFields, col, "/v1.0/users/" + url.PathEscape(tour.colleague.UserPrincipalName) + "?$select=displayName,mobilePhone",
		gone, "/v1.0/me/manager", col + "/manager", "/v1.0/me/directReports", "/v1.0/users/" + tour.caller.ID + "/directReports?" + allFields,
		col + "/photo", col + "/photo/$value", col + "/photos/48x48/$value", gone + "/photos/96x96/$value", "/v1.0/me/photo/$value",
		"/v1.0/me/presence", col + "/presence", "/beta/users/" + tour.colleague.ID + "/presence",
	}
	lists := []string{
		`$search="displayName:a"&$count=true&$top=3`,
		`$filter=startswith(displayName,'A')&$count=true&$top=2`,
		`$filter=displayName eq 'a) or (accountEnabled eq false'`,
		`$orderby=displayName&$top=4&$select=displayName,jobTitle`,
		`$top=999&` + allFields,
	}
	for _, q := range lists {
		r := e.get("/v1.0/users?"+encodeQuery(q), tok, eventual...)
		checkNo5xx(t, "list "+q, r)
		if link, _ := jsonField(r, "@odata.nextLink"); link != "" {
			gets = append(gets, strings.TrimPrefix(link, e.url)) // the next page
		}
	}
	for _, path := range gets {
		checkNo5xx(t, path, e.get(path, tok, eventual...))
	}
	checkNo5xx(t, "getPresencesByUserId", e.do(http.MethodPost, "/v1.0/communications/getPresencesByUserId", tok,
		map[string]any{"ids": []string{tour.colleague.ID, tour.caller.ID}}))
	items := []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/" + tour.colleague.ID + "?$select=displayName,mobilePhone"},
		{"id": "2", "method": "GET", "url": "/users/" + tour.gone.UserPrincipalName},
		{"id": "3", "method": "GET", "url": "/me"},
		{"id": "4", "method": "GET", "url": "/users/" + tour.colleague.ID + "/manager"},
		{"id": "5", "method": "GET", "url": "/users/" + tour.caller.ID + "/directReports"},
		{"id": "6", "method": "GET", "url": "/users/" + tour.colleague.ID + "/photo/$value"},
		{"id": "7", "method": "GET", "url": "/users/" + tour.colleague.ID + "/presence"},
		{"id": "8", "method": "GET", "url": "/users?$search=" + url.QueryEscape(`"displayName:b"`) + "&$top=2",
			"headers": map[string]string{"ConsistencyLevel": "eventual"}},
	}
	for i, u := range tour.batched {
		items = append(items, map[string]any{"id": "b" + strconv.Itoa(i), "method": "GET", "url": "/users/" + u.ID})
	}
	checkNo5xx(t, "$batch", e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": items}))
}

// checkNo5xx fails on a server error, in a response or in any $batch item.
func checkNo5xx(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: %d %s", what, r.Status, r.Body)
	}
	var br batchResp
	if json.Unmarshal(r.Body, &br) == nil {
		for _, it := range br.Responses {
			if it.Status >= 500 {
				t.Errorf("%s item %s: %d %s", what, it.ID, it.Status, it.Body)
			}
		}
	}
}

// jsonField returns a string property of a JSON object body.
func jsonField(r response, name string) (string, bool) {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return "", false
	}
	s, ok := m[name].(string)
	return s, ok
}

// graphRequests returns the emulator's log of Graph calls (not token or key requests).
func graphRequests(e *env) []emulator.Request {
	var out []emulator.Request
	for _, r := range e.emu.Requests() {
		if strings.Contains(r.Route, " /v1.0/") {
			out = append(out, r)
		}
	}
	return out
}

// TestGraphIsAskedOnlyForAllowedFieldsAndEnabledUsers drives every read route with each
// client app of the policy and checks every call the emulator received: its $select lies
// within policy.UpstreamFields (the fields some policy allows plus the internal ones),
// calls that return user records always carry a $select (never Graph's default set),
// and every user list is filtered to enabled accounts.
func TestGraphIsAskedOnlyForAllowedFieldsAndEnabledUsers(t *testing.T) {
	e := newEnv(t)
	tour := newReadTour(t, e)
	upstream := e.pol.UpstreamFields()
	for _, c := range e.tenant(0).Clients {
		t.Run(c.Name, func(t *testing.T) {
			e.emu.ResetRequests()
			e.srv.PurgeTenant(e.tenant(0).ID) // each client app's reads reach Graph
			tour.drive(t, e, c.Name)
			for _, r := range graphRequests(e) {
				for _, f := range r.Select {
					if !slices.Contains(upstream, f) {
						t.Errorf("%s (batch item %t) asked Graph for %q, outside %v", r.Route, r.InBatch, f, upstream)
					}
				}
				if slices.Contains(testkit.UserRecordRoutes, r.Route) && len(r.Select) == 0 {
					t.Errorf("%s (batch item %t) without $select: Graph answers with its default property set", r.Route, r.InBatch)
				}
				if r.Route == testkit.UserListRoute && !testkit.ExcludesDeactivated(r.Filter) {
					t.Errorf("user list asked with $filter %q (search %q): deactivated accounts are not excluded", r.Filter, r.Search)
				}
			}
		})
	}
	t.Run("the tour reached Graph on every kind of call", func(t *testing.T) {
		e.emu.ResetRequests()
		e.srv.PurgeTenant(e.tenant(0).ID)
		tour.drive(t, e, "intranet-directory")
		seen := map[string]bool{}
		for _, r := range graphRequests(e) {
			seen[r.Route] = true
			if r.Route == testkit.UserListRoute && r.Filter != testkit.EnabledOnlyFilter {
				seen["filter"] = true
			}
			if r.Search != "" {
				seen["search"] = true
			}
			if r.InBatch && len(r.Select) > 0 {
				seen["batch item"] = true
			}
		}
		for _, want := range append([]string{"filter", "search", "batch item"}, testkit.UserRecordRoutes...) {
			if !seen[want] {
				t.Errorf("no upstream call of kind %q; seen %v", want, slices.Sorted(maps.Keys(seen)))
			}
		}
	})
}

// TestRecordOfProcessingStatesWhatIsFetched drives every read route and compares the
// fields GET /privacy and the self-export say are fetched from Graph with the union of
// the $select lists Graph actually received (internal fields included): one owner,
// the directory, builds both.
func TestRecordOfProcessingStatesWhatIsFetched(t *testing.T) {
	e := newEnv(t)
	tour := newReadTour(t, e)
	e.emu.ResetRequests()
	for _, c := range e.tenant(0).Clients {
		tour.drive(t, e, c.Name)
	}
	fetched := map[string]bool{}
	for _, r := range graphRequests(e) {
		for _, f := range r.Select {
			fetched[f] = true
		}
	}
	want := slices.Sorted(maps.Keys(fetched))
	var doc privacyDoc
	if err := json.Unmarshal(e.get("/privacy", "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	var export exportDoc
	r := e.get("/privacy/v1/me/export", e.token(0, "chat-web", tour.caller))
	if err := json.Unmarshal(r.Body, &export); err != nil {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		name string
		got  []string
	}{
		{"GET /privacy fields_fetched_from_graph", doc.FetchedFields},
		{"export fields_processed", export.Processed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := slices.Sorted(slices.Values(tc.got)); !slices.Equal(got, want) {
				t.Errorf("states %v; Graph was asked for %v", got, want)
			}
		})
	}
}
