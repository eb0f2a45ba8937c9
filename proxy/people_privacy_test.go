package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/privacy/scan"
	"github.com/graphgate/graphgate/proxy/proxytest"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// peopleRoute is the emulator's request-log route of the People API.
const peopleRoute = "GET /v1.0/users/{id}/people"

// orgUsersFilter is the $filter graphgate must send with every People API read
// (https://learn.microsoft.com/graph/people-insights-overview#use-a-filter-to-limit-the-response).
const orgUsersFilter = "personType/class eq 'Person' and personType/subclass eq 'OrganizationUser'"

// toolkitFilters are the people $filters Microsoft Graph Toolkit 4.6 sends (mgt-components
// graph.people.js, getPeople and findPeople: any person, users, contacts).
var toolkitFilters = []string{
	"personType/class eq 'Person'",
	"personType/class eq 'Person'and personType/subclass eq 'OrganizationUser'",
	"personType/class eq 'Person'and (personType/subclass eq 'ImplicitContact' or personType/subclass eq 'PersonalContact')",
}

// peopleUpstream records the ids the People API reads returned to the gateway: what it
// caches of a people list.
type peopleUpstream struct {
	proxy.Upstream
	mu  sync.Mutex
	ids []string
}

func (p *peopleUpstream) People(ctx context.Context, id, search string, directory bool, top int) ([]string, error) {
	ids, err := p.Upstream.People(ctx, id, search, directory, top)
	p.mu.Lock()
	p.ids = append(p.ids, ids...)
	p.mu.Unlock()
	return ids, err
}

// recordedEnv is a test gateway whose access log (at debug level) goes to logs and whose
// tenants' People API results are recorded by ups (by tenant id).
type recordedEnv struct {
	*env
	logs testkit.SyncBuffer
	ups  map[string]*peopleUpstream
}

func newRecordedEnv(t *testing.T, policyTemplate string) *recordedEnv {
	r := &recordedEnv{ups: map[string]*peopleUpstream{}}
	configure := func(c *proxy.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		for i := range c.Tenants {
			up := &peopleUpstream{Upstream: c.Tenants[i].Upstream}
			r.ups[c.Tenants[i].ID] = up
			c.Tenants[i].Upstream = up
		}
	}
	if policyTemplate == "" {
		r.env = newEnv(t, configure)
	} else {
		r.env = envOf(t, proxytest.New(t, proxytest.Options{PolicyTemplate: policyTemplate, Configure: configure}))
	}
	return r
}

// contactValues are the personal values of the tenants' contacts and outside people
// (Emulator.Contacts) that an app could be shown: names, addresses and their local parts,
// phone numbers and their digits, ids. A value that is also a fixture user's value of a
// property some client app may see of others is left out (and logged): a user may show it.
func contactValues(t *testing.T, e *env) []scan.Value {
	userValues := map[string]bool{}
	for _, tn := range e.dir.Tenants {
		for _, info := range tn.Users {
			u, _ := e.emu.User(tn.ID, info.ID)
			for _, c := range e.pol.Clients() {
				for _, f := range c.OtherFields {
					values := []string{userValue(u, f)}
					switch f {
					case "mobilePhone":
						values = []string{u.MobilePhone, digitsOf(u.MobilePhone)}
					case "businessPhones":
						for _, p := range u.BusinessPhones {
							values = append(values, p, digitsOf(p))
						}
					}
					for _, v := range values {
						userValues[strings.ToLower(v)] = true
					}
				}
			}
		}
	}
	var out []scan.Value
	add := func(label, v string) {
		if len(v) < scan.MinLen {
			return
		}
		if userValues[strings.ToLower(v)] {
			t.Logf("%s is also a fixture user's visible value: not looked for", label)
			return
		}
		out = append(out, scan.Value{Label: label, Text: []byte(v)})
	}
	for _, tn := range e.dir.Tenants {
		for i, p := range e.emu.Contacts(tn.ID) {
			of := fmt.Sprintf(" of %s contact %d (%s)", tn.Domain, i, p.Subclass)
			add("id"+of, p.ID)
			add("displayName"+of, p.DisplayName)
			add("givenName"+of, p.GivenName)
			add("surname"+of, p.Surname)
			add("companyName"+of, p.CompanyName)
			for _, m := range p.Emails {
				add("address"+of, m)
				add("address local part"+of, strings.SplitN(m, "@", 2)[0])
			}
			for _, ph := range p.Phones {
				add("phone"+of, ph.Number)
				add("phone digits"+of, digitsOf(ph.Number))
			}
		}
	}
	return out
}

// userNameValues are every fixture user's names and addresses, which no log may hold.
func userNameValues(e *env) []scan.Value {
	var out []scan.Value
	for _, tn := range e.dir.Tenants {
		for i, info := range tn.Users {
			u, _ := e.emu.User(tn.ID, info.ID)
			for _, f := range []string{"displayName", "givenName", "surname", "userPrincipalName", "mail"} {
				if v := userValue(u, f); len(v) >= scan.MinLen {
					out = append(out, scan.Value{Label: fmt.Sprintf("%s of %s user %d", f, tn.Domain, i), Text: []byte(v)})
				}
			}
		}
	}
	return out
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// contactSearches are the people searches that would find a contact: by name, name
// prefix, address, address prefix and phone number, each quoted as the Toolkit quotes.
func contactSearches(p emulator.Person) []string {
	texts := []string{p.DisplayName, p.GivenName, p.Surname, string([]rune(p.GivenName)[:3])}
	for _, m := range p.Emails {
		local := strings.SplitN(m, "@", 2)[0]
		texts = append(texts, m, local, strings.SplitN(local, ".", 2)[0]+".")
	}
	for _, ph := range p.Phones {
		texts = append(texts, ph.Number)
	}
	return texts
}

// peopleDrive is the broad drive of people requests: what the Toolkit sends (its three
// filters, with X-PeopleQuery-QuerySources), every page of a small $top, another user's
// list, searches for every contact, and a $batch of people items.
func peopleDrive(e *env) []func() (string, int, []byte) {
	var reqs []func() (string, int, []byte)
	get := func(path, tok string) func() (string, int, []byte) {
		return func() (string, int, []byte) {
			st, _, b, err := gatewayDo(e.url, http.MethodGet, path, tok, nil, "X-PeopleQuery-QuerySources", "Mailbox,Directory")
			if err != nil {
				return path + ": " + err.Error(), 0, nil
			}
			return path, st, b
		}
	}
	for _, tn := range e.dir.Tenants {
		enabled := enabledOf(tn)
		contacts := e.emu.Contacts(tn.ID)
		for i, u := range enabled {
			for _, client := range []string{"chat-web", "intranet-directory"} {
				tok := mustMint(e, tn, client, u.ID)
				reqs = append(reqs, get("/v1.0/me/people", tok))
				if client == "intranet-directory" { // chat-web may read no org-chart relations
					reqs = append(reqs, get("/v1.0/users/"+enabled[(i+1)%len(enabled)].ID+"/people?$top=100", tok))
				}
				for _, f := range toolkitFilters {
					reqs = append(reqs, get("/v1.0/me/people?$top=10&$filter="+url.QueryEscape(f), tok))
				}
				for k := range 4 {
					reqs = append(reqs, get(fmt.Sprintf("/v1.0/me/people?$top=3&$skip=%d", 3*k), tok))
				}
				if i >= 4 {
					continue
				}
				for j, c := range contacts {
					for _, text := range contactSearches(c) {
						reqs = append(reqs, get("/v1.0/me/people?$top=10&$search="+url.QueryEscape(`"`+text+`"`)+
							"&$filter="+url.QueryEscape(toolkitFilters[(i+j)%2]), tok))
					}
				}
				reqs = append(reqs, batchOfPeople(e, tok, contacts[i%len(contacts)].GivenName, enabled[i+1].ID))
			}
		}
	}
	return reqs
}

// batchOfPeople sends a $batch of people items.
func batchOfPeople(e *env, tok, search, colleague string) func() (string, int, []byte) {
	body, _ := json.Marshal(map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/me/people?$top=20"},
		{"id": "2", "method": "GET", "url": "/me/people?$search=" + url.QueryEscape(`"`+search+`"`)},
		{"id": "3", "method": "GET", "url": "/users/" + colleague + "/people"},
	}})
	return func() (string, int, []byte) {
		st, _, b, err := gatewayDo(e.url, http.MethodPost, "/v1.0/$batch", tok, body)
		if err != nil {
			return "$batch: " + err.Error(), 0, nil
		}
		return "$batch", st, b
	}
}

// batchOK counts the items of a $batch answer that answered 200.
func batchOK(b []byte) int {
	var body struct {
		Responses []struct {
			Status int `json:"status"`
		} `json:"responses"`
	}
	_ = json.Unmarshal(b, &body)
	n := 0
	for _, r := range body.Responses {
		if r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// runConcurrently runs reqs on 8 workers and returns their labels, statuses and bodies.
func runConcurrently(reqs []func() (string, int, []byte)) (labels []string, statuses []int, bodies [][]byte) {
	labels, statuses, bodies = make([]string, len(reqs)), make([]int, len(reqs)), make([][]byte, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				labels[i], statuses[i], bodies[i] = reqs[i]()
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return labels, statuses, bodies
}

// TestPeopleNeverShowOutsidePeople drives people requests broadly (the Toolkit's filters,
// paging, another user's list, searches by every contact's name, address and phone, a
// $batch) and checks that no contact or outside person (Emulator.Contacts) appears in any
// response, in the access log or among the ids the gateway caches, that Graph was asked
// only for organisation users' ids and types, and that the log names no fixture user.
func TestPeopleNeverShowOutsidePeople(t *testing.T) {
	e := newRecordedEnv(t, "")
	contacts := contactValues(t, e.env)
	inResponses, err := scan.New(contacts)
	if err != nil {
		t.Fatal(err)
	}
	inLogs, err := scan.New(append(contacts, userNameValues(e.env)...))
	if err != nil {
		t.Fatal(err)
	}
	labels, statuses, bodies := runConcurrently(peopleDrive(e.env))
	shown := 0
	for i, b := range bodies {
		if statuses[i] != http.StatusOK {
			t.Errorf("%s: status %d: %.200s", labels[i], statuses[i], b)
			continue
		}
		shown += strings.Count(string(b), `"personType"`)
		if labels[i] == "$batch" && batchOK(b) < 2 {
			t.Errorf("$batch of people: fewer than 2 items answered 200: %.300s", b)
		}
		for _, f := range inResponses.Bytes("response", b) {
			t.Errorf("a response to %s shows %s", labels[i], f)
		}
	}
	logs := e.logs.String()
	for _, f := range inLogs.Bytes("access log", []byte(logs)) {
		t.Errorf("the log holds %s", f)
	}
	if n := strings.Count(logs, `"msg":"request"`); n < len(bodies) || shown < 2000 {
		t.Errorf("vacuous: %d access records for %d requests, %d persons shown", n, len(bodies), shown)
	}
	checkUpstreamPeople(t, e)
	t.Logf("%d requests, %d persons shown, %d contact values and %d log values looked for",
		len(bodies), shown, len(contacts), len(userNameValues(e.env))+len(contacts))
}

// checkUpstreamPeople checks what the gateway asked of and got from the People API: only
// organisation users' ids and types, and never a contact's id.
func checkUpstreamPeople(t *testing.T, e *recordedEnv) {
	t.Helper()
	reads := 0
	for _, r := range e.emu.Requests() {
		if r.Route != peopleRoute {
			continue
		}
		reads++
		if r.Filter != orgUsersFilter || !slices.Equal(r.Select, []string{"id", "personType"}) {
			t.Errorf("the People API was asked $filter=%q $select=%v", r.Filter, r.Select)
		}
	}
	for _, tn := range e.dir.Tenants {
		up := e.ups[tn.ID]
		up.mu.Lock()
		for _, c := range e.emu.Contacts(tn.ID) {
			if slices.Contains(up.ids, strings.ToLower(c.ID)) || slices.Contains(up.ids, c.ID) {
				t.Errorf("the gateway got (and cached) the id of %s contact %s", tn.Domain, c.Subclass)
			}
		}
		if len(up.ids) == 0 {
			t.Errorf("vacuous: no People API read of %s returned anyone", tn.Domain)
		}
		up.mu.Unlock()
	}
	if reads < 100 {
		t.Errorf("vacuous: %d People API reads", reads)
	}
}
