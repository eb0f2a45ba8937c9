package proxy_test

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
)

// personMapping is the promised person-field ↔ user-field mapping (issue 11), written
// out here rather than read from policy, so that the sweep judges the gateway against
// the promise: each person property graphgate serves and the user properties it may be
// made of. personType is a constant; every other person property is never served.
var personMapping = map[string][]string{
	"id": {"id"}, "displayName": {"displayName"}, "givenName": {"givenName"}, "surname": {"surname"},
	"jobTitle": {"jobTitle"}, "companyName": {"companyName"}, "department": {"department"},
	"officeLocation": {"officeLocation"}, "userPrincipalName": {"userPrincipalName"},
	"scoredEmailAddresses": {"mail"}, "phones": {"businessPhones", "mobilePhone"}, "personType": {},
}

// searchable are the user properties by which a people search may find someone.
var searchable = []string{"displayName", "givenName", "surname", "mail", "userPrincipalName"}

// shownPersonFields returns, of the requested person properties (nil: every property
// graphgate serves), those an app that sees others' user properties others is shown,
// and the others (withheld), both sorted.
func shownPersonFields(requested []string, others map[string]bool) (shown, withheld []string) {
	if requested == nil {
		for f := range personMapping {
			requested = append(requested, f)
		}
	}
	for _, f := range requested {
		src, served := personMapping[f]
		ok := served && (len(src) == 0 || slices.ContainsFunc(src, func(s string) bool { return others[s] }))
		if ok || f == "id" {
			shown = append(shown, f)
		} else {
			withheld = append(withheld, f)
		}
	}
	slices.Sort(shown)
	slices.Sort(withheld)
	return shown, withheld
}

// userValue is a string property of a fixture user.
func userValue(u emulator.User, f string) string {
	return map[string]string{"id": u.ID, "displayName": u.DisplayName, "givenName": u.GivenName,
		"surname": u.Surname, "jobTitle": u.JobTitle, "companyName": u.CompanyName, "department": u.Department,
		"officeLocation": u.OfficeLocation, "userPrincipalName": u.UserPrincipalName, "mail": u.Mail}[f]
}

// personProblems checks one person of a people answer: an enabled user of the tenant,
// showing exactly the properties shown, each with the user's own value as far as others
// holds its sources.
func personProblems(emu *emulator.Emulator, tenantID string, others map[string]bool, shown []string, p map[string]any) []string {
	id, _ := p["id"].(string)
	u, ok := emu.User(tenantID, id)
	if !ok || !u.AccountEnabled {
		return []string{fmt.Sprintf("person %q is not an enabled user of the caller's tenant", id)}
	}
	var out []string
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	if slices.Sort(keys); !slices.Equal(keys, shown) {
		out = append(out, fmt.Sprintf("person %s shows %v, want %v", id, keys, shown))
	}
	for k, v := range p {
		if want, bad := personValueProblem(u, others, k, v); bad {
			out = append(out, fmt.Sprintf("person %s: %s = %v, want %s", id, k, v, want))
		}
	}
	return out
}

// personValueProblem says whether the value v of person property k is not what the user's
// record gives under others, and what it should be.
func personValueProblem(u emulator.User, others map[string]bool, k string, v any) (string, bool) {
	switch k {
	case "personType":
		pt, _ := v.(map[string]any)
		return "Person/OrganizationUser", len(pt) != 2 || pt["class"] != "Person" || pt["subclass"] != "OrganizationUser"
	case "scoredEmailAddresses":
		var want []any
		if u.Mail != "" {
			want = []any{map[string]any{"address": u.Mail}}
		}
		got, _ := v.([]any)
		return fmt.Sprint(want), fmt.Sprint(got) != fmt.Sprint(want) || v == nil
	case "phones":
		var want []string
		if others["businessPhones"] {
			for _, n := range u.BusinessPhones {
				want = append(want, "business:"+n)
			}
		}
		if others["mobilePhone"] && u.MobilePhone != "" {
			want = append(want, "mobile:"+u.MobilePhone)
		}
		var got []string
		list, ok := v.([]any)
		for _, e := range list {
			ph, _ := e.(map[string]any)
			got = append(got, fmt.Sprintf("%v:%v", ph["type"], ph["number"]))
			ok = ok && len(ph) == 2
		}
		slices.Sort(got)
		slices.Sort(want)
		return fmt.Sprint(want), !ok || !slices.Equal(got, want)
	}
	src, served := personMapping[k]
	if !served || len(src) != 1 || src[0] != k {
		return "absent", true
	}
	want := userValue(u, k)
	if s, ok := v.(string); want != "" {
		return fmt.Sprintf("%q", want), !ok || s != want
	}
	return "null", v != nil && v != ""
}

// searchText returns a text by which both Graph and an app that sees others find u: a
// visible name's first word's first three letters, else the first five characters of
// a visible address that is also the user's mail (Graph matches names and mail).
func searchText(u emulator.User, others map[string]bool) (string, bool) {
	isSep := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	for _, f := range []string{"displayName", "givenName", "surname"} {
		if words := strings.FieldsFunc(userValue(u, f), isSep); others[f] && len(words) > 0 && len([]rune(words[0])) >= 3 {
			return string([]rune(words[0])[:3]), true
		}
	}
	for _, f := range []string{"mail", "userPrincipalName"} {
		if v := userValue(u, f); others[f] && len(v) > 5 && strings.EqualFold(v, u.Mail) {
			return v[:5], true
		}
	}
	return "", false
}

// sweepTally counts what a sweep exercised.
type sweepTally struct {
	mu                                    sync.Mutex
	problems                              []string
	persons, searches, forbidden, refused int
}

func (s *sweepTally) add(persons, searches, forbidden, refused int, problems ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.persons, s.searches, s.forbidden, s.refused = s.persons+persons, s.searches+searches, s.forbidden+forbidden, s.refused+refused
	s.problems = append(s.problems, problems...)
}

// TestPeopleFieldSweep is the field-minimisation sweep of /me/people over every enabled
// user of every tenant × every client app, under the test policy and under a policy of
// unusual grants (mobilePhone without businessPhones, userPrincipalName without mail,
// givenName without displayName, no names or addresses at all): with no $select, with
// a $select of every person property and with a $search by a visible name or address,
// every person is an enabled user of the caller's tenant showing exactly the person
// properties the mapping allows from the app's fields of others, each with the user's
// own value; Graphgate-Withheld-Fields names exactly the hidden ones; apps without
// people.read get 403 and apps that see no name or address get 400 for a search.
func TestPeopleFieldSweep(t *testing.T) {
	for _, file := range []string{"testdata/policy.yaml", "testdata/policy-people-sweep.yaml"} {
		// Not parallel: msgraph-sdk-go's NewGraphServiceClient sets a package-level backing
		// store factory that every response's parsing reads, so starting a gateway while
		// another serves is a data race (graphgate builds all its clients at start).
		t.Run(filepath.Base(file), func(t *testing.T) {
			e := envWithPolicy(t, file)
			var tally sweepTally
			jobs := make(chan func())
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for j := range jobs {
						j()
					}
				})
			}
			for _, tn := range e.dir.Tenants {
				for _, c := range tn.Clients {
					for _, u := range tn.Users {
						if u.AccountEnabled {
							jobs <- func() { sweepUser(e, tn, c, u, &tally) }
						}
					}
				}
			}
			close(jobs)
			wg.Wait()
			for i, p := range tally.problems {
				if i == 40 {
					t.Errorf("... and %d more", len(tally.problems)-i)
					break
				}
				t.Error(p)
			}
			t.Logf("%d persons checked, %d searches, %d forbidden, %d searches refused", tally.persons, tally.searches, tally.forbidden, tally.refused)
			if tally.persons < 1000 || tally.searches < 50 {
				t.Errorf("vacuous sweep: %d persons, %d searches", tally.persons, tally.searches)
			}
		})
	}
}

// sweepUser drives /me/people for one user through one client app.
func sweepUser(e *env, tn emulator.TenantInfo, c emulator.ClientInfo, info emulator.UserInfo, tally *sweepTally) {
	who := fmt.Sprintf("%s user %s via %s", tn.Domain, info.ID, c.Name)
	fail := func(format string, args ...any) { tally.add(0, 0, 0, 0, who+": "+fmt.Sprintf(format, args...)) }
	tok, err := e.emu.MintToken(emulator.TokenRequest{TenantID: tn.ID, ClientID: c.ID, UserID: info.ID})
	if err != nil {
		fail("token: %v", err)
		return
	}
	pc, _ := e.pol.Client(c.ID)
	others := map[string]bool{}
	for _, f := range pc.OtherFields {
		others[f] = true
	}
	allowed := pc.Allows(policy.OpPeopleRead)
	all := strings.Join(spec.PersonProperties(), ",")
	plain, err := fetchPeople(e.url, "/v1.0/me/people", tok)
	if err != nil {
		fail("GET /me/people: %v", err)
		return
	}
	if !allowed {
		for _, path := range []string{"/v1.0/me/people?$select=" + all, "/v1.0/me/people?$search=a"} {
			if a, err := fetchPeople(e.url, path, tok); err != nil || a.status != http.StatusForbidden {
				fail("%s: status %d, want 403 (%v)", path, a.status, err)
			}
		}
		if plain.status != http.StatusForbidden {
			fail("GET /me/people: status %d, want 403: no people.read", plain.status)
			return
		}
		tally.add(0, 0, 1, 0)
		return
	}
	n := checkAnswer(e, tn.ID, others, plain, nil, nil, fail)
	want, _ := rankedUsers(e.emu, tn.ID, info.ID)
	if got := idsOf(plain.people); !slices.Equal(got, want[:min(len(want), spec.DefaultPeopleTop)]) {
		fail("GET /me/people lists %v, want %v", got, want[:min(len(want), spec.DefaultPeopleTop)])
	}
	sel, err := fetchPeople(e.url, "/v1.0/me/people?$select="+all, tok)
	if err != nil {
		fail("$select of every person property: %v", err)
		return
	}
	n += checkAnswer(e, tn.ID, others, sel, spec.PersonProperties(), nil, fail)
	searches, refused := sweepSearch(e, tn, tok, others, plain.people, fail, &n)
	tally.add(n, searches, 0, refused)
}

// sweepSearch searches /me/people by a visible name or address of a listed person and
// checks the answer; an app that sees no name or address must get 400.
func sweepSearch(e *env, tn emulator.TenantInfo, tok string, others map[string]bool, listed []map[string]any,
	fail func(string, ...any), n *int) (searches, refused int) {
	var hidden []string
	for _, f := range searchable {
		if !others[f] {
			hidden = append(hidden, f)
		}
	}
	if len(hidden) == len(searchable) {
		a, err := fetchPeople(e.url, "/v1.0/me/people?$search="+url.QueryEscape(`"a"`), tok)
		if err != nil || a.status != http.StatusBadRequest {
			fail("$search by an app that sees no name or address: status %d, want 400 (%v)", a.status, err)
			return 0, 0
		}
		return 0, 1
	}
	for _, p := range listed {
		u, _ := e.emu.User(tn.ID, p["id"].(string))
		text, ok := searchText(u, others)
		if !ok {
			continue
		}
		a, err := fetchPeople(e.url, "/v1.0/me/people?$top=100&$search="+url.QueryEscape(`"`+text+`"`), tok)
		if err != nil {
			fail("$search: %v", err)
			return 0, 0
		}
		*n += checkAnswer(e, tn.ID, others, a, nil, hidden, fail)
		if !slices.Contains(idsOf(a.people), strings.ToLower(u.ID)) {
			fail("$search %q does not find %s, whom it matches by a visible property", text, u.ID)
		}
		for _, q := range a.people {
			if x, _ := e.emu.User(tn.ID, q["id"].(string)); !visiblyMatches(x, text, others) {
				fail("$search %q finds %s by a property the app may not see", text, x.ID)
			}
		}
		return 1, 0
	}
	return 0, 0
}

// checkAnswer checks a 200 people answer to a request of the person properties requested
// (nil: none given) and, with a search, the user properties hiddenSearch the search may
// not match by: every person, and the withheld header. It returns the persons checked.
func checkAnswer(e *env, tenantID string, others map[string]bool, a peopleAnswer, requested, hiddenSearch []string,
	fail func(string, ...any)) int {
	if a.status != http.StatusOK {
		fail("status %d: %s", a.status, a.body)
		return 0
	}
	shown, withheld := shownPersonFields(requested, others)
	if requested == nil { // never-served properties are not reported on a default request
		withheld = slices.DeleteFunc(withheld, func(f string) bool { _, ok := personMapping[f]; return !ok })
	}
	for _, f := range hiddenSearch {
		if f == "mail" { // reported as the person property it shows as
			f = "scoredEmailAddresses"
		}
		withheld = append(withheld, f)
	}
	slices.Sort(withheld)
	withheld = slices.Compact(withheld)
	if !slices.Equal(a.withheld, withheld) {
		fail("Graphgate-Withheld-Fields = %v, want %v", a.withheld, withheld)
	}
	for _, p := range a.people {
		for _, problem := range personProblems(e.emu, tenantID, others, shown, p) {
			fail("%s", problem)
		}
	}
	return len(a.people)
}
