package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy/avatar"
)

// namelessClient is the client app that the proof's policy lets see no names of others.
const namelessClient = "mobile"

// userJobs is what one user does through one client app: every read endpoint, with
// personal values in paths, searches, filters, bodies and headers, and some error paths.
func (d *driver) userJobs(tn emulator.TenantInfo, c emulator.ClientInfo, i int, info emulator.UserInfo, enabled, disabled []emulator.UserInfo) []job {
	me := d.user(tn, info.ID)
	col := d.user(tn, enabled[(i+1)%len(enabled)].ID)
	tok := d.token(tn, c.ID, info.ID)
	seen := []string{col.UserPrincipalName, me.DisplayName, me.ID, col.DisplayName, col.ID}
	ev := []string{"ConsistencyLevel", "eventual"}
	q := url.QueryEscape
	noGone := noneOf(disabled)
	jobs := []job{
		{label: "GET /me", method: "GET", path: "/v1.0/me", token: tok, seen: seen},
		{label: "GET /users/{upn}", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "?$select=displayName,mail,mobilePhone", token: tok, seen: seen},
		{label: "search", method: "GET", path: "/v1.0/users?$search=" + q(`"displayName:`+col.GivenName+`"`) + "&$select=displayName,jobTitle", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "filter", method: "GET", path: "/v1.0/users?$filter=" + q("startswith(displayName,'"+col.Surname+"')") + "&$top=5&$count=true", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "list all", method: "GET", path: "/v1.0/users?$top=999&$count=true&$select=id,displayName", token: tok, headers: ev, seen: seen, check: noGone},
		{label: "photo", method: "GET", path: "/v1.0/me/photo/$value", token: tok},
		{label: "export", method: "GET", path: "/privacy/v1/me/export", token: tok, seen: seen},
	}
	switch i % 6 {
	case 0:
		jobs = append(jobs, job{label: "manager", method: "GET", path: "/v1.0/users/" + col.ID + "/manager", token: tok, seen: seen},
			job{label: "directReports", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "/directReports", token: tok, seen: seen, check: noGone})
	case 1:
		jobs = append(jobs, job{label: "presence", method: "GET", path: "/v1.0/users/" + col.ID + "/presence", token: tok, seen: seen},
			job{label: "beta presence", method: "GET", path: "/beta/users" + graphKey(col.UserPrincipalName) + "/presence", token: tok, seen: seen})
	case 2:
		ids := []string{col.ID, me.ID, enabled[(i+2)%len(enabled)].ID}
		jobs = append(jobs, job{label: "getPresencesByUserId", method: "POST", path: "/v1.0/communications/getPresencesByUserId", token: tok, body: map[string]any{"ids": ids}, seen: seen})
	case 3:
		var reqs []map[string]any
		for k := range 5 {
			u := enabled[(i+k+1)%len(enabled)]
			reqs = append(reqs, map[string]any{"id": fmt.Sprint(k + 1), "method": "GET", "url": "/users" + graphKey(u.UserPrincipalName) + "?$select=displayName,mail"})
		}
		reqs = append(reqs, map[string]any{"id": "6", "method": "GET", "url": "/users/" + col.ID + "/photo/$value"},
			map[string]any{"id": "7", "method": "GET", "url": "/me"})
		jobs = append(jobs, job{label: "$batch", method: "POST", path: "/v1.0/$batch", token: tok, body: map[string]any{"requests": reqs}, seen: seen})
	case 4:
		jobs = append(jobs, job{label: "photo meta", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "/photo", token: tok},
			job{label: "photo size", method: "GET", path: "/v1.0/users/" + col.ID + "/photos/48x48/$value", token: tok})
	case 5:
		gone := d.user(tn, disabled[i%len(disabled)].ID)
		phone := strings.Join(append([]string{col.MobilePhone}, col.BusinessPhones...), "")
		jobs = append(jobs,
			job{label: "unknown user", method: "GET", path: "/v1.0/users" + graphKey("nobody."+strings.Split(me.UserPrincipalName, "@")[0]+"@"+tn.Domain), token: tok},
			job{label: "deactivated user", method: "GET", path: "/v1.0/users" + graphKey(gone.UserPrincipalName), token: tok},
			job{label: "deactivated photo", method: "GET", path: "/v1.0/users/" + gone.ID + "/photos/48x48/$value", token: tok, check: initialsFor(c.Name, gone)},
			job{label: "hidden-field filter", method: "GET", path: "/v1.0/users?$filter=" + q("mobilePhone eq '"+phone+"'"), token: tok, headers: ev},
			job{label: "bad search", method: "GET", path: "/v1.0/users?$search=" + q(`"employeeId:`+me.EmployeeID+` `+me.Surname+`"`), token: tok, headers: ev},
			job{label: "no route", method: "GET", path: "/v1.0/Users" + graphKey(me.UserPrincipalName) + "/calendar", token: tok},
			job{label: "bad token", method: "GET", path: "/v1.0/users" + graphKey(me.UserPrincipalName), token: "not." + me.UserPrincipalName + ".token"})
	}
	jobs = append(jobs, d.peopleJobs(tn, i, tok, me, col, disabled, seen)...)
	noContact := noContactsIn(d.emu)
	for k := range jobs {
		jobs[k].check = both(jobs[k].check, noContact)
	}
	return jobs
}

// noneOf checks that a response lists none of the deactivated accounts.
func noneOf(disabled []emulator.UserInfo) func([]byte) string {
	return func(b []byte) string {
		for _, u := range disabled {
			if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(u.ID))) {
				return "a deactivated account is listed"
			}
		}
		return ""
	}
}

// initialsFor checks a deactivated user's avatar: the user's initials for a client app
// that may see names, "?" for one that may not.
func initialsFor(client string, gone emulator.User) func([]byte) string {
	name := gone.DisplayName
	if client == namelessClient {
		name = ""
	}
	want := avatar.PNG(name, gone.ID, 48)
	return func(b []byte) string {
		if bytes.Equal(b, want) {
			return ""
		}
		if client == namelessClient && bytes.Equal(b, avatar.PNG(gone.DisplayName, gone.ID, 48)) {
			return "the avatar shows the initials of a name the client app may not see"
		}
		if bytes.Equal(b, avatar.PNG("", gone.ID, 48)) {
			return fmt.Sprintf("the avatar shows \"?\", not the %q initials (%s)", avatar.Initials(name), client)
		}
		return fmt.Sprintf("the avatar is not the %q initials avatar (%s, %d bytes)", avatar.Initials(name), client, len(b))
	}
}

// analystJobs reads the usage API (JSON and CSV) with an analyst's token, and sends it
// a parameter holding personal data.
func (d *driver) analystJobs(tn emulator.TenantInfo) {
	analyst, client := d.withRole(tn, "Gateway.Analyst")
	if analyst == "" {
		d.t.Fatalf("tenant %s has no analyst: the usage API cannot be driven", tn.Domain)
	}
	me := d.user(tn, analyst)
	tok := d.token(tn, client, analyst)
	for _, p := range []string{"requests?group_by=client_app", "requests?group_by=operation&format=csv", "latency", "cache", "active-users",
		"requests?from=" + url.QueryEscape(me.UserPrincipalName)} {
		d.do(job{label: "usage API", method: "GET", path: "/usage/v1/" + p, token: tok})
	}
}

// adminJobs logs a user out by UPN through an admin on one instance, checks that the
// user's token is refused on another, purges the tenant's cache, and tries what must fail.
func (d *driver) adminJobs(tn emulator.TenantInfo) {
	admin, client := d.withRole(tn, "Gateway.Admin")
	if admin == "" {
		d.t.Fatalf("tenant %s has no admin: the admin API cannot be driven", tn.Domain)
	}
	var target emulator.User
	for _, u := range tn.Users {
		if u.AccountEnabled && len(u.Roles) == 0 && u.ID != admin {
			target = d.user(tn, u.ID)
			break
		}
	}
	adminTok := d.token(tn, client, admin)
	targetTok := d.token(tn, client, target.ID)
	d.do(job{label: "GET /me before logout", method: "GET", path: "/v1.0/me", token: targetTok, instance: 2})
	st, _ := d.do(job{label: "admin logout", method: "POST", path: "/admin/v1/users/" + url.PathEscape(target.UserPrincipalName) + "/logout", token: adminTok, instance: 1})
	if st == http.StatusOK {
		// Another instance learns of the logout through Redis.
		d.do(job{label: "revoked token", method: "GET", path: "/v1.0/me", token: targetTok, instance: 3})
	}
	d.do(job{label: "admin purge", method: "POST", path: "/admin/v1/cache/purge", token: adminTok})
	d.do(job{label: "admin logout of unknown user", method: "POST", path: "/admin/v1/users/" + url.PathEscape("nobody."+strings.Split(target.UserPrincipalName, "@")[0]+"@"+tn.Domain) + "/logout", token: adminTok})
	analyst, _ := d.withRole(tn, "Gateway.Analyst")
	d.do(job{label: "logout without the role", method: "POST", path: "/admin/v1/users/" + url.PathEscape(target.UserPrincipalName) + "/logout", token: d.token(tn, client, analyst)})
}

// withRole returns an enabled user holding role, and the intranet-directory client id.
func (d *driver) withRole(tn emulator.TenantInfo, role string) (userID, clientID string) {
	for _, c := range tn.Clients {
		if c.Name == "intranet-directory" {
			clientID = c.ID
		}
	}
	for _, u := range tn.Users {
		for _, r := range u.Roles {
			if r == role && u.AccountEnabled {
				return u.ID, clientID
			}
		}
	}
	return "", clientID
}

// graphKey writes a UPN as Graph's key in parentheses, "('upn')" with quotes doubled and
// the rest percent-encoded: the spelling that addresses every UPN (a guest's #EXT#, a
// leading $, ...).
func graphKey(upn string) string { return spec.KeyInParentheses(upn) }

// The proof's People API traffic (issue 11): every user lists their relevant people
// through every client app (403 without people.read), as Microsoft Graph Toolkit asks
// for them, searches them by a colleague's name and by an outside contact's name, and
// lists a colleague's relevant people. The emulator ranks mailbox contacts and outside
// people among everyone's relevant people: they are canaries (personalValues) that
// must not reach any response, log or store.

func init() {
	proofCoverage = append(proofCoverage, []struct {
		label  string
		status int
	}{{"people", 200}, {"people", 403}, {"people toolkit", 200}, {"people search", 200},
		{"people contact search", 200}, {"people of colleague", 200}}...)
}

// toolkitUsersFilter is the $filter Microsoft Graph Toolkit 4.6 sends for people who are
// users (mgt-components graph.people.js), with its missing space.
const toolkitUsersFilter = "personType/class eq 'Person'and personType/subclass eq 'OrganizationUser'"

// peopleJobs lists a user's relevant people in the ways clients do, through one client
// app (the i-th enabled user, with token tok; col is a colleague).
func (d *driver) peopleJobs(tn emulator.TenantInfo, i int, tok string, me, col emulator.User,
	disabled []emulator.UserInfo, seen []string) []job {
	q := url.QueryEscape
	ok := peopleOf(d.emu, tn.ID, disabled)
	sources := []string{spec.PeopleQuerySourcesHeader, "Mailbox,Directory"}
	contacts := d.emu.Contacts(tn.ID)
	contact := contacts[i%len(contacts)]
	jobs := []job{
		{label: "people", method: "GET", path: "/v1.0/me/people", token: tok, seen: seen, check: ok},
		{label: "people toolkit", method: "GET", path: "/v1.0/me/people?$top=6&$filter=" + q(toolkitUsersFilter), token: tok, headers: sources, seen: seen, check: ok},
		{label: "people search", method: "GET", path: "/v1.0/me/people?$search=" + q(`"`+col.GivenName+`"`) + "&$top=10&$filter=" + q(toolkitUsersFilter),
			token: tok, headers: sources, seen: seen, check: ok},
	}
	switch i % 3 {
	case 0:
		jobs = append(jobs, job{label: "people contact search", method: "GET", path: "/v1.0/me/people?$search=" + q(`"`+contact.DisplayName+`"`), token: tok, seen: seen, check: ok},
			job{label: "people of colleague", method: "GET", path: "/v1.0/users/" + col.ID + "/people?$top=20", token: tok, seen: seen, check: ok})
	case 1:
		jobs = append(jobs, job{label: "people contact search", method: "GET", path: "/v1.0/me/people?$search=" + q(contact.Emails[0]) + "&$top=3&$skip=0", token: tok, seen: seen, check: ok},
			job{label: "people of colleague", method: "GET", path: "/v1.0/users" + graphKey(col.UserPrincipalName) + "/people", token: tok, seen: seen, check: ok})
	case 2:
		jobs = append(jobs, job{label: "people contact search", method: "GET", path: "/v1.0/me/people?$search=" + q(`"`+string([]rune(contact.Surname)[:4])+`"`) + "&$filter=" + q(toolkitUsersFilter), token: tok, headers: sources, seen: seen, check: ok},
			job{label: "people search", method: "GET", path: "/v1.0/me/people?$search=" + q(`"`+strings.SplitN(me.Mail, "@", 2)[0]+`"`), token: tok, seen: seen, check: ok})
	}
	return jobs
}

// peopleOf checks a people answer: every person listed is an enabled user of the tenant.
func peopleOf(emu *emulator.Emulator, tenantID string, disabled []emulator.UserInfo) func([]byte) string {
	gone := noneOf(disabled)
	return func(b []byte) string {
		var body struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			return "the people answer is not a JSON list"
		}
		for _, p := range body.Value {
			if u, ok := emu.User(tenantID, p.ID); !ok || !u.AccountEnabled {
				return "a person listed is not an enabled user of the tenant"
			}
		}
		return gone(b)
	}
}

// peopleRoute is the emulator's request-log route of the People API.
const peopleRoute = "GET /v1.0/users/{id}/people"

// userReads are the requests of reqs other than People API reads, whose $select names
// person properties, not user properties (see peopleUpstreamViolations).
func userReads(reqs []emulator.Request) []emulator.Request {
	var out []emulator.Request
	for _, r := range reqs {
		if r.Route != peopleRoute {
			out = append(out, r)
		}
	}
	return out
}

// peopleUpstreamViolations checks what graphgate asked the People API for: organisation
// users only ($filter), and exactly the person properties the record of processing
// (GET /privacy, relevant_people) says it fetches.
func peopleUpstreamViolations(reqs []emulator.Request, record string) []string {
	var doc struct {
		People struct {
			Fetched []string `json:"fields_fetched_from_graph"`
		} `json:"relevant_people"`
	}
	if err := json.Unmarshal([]byte(record), &doc); err != nil || len(doc.People.Fetched) == 0 {
		return []string{"GET /privacy: no relevant_people.fields_fetched_from_graph"}
	}
	want := "personType/class eq '" + spec.PersonClassPerson + "' and personType/subclass eq '" + spec.PersonOrganizationUser + "'"
	var out []string
	reads := 0
	for _, r := range reqs {
		if r.Route != peopleRoute {
			continue
		}
		reads++
		if r.Filter != want {
			out = append(out, "upstream: a People API read did not keep to organisation users")
		}
		if !slices.Equal(r.Select, doc.People.Fetched) {
			out = append(out, fmt.Sprintf("upstream: the People API was asked for %v; GET /privacy says %v", r.Select, doc.People.Fetched))
		}
	}
	if reads == 0 {
		out = append(out, "coverage: no People API read reached Graph")
	}
	return slices.Compact(out)
}

// peopleDefects are ways the People API could leak, planted one at a time as in
// TestPrivacyProofCatchesDefects: the proof's people traffic and contact canaries must
// turn it red for each.
var peopleDefects = []proofDefect{
	{
		name: "People API asked for every person, contacts not dropped",
		edits: []edit{
			{"graph/people.go", "Select: spec.PeopleSelect(), Filter: &filter, Top: &t}", "Select: spec.PeopleSelect(), Top: &t}; _ = filter"},
			{"graph/people.go", "!strings.EqualFold(*pt.GetSubclass(), spec.PersonOrganizationUser) {", "false {"},
		},
		caught: violated("did not keep to organisation users"),
	},
	{
		name: "contacts shown: not asked away, not dropped, not confirmed by a user record",
		edits: []edit{
			{"graph/people.go", "Select: spec.PeopleSelect(), Filter: &filter, Top: &t}", "Select: spec.PeopleSelect(), Top: &t}; _ = filter"},
			{"graph/people.go", "!strings.EqualFold(*pt.GetSubclass(), spec.PersonOrganizationUser) {", "false {"},
			{"proxy/directory/people.go", "records, err := d.confirmIDs(ctx, tenantID, e.ids[start:min(start+spec.MaxBatchRequests, len(e.ids))])",
				"records, err := proofDefectRecords(e.ids[start:min(start+spec.MaxBatchRequests, len(e.ids))])"},
		},
		caught: func(r proofResult) bool {
			return violated("a response shows a contact's value")(r) && violated("not an enabled user of the tenant")(r)
		},
	},
	{
		name:   "people search text logged",
		edits:  []edit{{"proxy/people.go", "\t\ttext := foldSearch(q.Search)\n", "\t\tproofDefectLog(\"people search\", q.Search)\n\t\ttext := foldSearch(q.Search)\n"}},
		caught: leaked("stderr", "contact", ""),
	},
}

// peopleDefectHelpers is a source file added to package directory for the defect that
// shows every listed id as a user.
const peopleDefectHelpers = `package directory

import "github.com/graphgate/graphgate/graph"

func proofDefectRecords(ids []string) ([]graph.User, error) {
	out := make([]graph.User, 0, len(ids))
	for _, id := range ids {
		out = append(out, graph.User{"id": id, "accountEnabled": true})
	}
	return out, nil
}
`

// TestPrivacyProofCatchesPeopleDefects plants each of peopleDefects through a build
// overlay and checks that the proof turns red for that defect's reason.
func TestPrivacyProofCatchesPeopleDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs graphgate once per defect")
	}
	proofStores(t)
	for _, df := range peopleDefects {
		t.Run(df.name, func(t *testing.T) {
			bin := buildWithDefect(t, df.edits, map[string]string{"proxy/zz_proof_defect.go": defectHelpers,
				"proxy/directory/zz_proof_defect.go": peopleDefectHelpers})
			if r := runProof(t, bin); !df.caught(r) {
				t.Errorf("the proof missed the defect: %d leaks, violations %q", len(r.leaks), r.violations)
			}
		})
	}
}
