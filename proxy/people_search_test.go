package proxy_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
)

// searchPrivacyPolicy: chat-web sees others' names only, intranet-directory their names
// and sign-in names but not their mail, mobile neither names nor addresses.
const searchPrivacyPolicy = `clients:
  - app_id: "{{chat-web}}"
    name: chat-web
    purpose: Show the names of the people one works with.
    operations: [me.read, users.list, people.read]
    fields: {self: [displayName], others: [displayName]}
  - app_id: "{{intranet-directory}}"
    name: intranet-directory
    purpose: Show the names and sign-in names of the people one works with.
    operations: [me.read, users.list, people.read]
    fields: {self: [displayName], others: [displayName, userPrincipalName]}
  - app_id: "{{mobile}}"
    name: mobile
    purpose: Show the roles and desk phones of the people one works with.
    operations: [me.read, people.read]
    fields: {self: [displayName], others: [jobTitle, businessPhones]}
`

// graphFinds reports whether Graph's People API, asked as the gateway asks it, finds
// the user id among owner's people for the search text.
func graphFinds(t *testing.T, e *recordedEnv, tenantID, owner, text, id string) bool {
	t.Helper()
	ids, err := e.ups[tenantID].People(context.Background(), owner, text, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, strings.ToLower(id))
}

// searchPeople searches owner's people through the gateway and returns the answer.
func searchPeople(t *testing.T, e *env, tok, text string) peopleAnswer {
	t.Helper()
	a, err := fetchPeople(e.url, "/v1.0/me/people?$top=100&$search="+url.QueryEscape(`"`+text+`"`), tok)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPeopleSearchOnlyByVisibleFields: a people $search that Graph matches only through a
// property the app may not see (a user's mail, for an app that sees names, or names and
// sign-in names) finds nobody, while a visible name or sign-in name finds the user; the
// hidden properties are reported as withheld; an app that sees neither names nor
// addresses gets 400 for any people search, and Graph is not asked.
func TestPeopleSearchOnlyByVisibleFields(t *testing.T) {
	e := newRecordedEnv(t, searchPrivacyPolicy)
	tn := e.tenant(0)
	owner := e.enabledUsers(0)[5]
	target, _ := e.emu.User(tn.ID, e.enabledUsers(0)[12].ID)
	guest, _ := e.emu.User(tn.ID, emulator.GuestUPN)
	byMail := target.Mail[:strings.Index(target.Mail, "@")+1] // "adele@": only the mail starts so
	guestMail := guest.Mail[:strings.Index(guest.Mail, ".")]  // "gwen@partner": the guest's mail, not her UPN
	if len([]rune(target.GivenName)) < 3 || !strings.EqualFold(target.Mail, target.UserPrincipalName) {
		t.Fatalf("fixture: user 12 has no given name or a mail other than the sign-in name")
	}
	for _, c := range []struct{ text, id string }{{byMail, target.ID}, {guestMail, guest.ID}} {
		if !graphFinds(t, e, tn.ID, owner.ID, c.text, c.id) {
			t.Fatalf("fixture: Graph does not find %s by %q", c.id, c.text)
		}
	}
	names, upns := mustMint(e.env, tn, "chat-web", owner.ID), mustMint(e.env, tn, "intranet-directory", owner.ID)
	for _, tt := range []struct {
		name, tok, text, id string
		found               bool
		withheld            []string
	}{
		{"mail prefix, names only", names, byMail, target.ID, false, []string{"givenName", "scoredEmailAddresses", "surname", "userPrincipalName"}},
		{"name prefix, names only", names, string([]rune(target.GivenName)[:3]), target.ID, true, nil},
		{"guest's mail, names only", names, guestMail, guest.ID, false, nil},
		{"mail prefix that is the sign-in name's", upns, byMail, target.ID, true, []string{"givenName", "scoredEmailAddresses", "surname"}},
		{"guest's mail, sign-in names", upns, guestMail, guest.ID, false, nil},
		{"guest's surname, sign-in names", upns, guest.Surname, guest.ID, true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := searchPeople(t, e.env, tt.tok, tt.text)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if got := slices.Contains(idsOf(a.people), strings.ToLower(tt.id)); got != tt.found {
				t.Errorf("found = %v, want %v (%v)", got, tt.found, idsOf(a.people))
			}
			if !tt.found && len(a.people) != 0 {
				t.Errorf("the search finds %v, whom it does not match by a visible property", idsOf(a.people))
			}
			for _, f := range tt.withheld {
				if !slices.Contains(a.withheld, f) {
					t.Errorf("Graphgate-Withheld-Fields = %v, want %s in it", a.withheld, f)
				}
			}
		})
	}
	t.Run("no names, no addresses", func(t *testing.T) {
		tok := mustMint(e.env, tn, "mobile", owner.ID)
		if a, err := fetchPeople(e.url, "/v1.0/me/people", tok); err != nil || a.status != http.StatusOK || len(a.people) == 0 {
			t.Fatalf("without $search: %d %s (%v)", a.status, a.body, err)
		}
		before := e.emu.Count(peopleRoute)
		for _, text := range []string{"a", target.GivenName, byMail, target.Mail, guestMail, target.BusinessPhones[0]} {
			if a := searchPeople(t, e.env, tok, text); a.status != http.StatusBadRequest {
				t.Errorf("$search by an app that sees no name or address: status %d, want 400", a.status)
			}
		}
		if n := e.emu.Count(peopleRoute) - before; n != 0 {
			t.Errorf("refused searches made %d People API reads", n)
		}
	})
}

// TestPeopleNeverShowDeactivated: a deactivated user, whom Graph's People index still
// lists and finds, appears in no people list, however searched (name, name prefix,
// mail, sign-in name), neither in the lists of those who worked with them nor in their
// manager's.
func TestPeopleNeverShowDeactivated(t *testing.T) {
	e := newRecordedEnv(t, "")
	checked, graphListed := 0, 0
	for ti, tn := range e.dir.Tenants {
		for _, info := range tn.Users {
			if info.AccountEnabled {
				continue
			}
			gone, _ := e.emu.User(tn.ID, info.ID)
			owners := ownersListing(e.env, tn, gone.ID, 3)
			if len(owners) > 0 {
				graphListed++
			}
			owners = append(owners, e.enabledUsers(ti)[1].ID)
			local := strings.SplitN(gone.Mail, "@", 2)[0]
			texts := []string{gone.DisplayName, gone.GivenName, gone.Surname, string([]rune(gone.GivenName)[:3]),
				gone.Mail, local, gone.UserPrincipalName}
			if graphFinds(t, e, tn.ID, owners[0], gone.GivenName, gone.ID) {
				graphListed++
			}
			for _, owner := range owners {
				for _, client := range []string{"chat-web", "intranet-directory"} {
					tok := mustMint(e.env, tn, client, owner)
					paths := []string{"/v1.0/me/people?$top=100"}
					if gone.ManagerID != "" && client == "intranet-directory" {
						paths = append(paths, "/v1.0/users/"+gone.ManagerID+"/people?$top=100")
					}
					for _, text := range texts {
						paths = append(paths, "/v1.0/me/people?$top=100&$search="+url.QueryEscape(`"`+text+`"`))
					}
					for _, p := range paths {
						a, err := fetchPeople(e.url, p, tok)
						if err != nil || a.status != http.StatusOK {
							t.Fatalf("%s: %d %s (%v)", p, a.status, a.body, err)
						}
						if strings.Contains(strings.ToLower(string(a.body)), strings.ToLower(gone.ID)) {
							t.Errorf("%s user %s, deactivated, is listed by %s", tn.Domain, gone.ID, p)
						}
						checked++
					}
				}
			}
		}
	}
	if graphListed < 4 || checked < 100 {
		t.Errorf("vacuous: Graph listed or found deactivated users %d times; %d answers checked", graphListed, checked)
	}
}

// ownersListing returns up to n enabled users whose relevant people, as Graph ranks them,
// include the user id.
func ownersListing(e *env, tn emulator.TenantInfo, id string, n int) []string {
	var out []string
	for _, u := range enabledOf(tn) {
		ranked, _ := e.emu.People(tn.ID, u.ID)
		if slices.ContainsFunc(ranked, func(p emulator.Person) bool { return strings.EqualFold(p.ID, id) }) {
			out = append(out, u.ID)
		}
		if len(out) == n {
			break
		}
	}
	return out
}
