package proxy_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// What Microsoft Graph Toolkit 4.6 asks of the People API, read from
// @microsoft/mgt-components/dist/es6/graph/graph.people.js and the components:
//
//   - getPeople: GET /v1.0/me/people?$top=n&$filter=personType/class eq 'Person' with
//     X-PeopleQuery-QuerySources: Mailbox,Directory; mgt-people asks n=10 and shows
//     show-max (3) avatars and "+rest", the people picker asks n=6 (its show-max) on focus;
//   - findPeople: the same with $search="text": the picker's search (then /users and
//     /groups while it has fewer than 6), and mgt-person's person-query with $top=1 (then
//     /users?$search when it found no one);
//   - for each person, GET /users/{userPrincipalName, else id}/photo/$value.

// peopleApps are the client apps of the people tests (testdata/policy.yaml): both may
// read people; of others chat-web sees displayName, jobTitle and mail, and
// intranet-directory also department, office, phones, names and userPrincipalName.
var peopleApps = []string{"chat-web", "intranet-directory"}

// Defaults of the toolkit's components: how many people the picker suggests
// (mgt-people-picker show-max), how many mgt-people asks (getPeople's $top) and shows
// (mgt-people show-max).
const (
	pickerShowMax = 6
	peopleTop     = 10
	peopleShowMax = 3
)

// peopleSearch is what the tests type: a part of the name of peopleFixture.found and of
// peopleFixture.gone, and of no one else's.
const peopleSearch = "marche"

// peopleFixture is what the people tests add to contoso, and the caller's people.
type peopleFixture struct {
	e      *env
	caller emulator.UserInfo
	// want are the ids (lower case) of the people the gateway must list for the caller:
	// the emulator's ranking without contacts, outside people and deactivated accounts.
	want []string
	// found is an enabled colleague outside the caller's relevant people, found by a
	// search through the directory; gone is a deactivated one the same search matches.
	found, gone emulator.User
}

// startPeopleApps starts the toolkit's pages for peopleApps on one gateway with the test
// policy, with the people fixture added.
func startPeopleApps(t *testing.T) (*toolkitApps, *peopleFixture) {
	t.Helper()
	var fx *peopleFixture
	ta := startToolkitApps(t, peopleApps, func(origins []string) *env {
		return newEnv(t, func(c *proxy.Config) { c.CORSOrigins = origins })
	}, func(e *env) emulator.UserInfo {
		fx = addPeopleFixture(t, e)
		return fx.caller
	})
	return ta, fx
}

// addPeopleFixture adds found and gone, then picks as caller an enabled user among
// whose first pickerShowMax ranked people the emulator puts a contact and a deactivated
// colleague (the People index lags the directory), with more than pickerShowMax people
// to list (a full picker, an overflowing mgt-people).
func addPeopleFixture(t *testing.T, e *env) *peopleFixture {
	t.Helper()
	found := addPerson(t, e, "Wendeline Marchetti", "", func(u *emulator.User) {
		u.JobTitle, u.Department, u.OfficeLocation = "Map Curator", "Cartography", "Harbour 7"
	})
	gone := addPerson(t, e, "Marchello Vance", "", deactivated)
	tid := e.tenant(0).ID
	for _, u := range e.tenant(0).Users {
		if x, _ := e.emu.User(tid, u.ID); x.AccountEnabled && strings.Contains(strings.ToLower(x.DisplayName+" "+x.Mail), peopleSearch) {
			t.Fatalf("fixture: a user of contoso matches %q", peopleSearch)
		}
	}
	for _, u := range e.enabledUsers(0) {
		ranked, _ := e.emu.People(tid, u.ID)
		contact, inactive, listed := false, false, false
		for i, p := range ranked {
			x, ok := e.emu.User(tid, p.ID)
			listed = listed || p.ID == found.ID
			contact = contact || i < pickerShowMax && p.Subclass != spec.PersonOrganizationUser
			inactive = inactive || i < pickerShowMax && ok && !x.AccountEnabled
		}
		want := wantPeople(t, e, 0, u.ID, nil)
		if contact && inactive && !listed && len(want) > pickerShowMax {
			return &peopleFixture{e: e, caller: u, want: want, found: found, gone: gone}
		}
	}
	t.Fatal("fixture: no user has a contact and a deactivated colleague among their first people")
	return nil
}

// names returns the display names of users by id.
func (fx *peopleFixture) names(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		u, _ := fx.e.emu.User(fx.e.tenant(0).ID, id)
		out = append(out, u.DisplayName)
	}
	return out
}

// checkPeopleAnswer asserts that the gateway answered the toolkit's /me/people request
// whose query satisfies match with 200 and exactly the people want, in order.
func checkPeopleAnswer(t *testing.T, ta *toolkitApps, what string, match func(string) bool, want []string) {
	t.Helper()
	switch status, ids := ta.tap.peopleAnswer(match); {
	case status == 0:
		t.Errorf("%s: the toolkit did not ask /v1.0/me/people", what)
	case status != 200:
		t.Errorf("%s: the gateway answered /v1.0/me/people with %d", what, status)
	case !slices.Equal(ids, want):
		t.Errorf("%s: the gateway answered /v1.0/me/people with people %v, want %v", what, ids, want)
	}
}

// peopleSearchFor matches the query of the toolkit's people search for text.
func peopleSearchFor(text string) func(string) bool {
	return func(q string) bool {
		return strings.Contains(strings.ToLower(q), `$search="`+strings.ToLower(text)+`"`)
	}
}

// TestToolkitPeoplePickerSuggestsPeople drives Microsoft Graph Toolkit's people picker,
// unmodified and with its default settings, in headless Chromium on another origin,
// through the gateway, for two client apps: on focus it lists the caller's relevant
// people as the emulator ranks them, without their contacts and their deactivated
// colleague; typing part of a name finds a colleague outside that list through
// /me/people's directory search, never the deactivated one the text matches as well;
// clicking the suggestion selects it. Every answer is checked by toolkitApps.checkAnswers.
func TestToolkitPeoplePickerSuggestsPeople(t *testing.T) {
	ta, fx := startPeopleApps(t)
	for _, app := range peopleApps {
		t.Run(app, func(t *testing.T) {
			site, b := ta.open(t, app, "/picker.html")
			focusPicker(t, site, b)
			want := fx.want[:min(pickerShowMax, len(fx.want))]
			got := pollPicker(t, site, b)
			viewportShot(t, b, "focus")
			if !got.Open || !slices.Equal(got.Names, fx.names(want)) {
				t.Errorf("on focus the picker shows %q (open %t), want %q", got.Names, got.Open, fx.names(want))
			}
			checkPeopleAnswer(t, ta, "focus", func(q string) bool { return !strings.Contains(q, "$search") }, want)

			got = typeIntoPicker(t, site, b, peopleSearch)
			viewportShot(t, b, "search")
			if !slices.Equal(got.Names, []string{fx.found.DisplayName}) {
				t.Errorf("typing %q, the picker shows %q, want only %q", peopleSearch, got.Names, fx.found.DisplayName)
			}
			checkPeopleAnswer(t, ta, "search", peopleSearchFor(peopleSearch), []string{strings.ToLower(fx.found.ID)})

			sel := selectFirstSuggestion(t, site, b)
			viewportShot(t, b, "selected")
			if !slices.Equal(sel.IDs, []string{fx.found.ID}) || !slices.Equal(sel.Chips, []string{fx.found.DisplayName}) {
				t.Errorf("after the click the picker holds %v and shows %q, want the colleague", sel.IDs, sel.Chips)
			}
			ta.checkAnswers(t, site, app, b)
		})
	}
}

// TestToolkitPersonQueryFindsPerson opens Microsoft Graph Toolkit's <mgt-person
// person-query="…" view="fourlines">, unmodified, through the gateway for two client
// apps: a part of a colleague's name or e-mail address shows that colleague, found by
// /me/people?$search, with the lines the app's policy lets it see (display name, job
// title, and the department for intranet-directory only, mail); the name of a
// deactivated colleague shows no one.
func TestToolkitPersonQueryFindsPerson(t *testing.T) {
	ta, fx := startPeopleApps(t)
	if seesOfOthers(t, ta.e, "chat-web", "department") == seesOfOthers(t, ta.e, "intranet-directory", "department") {
		t.Fatal("policy: the test needs one app that sees others' department and one that does not")
	}
	mailPart, _, _ := strings.Cut(fx.found.Mail, "@")
	cases := []struct {
		name, query string
		want        *emulator.User
	}{
		{"part of the name", "Marchet", &fx.found},
		{"start of the mail", mailPart[:len(mailPart)-2], &fx.found},
		{"deactivated", strings.Fields(fx.gone.DisplayName)[0], nil},
	}
	for _, app := range peopleApps {
		for _, tc := range cases {
			t.Run(app+"/"+tc.name, func(t *testing.T) {
				site, b := ta.open(t, app, "/person-query.html?query="+url.QueryEscape(tc.query))
				got := pollQueried(t, site, b, tc.query)
				viewportShot(t, b, "person")
				var want []string
				wantIDs := []string{}
				if tc.want != nil {
					want = personLines(t, ta.e, app, *tc.want)
					wantIDs = []string{strings.ToLower(tc.want.ID)}
				}
				if !slicesEqual(got.Lines, want) {
					t.Errorf("person-query %q shows the lines %q, want %q", tc.query, got.Lines, want)
				}
				checkPeopleAnswer(t, ta, "person-query", peopleSearchFor(tc.query), wantIDs)
				ta.checkAnswers(t, site, app, b)
			})
		}
	}
}

// TestToolkitPeopleShowsCallersPeople opens Microsoft Graph Toolkit's <mgt-people>,
// unmodified and with its defaults, through the gateway for two client apps: it gets the
// caller's first relevant people (without contacts and deactivated colleagues) and shows
// the first show-max of them with their names, and "+n" for the rest.
func TestToolkitPeopleShowsCallersPeople(t *testing.T) {
	ta, fx := startPeopleApps(t)
	want := fx.want[:min(peopleTop, len(fx.want))]
	shown := fx.names(want[:min(peopleShowMax, len(want))])
	overflow := ""
	if n := len(want) - peopleShowMax; n > 0 {
		overflow = "+" + strconv.Itoa(n)
	}
	for _, app := range peopleApps {
		t.Run(app, func(t *testing.T) {
			site, b := ta.open(t, app, "/people.html")
			got := poll(t, site, b, "mgt-people renders its people", mgtPeopleState, func(s peopleShows) bool {
				return s.Loaded && s.Pending == 0
			})
			viewportShot(t, b, "people")
			if !slices.Equal(got.IDs, want) {
				t.Errorf("mgt-people got the people %v, want %v", got.IDs, want)
			}
			if !slices.Equal(got.Shown, shown) || got.Overflow != overflow {
				t.Errorf("mgt-people shows %q and %q, want %q and %q", got.Shown, got.Overflow, shown, overflow)
			}
			checkPeopleAnswer(t, ta, "mgt-people", func(q string) bool { return !strings.Contains(q, "$search") }, want)
			ta.checkAnswers(t, site, app, b)
		})
	}
}

// seesOfOthers reports whether app's policy lets it see the user property f of others.
func seesOfOthers(t *testing.T, e *env, app, f string) bool {
	t.Helper()
	c, ok := e.pol.Client(e.clientID(0, app))
	return ok && slices.Contains(c.Visible(false), f)
}

// personLines are the lines mgt-person view="fourlines" shows of u as a person from the
// gateway (displayName, jobTitle, department, and the mail as its e-mail address) for
// app, each empty when app may not see its property of others.
func personLines(t *testing.T, e *env, app string, u emulator.User) []string {
	t.Helper()
	var out []string
	for _, l := range []struct{ field, value string }{
		{"displayName", u.DisplayName}, {"jobTitle", u.JobTitle}, {"department", u.Department}, {"mail", u.Mail},
	} {
		if !seesOfOthers(t, e, app, l.field) {
			l.value = ""
		}
		out = append(out, l.value)
	}
	return out
}

// focusPicker waits for the picker's text field and clicks into it, as a user does.
func focusPicker(t *testing.T, site *mgtSite, b *browsertest.Session) {
	t.Helper()
	const field = `(function () {
		var f = document.getElementById('picker').shadowRoot?.querySelector('#people-picker-input');
		if (!f) return [];
		var r = f.getBoundingClientRect();
		return r.width > 0 ? [r.left + r.width / 2, r.top + r.height / 2] : [];
	})()`
	at := poll(t, site, b, "the picker renders", field, func(xy []float64) bool { return len(xy) == 2 })
	if err := chromedp.Do(b.Ctx, chromedp.MouseClickXY(at[0], at[1])); err != nil {
		t.Fatalf("click into the picker: %v", err)
	}
}

// personShows is what mgt-person (id "queried") shows.
type personShows struct {
	Lines    []string `json:"lines"`    // line1..line4, "" for a missing line; none without line1
	Complete bool     `json:"complete"` // the component's task has completed
}

// queriedState reads mgt-person's shadow DOM.
const queriedState = `(function () {
	var el = document.getElementById('queried');
	var root = el && el.shadowRoot;
	var s = {lines: [], complete: !!(el && el._task && el._task.status === 2)};
	var line1 = root && root.querySelector('.line1');
	if (!line1 || !line1.textContent.trim()) return s; // not found, or still loading
	['line1', 'line2', 'line3', 'line4'].forEach(function (c) {
		var n = root.querySelector('.' + c);
		s.lines.push(n ? n.textContent.trim() : '');
	});
	return s;
})()`

// pollQueried waits until mgt-person shows someone, or has completed after the gateway
// answered its last request (the /users search for query it makes when /me/people
// found no one), and returns what it shows.
func pollQueried(t *testing.T, site *mgtSite, b *browsertest.Session, query string) personShows {
	t.Helper()
	usersSearched := func() bool {
		_, status := requestAnswered(site.rec.requests(), func(u string) bool {
			return strings.HasPrefix(u, "/v1.0/users?") && strings.Contains(u, strings.ToLower(url.QueryEscape(query)))
		})
		return status != 0
	}
	return poll(t, site, b, "mgt-person settles", queriedState, func(s personShows) bool {
		return len(s.Lines) > 0 || s.Complete && usersSearched()
	})
}

// peopleShows is what mgt-people (id "people") got and shows.
type peopleShows struct {
	Loaded   bool     `json:"loaded"`   // it has its people
	IDs      []string `json:"ids"`      // the people it got (lower case)
	Shown    []string `json:"shown"`    // the names of the avatars it shows (their titles)
	Pending  int      `json:"pending"`  // avatars not rendered yet
	Overflow string   `json:"overflow"` // the "+n" of the people not shown
}

// mgtPeopleState reads mgt-people's people and shadow DOM (li > mgt-person, whose avatar
// carries the person's name as its title).
const mgtPeopleState = `(function () {
	var el = document.getElementById('people');
	var s = {loaded: false, ids: [], shown: [], pending: 0, overflow: ''};
	if (!el || !el.people || !el.shadowRoot) return s;
	s.loaded = true;
	s.ids = el.people.map(function (p) { return String(p.id).toLowerCase(); });
	el.shadowRoot.querySelectorAll('li.people-person mgt-person').forEach(function (p) {
		var t = p.shadowRoot && p.shadowRoot.querySelector('[title]');
		if (t && t.title) s.shown.push(t.title); else s.pending++;
	});
	var o = el.shadowRoot.querySelector('li.overflow');
	s.overflow = o ? o.textContent.trim() : '';
	return s;
})()`
