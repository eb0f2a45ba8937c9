package emulator_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
)

// peoplePath is the people collection of a user key as sent.
func peoplePath(key string) string { return "/v1.0/users/" + key + "/people" }

// peopleIDs returns the ids of ps in order.
func peopleIDs(ps []emulator.Person) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// mustPeople returns a user's relevant people from the Go API.
func mustPeople(t *testing.T, e *emulator.Emulator, tenantID, key string) []emulator.Person {
	t.Helper()
	ps, err := e.People(tenantID, key)
	if err != nil {
		t.Fatalf("People(%s): %v", key, err)
	}
	return ps
}

// orgRelated maps each user of a tenant to the ids of its manager, direct reports and
// peers, computed from the directory's manager ids.
func orgRelated(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo) map[string]map[string]bool {
	t.Helper()
	mgr := map[string]string{}
	reports := map[string][]string{}
	for _, ui := range ti.Users {
		u, _ := e.User(ti.ID, ui.ID)
		mgr[u.ID] = u.ManagerID
		if u.ManagerID != "" {
			reports[u.ManagerID] = append(reports[u.ManagerID], u.ID)
		}
	}
	out := map[string]map[string]bool{}
	for _, ui := range ti.Users {
		rel := map[string]bool{}
		for _, r := range reports[ui.ID] {
			rel[r] = true
		}
		if m := mgr[ui.ID]; m != "" {
			rel[m] = true
			for _, p := range reports[m] {
				rel[p] = p != ui.ID
			}
		}
		out[ui.ID] = rel
	}
	return out
}

// TestPeopleRanking checks every user's relevant people in both tenants: scores strictly
// decreasing, the manager first, every report and peer listed, two unrelated
// organisation users (correspondents) where the tenant has them, four of the tenant's contacts (three within the
// first six ranks, all within ten), no duplicates, not the owner, and the same lists in
// a second emulator (no randomness).
func TestPeopleRanking(t *testing.T) {
	e, other := shared(t), fresh(t)
	for _, domain := range []string{"contoso.example", "fabrikam.example"} {
		ti := tenant(t, e, domain)
		related := orgRelated(t, e, ti)
		contacts := map[string]string{}
		for _, c := range e.Contacts(ti.ID) {
			contacts[c.ID] = c.Subclass
		}
		for _, ui := range ti.Users {
			ps := mustPeople(t, e, ti.ID, ui.ID)
			if u, _ := e.User(ti.ID, ui.ID); u.UserType == "Guest" {
				if len(ps) != 0 {
					t.Errorf("guest %s has %d people; a guest has no mailbox", ui.ID, len(ps))
				}
				continue
			}
			if again := mustPeople(t, other, ti.ID, ui.ID); !slices.Equal(peopleIDs(ps), peopleIDs(again)) {
				t.Fatalf("%s: lists differ between emulators", ui.ID)
			}
			checkRanking(t, e, ti, ui.ID, ps, related[ui.ID], contacts)
		}
	}
}

// checkRanking asserts the ranking rules on one user's list.
func checkRanking(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo, owner string, ps []emulator.Person, rel map[string]bool, contacts map[string]string) {
	t.Helper()
	tid := ti.ID
	u, _ := e.User(tid, owner)
	if u.ManagerID != "" && ps[0].ID != u.ManagerID {
		t.Errorf("%s: first person %s, want the manager", owner, ps[0].ID)
	}
	seen, listedRel, unrelated, subclasses := map[string]bool{}, 0, 0, map[string]int{}
	inSix := 0
	for i, p := range ps {
		switch {
		case i > 0 && p.RelevanceScore >= ps[i-1].RelevanceScore:
			t.Errorf("%s: score %v at rank %d not below %v", owner, p.RelevanceScore, i, ps[i-1].RelevanceScore)
		case seen[p.ID] || p.ID == owner:
			t.Errorf("%s: %s listed twice or the owner", owner, p.ID)
		case p.Subclass != spec.PersonOrganizationUser:
			if contacts[p.ID] != p.Subclass {
				t.Errorf("%s: %s (%s) is not a contact of the tenant", owner, p.ID, p.Subclass)
			}
			subclasses[p.Subclass]++
			if i < 6 {
				inSix++
			}
			if i >= 10 {
				t.Errorf("%s: %s at rank %d", owner, p.Subclass, i+1)
			}
		case rel[p.ID]:
			listedRel++
		default:
			unrelated++
		}
		seen[p.ID] = true
	}
	want := map[string]int{spec.PersonPersonalContact: 2, spec.PersonImplicitContact: 1, spec.PersonOrganizationContact: 1}
	// Two correspondents, fewer when the tenant has fewer users unrelated to the owner
	// (fabrikam's department head is related to everyone).
	wantUnrelated := min(2, len(ti.Users)-1-countTrue(rel))
	if !maps.Equal(subclasses, want) || unrelated != wantUnrelated || inSix < 3 {
		t.Errorf("%s: contacts %v (%d in the first six), unrelated users %d; want %v, 3 and %d",
			owner, subclasses, inSix, unrelated, want, wantUnrelated)
	}
	if n := countTrue(rel); listedRel != n {
		t.Errorf("%s: %d of %d manager/reports/peers listed", owner, listedRel, n)
	}
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// TestPeopleDeactivatedColleagues: deactivated users stay in people lists (the index
// lags the directory). Kai O'Neill's first person is his deactivated manager, and
// other enabled users have a deactivated colleague within their first ten people.
func TestPeopleDeactivatedColleagues(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	kai := mustPeople(t, e, ti.ID, emulator.ApostropheUPN)
	if m, _ := e.User(ti.ID, kai[0].ID); m.AccountEnabled || m.ID == "" {
		t.Fatalf("Kai's first person %s: enabled %v, want his deactivated manager", kai[0].ID, m.AccountEnabled)
	}
	related := orgRelated(t, e, ti)
	owners := 0
	for _, ui := range ti.Users {
		if !ui.AccountEnabled || ui.UserPrincipalName == emulator.ApostropheUPN {
			continue
		}
		ps := mustPeople(t, e, ti.ID, ui.ID)
		for _, p := range ps[:min(10, len(ps))] {
			if d, ok := e.User(ti.ID, p.ID); ok && !d.AccountEnabled && related[ui.ID][p.ID] {
				owners++
				break
			}
		}
	}
	if owners < 2 {
		t.Fatalf("%d enabled users have a deactivated colleague in their first ten people, want several", owners)
	}
}

// rawPeople GETs a people path and returns the status, the body and the raw items.
func rawPeople(t *testing.T, e *emulator.Emulator, tok, path string, hdr map[string]string) (int, map[string]any, []json.RawMessage) {
	t.Helper()
	resp, b := do(t, e, http.MethodGet, path, tok, nil, hdr)
	var v struct{ Value []json.RawMessage }
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, decodeObj(t, b), v.Value
}

// objectKeys returns the member names of a JSON object in order.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestPeopleShape checks the envelope and Graph's person JSON for organisation users and
// contacts, against the Go API and the directory.
func TestPeopleShape(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[10].ID
	ps := mustPeople(t, e, ti.ID, owner)
	st, body, items := rawPeople(t, e, tok, peoplePath(owner)+"?$top=1000", nil)
	if st != 200 || body["@odata.context"] != e.URL()+"/v1.0/$metadata#users('"+owner+"')/people" || len(items) != len(ps) {
		t.Fatalf("status %d context %v, %d items, want %d", st, body["@odata.context"], len(items), len(ps))
	}
	for i, raw := range items {
		if keys := objectKeys(t, raw); !slices.Equal(keys, spec.PersonProperties()) {
			t.Fatalf("item %d members %v", i, keys)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		p := ps[i]
		if m["id"] != p.ID || m["birthday"] != "" || m["isFavorite"] != false || len(m["websites"].([]any)) != 0 ||
			!reflectEqual(m["personType"], map[string]any{"class": p.Class, "subclass": p.Subclass}) ||
			!reflectEqual(m["scoredEmailAddresses"], []any{map[string]any{"address": p.Emails[0], "relevanceScore": p.RelevanceScore}}) {
			t.Fatalf("item %d = %v, want %+v", i, m, p)
		}
		if p.Subclass == spec.PersonOrganizationUser {
			checkOrgPerson(t, e, ti, m)
		} else {
			checkContact(t, ti, m)
		}
	}
}

func reflectEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// checkOrgPerson compares an OrganizationUser person with the directory's user.
func checkOrgPerson(t *testing.T, e *emulator.Emulator, ti emulator.TenantInfo, m map[string]any) {
	t.Helper()
	u, ok := e.User(ti.ID, m["id"].(string))
	var phones []any
	for _, n := range u.BusinessPhones {
		phones = append(phones, map[string]any{"type": "business", "number": n})
	}
	if u.MobilePhone != "" {
		phones = append(phones, map[string]any{"type": "mobile", "number": u.MobilePhone})
	}
	if !ok || m["displayName"] != u.DisplayName || m["userPrincipalName"] != u.UserPrincipalName ||
		m["imAddress"] != "sip:"+strings.ToLower(u.UserPrincipalName) || m["department"] != u.Department ||
		m["jobTitle"] != u.JobTitle || !reflectEqual(m["phones"], phones) {
		t.Fatalf("person %v does not match user %+v", m, u)
	}
}

// checkContact checks a contact: no UPN, no directory fields, an outside address and a
// reserved phone number.
func checkContact(t *testing.T, ti emulator.TenantInfo, m map[string]any) {
	t.Helper()
	addr := m["scoredEmailAddresses"].([]any)[0].(map[string]any)["address"].(string)
	if m["userPrincipalName"] != "" || m["imAddress"] != nil || m["department"] != nil || m["officeLocation"] != nil ||
		strings.HasSuffix(addr, "@"+ti.Domain) || !strings.HasSuffix(addr, ".example") {
		t.Fatalf("contact %v", m)
	}
	for _, ph := range m["phones"].([]any) {
		if n := ph.(map[string]any)["number"].(string); !strings.HasPrefix(n, "+44 20 7946 0") {
			t.Fatalf("contact phone %q", n)
		}
	}
}

// TestPeopleSelect: $select limits the members (any case, with or without "$"), id is
// always returned, and an unknown property is refused as Graph refuses it on users.
func TestPeopleSelect(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	owner := ti.Users[1].ID
	tests := []struct {
		query, ctx string
		keys       []string
	}{
		{"$select=displayName,ScoredEmailAddresses", "(displayName,scoredEmailAddresses)", []string{"id", "displayName", "scoredEmailAddresses"}},
		{"select=PERSONTYPE,displayName,personType", "(personType,displayName)", []string{"id", "displayName", "personType"}},
		{"$select=id", "(id)", []string{"id"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			st, body, items := rawPeople(t, e, tok, peoplePath(owner)+"?"+tc.query, nil)
			if st != 200 || body["@odata.context"] != e.URL()+"/v1.0/$metadata#users('"+owner+"')/people"+tc.ctx {
				t.Fatalf("%d %v", st, body["@odata.context"])
			}
			for _, raw := range items {
				if keys := objectKeys(t, raw); !slices.Equal(keys, tc.keys) {
					t.Fatalf("members %v, want %v", keys, tc.keys)
				}
			}
		})
	}
	r := list(t, e, tok, peoplePath(owner), "$select=displayName,mail", nil)
	if r.status != 400 || r.code() != "BadRequest" || r.message() != "Could not find a property named 'mail' on type 'microsoft.graph.person'." {
		t.Fatalf("unknown property: %d %v", r.status, r.body)
	}
}

// TestPeopleAccess: People.Read.All is required (403 Authorization_RequestDenied
// without it), an unknown user or another tenant's user is 404 as on every /users/{id}
// route, deactivated owners and every key spelling are served, in $batch too.
func TestPeopleAccess(t *testing.T) {
	e := shared(t)
	ti := tenant(t, e, "contoso.example")
	tok := appToken(t, e, "contoso.example")
	fab := tenant(t, e, "fabrikam.example")
	byID := peopleIDs(mustPeople(t, e, ti.ID, emulator.ApostropheUPN))
	kai, _ := e.User(ti.ID, emulator.ApostropheUPN)
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"by id", peoplePath(kai.ID), 200, ""},
		{"by upper-case UPN", peoplePath(url.PathEscape(strings.ToUpper(emulator.ApostropheUPN))), 200, ""},
		{"key predicate", "/v1.0/users('O''Neill.Kai@contoso.example')/people", 200, ""},
		{"deactivated owner", peoplePath(byID[0]), 200, ""},
		{"unknown user", peoplePath("nobody@contoso.example"), 404, "Request_ResourceNotFound"},
		{"other tenant's user", peoplePath(fab.Users[0].ID), 404, "Request_ResourceNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := listURL(t, e, tok, tc.path+"?$top=100", nil)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %v", r.status, r.body)
			}
			if tc.status == 200 && tc.name != "deactivated owner" && !slices.Equal(r.ids, byID) {
				t.Fatalf("ids %v, want %v", r.ids, byID)
			}
		})
	}
	t.Run("batch", func(t *testing.T) {
		st, br, raw := postBatch(t, e, tok, []map[string]any{{"id": "1", "method": "GET", "url": "/users/" + kai.ID + "/people?$top=3"}}, false)
		var body struct{ Value []map[string]any }
		if st != 200 || len(br.Responses) != 1 || json.Unmarshal(br.Responses[0].Body, &body) != nil || len(body.Value) != 3 {
			t.Fatalf("batch: %d %s", st, raw)
		}
	})
	t.Run("without People.Read.All", func(t *testing.T) {
		d := emulator.DefaultDirectory()
		d.Tenants[0].GatewayGraphRoles = []string{"User.Read.All", "Presence.Read.All"}
		e2, err := emulator.New(emulator.Options{Directory: d})
		if err != nil {
			t.Fatal(err)
		}
		defer e2.Close()
		tok2 := appToken(t, e2, "contoso.example")
		if st, m := graphGet(t, e2, tok2, peoplePath(kai.ID), nil); st != 403 || errCode(m) != "Authorization_RequestDenied" {
			t.Fatalf("people: %d %v", st, m)
		}
		if st, _ := graphGet(t, e2, tok2, "/v1.0/users/"+kai.ID, nil); st != 200 {
			t.Fatalf("user: %d", st)
		}
		if _, claims := jwtParts(t, tok); !slices.Contains(claims["roles"].([]any), any("People.Read.All")) {
			t.Fatalf("default roles %v lack People.Read.All", claims["roles"])
		}
	})
}
