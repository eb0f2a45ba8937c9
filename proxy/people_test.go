package proxy_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// wantPeople is what the gateway must list of a user's relevant people: the emulator's
// ranking, without contacts and outside people and without deactivated accounts, keep
// deciding the rest.
func wantPeople(t *testing.T, e *env, tenant int, owner string, keep func(emulator.User) bool) []string {
	t.Helper()
	ranked, err := e.emu.People(e.tenant(tenant).ID, owner)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ranked {
		if p.Subclass != spec.PersonOrganizationUser {
			continue
		}
		u, ok := e.emu.User(e.tenant(tenant).ID, p.ID)
		if ok && u.AccountEnabled && (keep == nil || keep(u)) {
			ids = append(ids, strings.ToLower(u.ID))
		}
	}
	return ids
}

// peopleIDs reads the ids of a people answer, failing the test unless it is a 200.
func peopleIDs(t *testing.T, r response) ([]string, []map[string]any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var ids []string
	var people []map[string]any
	for _, v := range r.JSON(t)["value"].([]any) {
		p := v.(map[string]any)
		ids = append(ids, strings.ToLower(p["id"].(string)))
		people = append(people, p)
	}
	return ids, people
}

// ownerWithDeactivatedColleague returns an enabled contoso user among whose ten most
// relevant people the emulator ranks a deactivated colleague and a contact.
func ownerWithDeactivatedColleague(t *testing.T, e *env) emulator.UserInfo {
	t.Helper()
	for _, u := range e.enabledUsers(0) {
		ranked, _ := e.emu.People(e.tenant(0).ID, u.ID)
		deactivated, contact := false, false
		for _, p := range ranked[:min(10, len(ranked))] {
			if p.Subclass != spec.PersonOrganizationUser {
				contact = true
			} else if x, ok := e.emu.User(e.tenant(0).ID, p.ID); ok && !x.AccountEnabled {
				deactivated = true
			}
		}
		if deactivated && contact {
			return u
		}
	}
	t.Fatal("no user of the fixture has a deactivated colleague and a contact among their top people")
	return emulator.UserInfo{}
}

// TestPeopleListsOrganizationUsersOnly: /me/people lists the caller's relevant people in
// Graph's order, without the contacts and outside people Graph holds and without the
// deactivated colleague, with the fields chat-web may see of others and nothing else;
// pages count only what is shown, and following @odata.nextLink gives the whole list.
func TestPeopleListsOrganizationUsersOnly(t *testing.T) {
	e := newEnv(t)
	owner := ownerWithDeactivatedColleague(t, e)
	tok := e.token(0, "chat-web", owner)
	want := wantPeople(t, e, 0, owner.ID, nil)
	if len(want) < 4 {
		t.Fatalf("fixture: want at least 4 listed people, have %d", len(want))
	}

	got, people := peopleIDs(t, e.get("/v1.0/me/people?$top=100", tok))
	if !slices.Equal(got, want) {
		t.Errorf("people = %v, want %v", got, want)
	}
	allowed := []string{"id", "displayName", "jobTitle", "scoredEmailAddresses", "personType"}
	for _, p := range people {
		for k := range p {
			if !slices.Contains(allowed, k) {
				t.Errorf("person shows %q, which chat-web's policy does not cover", k)
			}
		}
		if pt := p["personType"].(map[string]any); pt["subclass"] != "OrganizationUser" || pt["class"] != "Person" {
			t.Errorf("personType = %v", pt)
		}
	}

	var paged []string
	next := "/v1.0/me/people?$top=3"
	for next != "" {
		r := e.get(next, tok)
		ids, _ := peopleIDs(t, r)
		if len(ids) != 3 && len(paged)+len(ids) != len(want) {
			t.Fatalf("a page of %d people before the end of the list (%s)", len(ids), next)
		}
		paged = append(paged, ids...)
		next = ""
		if link, ok := r.JSON(t)["@odata.nextLink"].(string); ok {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			next = u.RequestURI()
		}
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged people = %v, want %v", paged, want)
	}
}

// TestPeopleFilters: the $filter spellings Microsoft Graph Toolkit sends, and what the
// gateway refuses.
func TestPeopleFilters(t *testing.T) {
	e := newEnv(t)
	owner := ownerWithDeactivatedColleague(t, e)
	tok := e.token(0, "chat-web", owner)
	all := wantPeople(t, e, 0, owner.ID, nil)
	for _, tt := range []struct {
		filter string
		want   []string
		status int
	}{
		{"personType/class eq 'Person'", all, 200},
		{"personType/class eq 'Person'and personType/subclass eq 'OrganizationUser'", all, 200},
		{"personType/class eq 'Person'and (personType/subclass eq 'ImplicitContact' or personType/subclass eq 'PersonalContact')", nil, 200},
		{"PERSONTYPE/CLASS EQ 'person'", all, 200},
		{"personType/class eq 'Group'", nil, 200},
		{"displayName eq 'x'", nil, 400},
		{"personType/class ne 'Person'", nil, 400},
		{"(personType/class eq 'Person'", nil, 400},
		{"personType/class eq 'Person' and", nil, 400},
	} {
		t.Run(tt.filter, func(t *testing.T) {
			r := e.get("/v1.0/me/people?$top=100&$filter="+url.QueryEscape(tt.filter), tok)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.status != 200 {
				if code := errorCode(t, r); code != "BadRequest" {
					t.Errorf("code %q", code)
				}
				return
			}
			if got, _ := peopleIDs(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("people = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPeopleOfAnotherUser: another user's relevant people are limited to their public
// relationships in the org chart (manager, reports, peers), as Graph limits them for a
// signed-in user; whom they merely correspond with stays private.
func TestPeopleOfAnotherUser(t *testing.T) {
	e := newEnv(t)
	caller := e.enabledUsers(0)[3]
	tok := e.token(0, "intranet-directory", caller)
	for _, other := range e.enabledUsers(0)[10:14] {
		o, _ := e.emu.User(e.tenant(0).ID, other.ID)
		related := map[string]bool{}
		for _, u := range e.emu.Directory().Tenants[0].Users {
			x, _ := e.emu.User(e.tenant(0).ID, u.ID)
			if x.ManagerID == o.ID || (o.ManagerID != "" && (x.ID == o.ManagerID || x.ManagerID == o.ManagerID)) {
				related[strings.ToLower(x.ID)] = x.ID != o.ID
			}
		}
		want := wantPeople(t, e, 0, other.ID, func(u emulator.User) bool { return related[strings.ToLower(u.ID)] })
		all := wantPeople(t, e, 0, other.ID, nil)
		if len(all) == len(want) {
			t.Fatalf("fixture: %s corresponds with no one outside the org chart", other.ID)
		}
		got, _ := peopleIDs(t, e.get("/v1.0/users/"+other.ID+"/people?$top=100", tok))
		if !slices.Equal(got, want) {
			t.Errorf("people of another user = %v, want %v (all: %v)", got, want, all)
		}
	}
}

// TestPeopleRefusals: who may not list people, and what is not found.
func TestPeopleRefusals(t *testing.T) {
	e := newEnv(t)
	u := e.enabledUsers(0)[7]
	for _, tt := range []struct {
		name, client, path string
		status             int
	}{
		{"no people.read", "mobile", "/v1.0/me/people", http.StatusForbidden},
		{"deactivated owner", "chat-web", "/v1.0/users/" + e.disabledUser(0).ID + "/people", http.StatusNotFound},
		{"owner of another tenant", "chat-web", "/v1.0/users/" + e.enabledUsers(1)[2].ID + "/people", http.StatusNotFound},
		{"one person", "chat-web", "/v1.0/me/people/" + u.ID, http.StatusNotFound},
		{"beta", "chat-web", "/beta/me/people", http.StatusNotFound},
		{"$orderby", "chat-web", "/v1.0/me/people?$orderby=displayName", http.StatusBadRequest},
		{"$count", "chat-web", "/v1.0/me/people?$count=true", http.StatusBadRequest},
		{"$top=0", "chat-web", "/v1.0/me/people?$top=0", http.StatusBadRequest},
		{"$skip=-1", "chat-web", "/v1.0/me/people?$skip=-1", http.StatusBadRequest},
		{"unknown $select", "chat-web", "/v1.0/me/people?$select=salary", http.StatusBadRequest},
		{"empty $search", "chat-web", "/v1.0/me/people?$search=%22%22", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(tt.path, e.token(0, tt.client, u))
			if r.Status != tt.status {
				t.Errorf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
		})
	}
}

// TestPeopleReviewedEdges: the inputs a review found mishandled. A $skip of any size is
// an empty page, never memory in proportion to it; another user's people are refused to
// an app that may read neither managers nor reports; a guest (no mailbox: Graph's 404
// MailboxNotEnabledForRESTAPI) has an empty list, not "no such user".
func TestPeopleReviewedEdges(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	chat, intranet := e.token(0, "chat-web", users[7]), e.token(0, "intranet-directory", users[7])
	for _, skip := range []string{"100", "100000000", "9223372036854775807", "99999999999999999999"} {
		if got, _ := peopleIDs(t, e.get("/v1.0/me/people?$skip="+skip, chat)); len(got) != 0 {
			t.Errorf("$skip=%s: %d people", skip, len(got))
		}
	}
	r := e.get("/v1.0/users/"+users[9].ID+"/people?$select=displayName,birthday", chat)
	if r.Status != http.StatusForbidden || r.Header.Get("Graphgate-Withheld-Fields") != "" {
		t.Errorf("another user's people for an app without manager.read or directReports.read: %d %q %s",
			r.Status, r.Header.Get("Graphgate-Withheld-Fields"), r.Body)
	}
	for _, top := range []string{"5000", "99999999999999999999"} {
		if got, _ := peopleIDs(t, e.get("/v1.0/me/people?$top="+top, chat)); len(got) == 0 {
			t.Errorf("$top=%s gives nobody; want it counted as 1000, as Graph does", top)
		}
	}
	if r := e.get("/beta/me/people", chat); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "/v1.0") {
		t.Errorf("/beta/me/people: %d %s; want 404 pointing at /v1.0", r.Status, r.Body)
	}
	guest, ok := e.emu.User(e.tenant(0).ID, emulator.GuestUPN)
	if !ok {
		t.Fatal("no guest in the fixture")
	}
	if got, _ := peopleIDs(t, e.get("/v1.0/users/"+guest.ID+"/people", intranet)); len(got) != 0 {
		t.Errorf("a guest's people: %v", got)
	}
	guestTok := e.token(0, "chat-web", emulator.UserInfo{ID: guest.ID})
	if got, _ := peopleIDs(t, e.get("/v1.0/me/people", guestTok)); len(got) != 0 {
		t.Errorf("a guest's own people: %v", got)
	}
}

// TestPeopleSearchNeedsUsersList: without users.list, a people search stays within the
// user's relevant people (Graph's mailbox source): people.read does not open the
// directory search that users.list gates.
func TestPeopleSearchNeedsUsersList(t *testing.T) {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	pol, err := proxytest.PolicyFile("testdata/policy-people-sweep.yaml", emu.Directory())
	if err != nil {
		t.Fatal(err)
	}
	e := envOf(t, proxytest.New(t, proxytest.Options{Emulator: emu, Policy: pol}))
	owner := e.enabledUsers(0)[7]
	relevant := map[string]bool{}
	ranked, _ := e.emu.People(e.tenant(0).ID, owner.ID)
	for _, p := range ranked {
		relevant[strings.ToLower(p.ID)] = true
	}
	tok := e.token(0, "mobile", owner) // may see surname, mail; no users.list
	found := 0
	for c := 'a'; c <= 'z'; c++ {
		got, _ := peopleIDs(t, e.get("/v1.0/me/people?$top=100&$search="+string(c), tok))
		for _, id := range got {
			found++
			if !relevant[id] {
				t.Errorf("search %q found %s, who is not among the user's relevant people", c, id)
			}
		}
	}
	if found == 0 {
		t.Fatal("no search found anyone: the test proves nothing")
	}
}

// TestPeopleKeySpellingsAndBatch: another user's people by object id, by UPN and by UPN
// in parentheses, directly and as $batch items (as the Toolkit's person card asks them),
// give the same list.
func TestPeopleKeySpellingsAndBatch(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "intranet-directory", users[3])
	other := users[12]
	want, _ := peopleIDs(t, e.get("/v1.0/users/"+other.ID+"/people?$top=100", tok))
	if len(want) == 0 {
		t.Fatal("fixture: the other user has no related people")
	}
	paths := []string{
		"/users/" + url.PathEscape(other.UserPrincipalName) + "/people?$top=100",
		"/users('" + url.PathEscape(other.UserPrincipalName) + "')/people?$top=100",
		"/Users/" + strings.ToUpper(other.ID) + "/People?$top=100",
	}
	var items []map[string]any
	for i, p := range paths {
		if got, _ := peopleIDs(t, e.get("/v1.0"+p, tok)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", p, got, want)
		}
		items = append(items, map[string]any{"id": string(rune('1' + i)), "method": "GET",
			"url": p + "&$filter=" + url.QueryEscape("personType/class eq 'Person'")})
	}
	r := e.do(http.MethodPost, "/v1.0/$batch", tok, map[string]any{"requests": items})
	if r.Status != http.StatusOK {
		t.Fatalf("$batch: %d %s", r.Status, r.Body)
	}
	for _, it := range r.JSON(t)["responses"].([]any) {
		item := it.(map[string]any)
		body, _ := item["body"].(map[string]any)
		var got []string
		for _, v := range body["value"].([]any) {
			got = append(got, strings.ToLower(v.(map[string]any)["id"].(string)))
		}
		if item["status"].(float64) != 200 || !slices.Equal(got, want) {
			t.Errorf("$batch item %v: status %v, %v, want %v", item["id"], item["status"], got, want)
		}
	}
}
