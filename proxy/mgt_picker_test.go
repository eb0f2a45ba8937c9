package proxy_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/proxytest"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// What Microsoft Graph Toolkit 4.6's people picker (mgt-people-picker, type "any")
// asks, read from @microsoft/mgt-components/dist/es6/components/mgt-people-picker/
// mgt-people-picker.js and graph/graph.people.js, graph/graph.user.js:
//
//   - on focus, GET /v1.0/me/people?$top=6&$filter=personType/class eq 'Person'
//     (X-PeopleQuery-QuerySources: Mailbox,Directory): its suggestions (6 is the
//     picker's default show-max);
//   - on input x (debounced 400 ms), GET /v1.0/me/people?$search="x"&$top=6&$filter=…
//     (same header): the people the gateway finds first, its directory search included;
//     a failure (403 for a client app without people.read) is caught ("intentionally
//     empty") and gives no people;
//   - then, with fewer than 6 found, GET /v1.0/users?$search="displayName:x" OR
//     "mail:x" OR "userPrincipalName:x"&$count=true&$top=6 (ConsistencyLevel:
//     eventual), no $select, x URI-encoded; its users are added unless already found
//     (by id);
//   - then GET /v1.0/groups?$filter=(startswith(displayName,'x') or
//     startswith(mailNickname,'x') or startswith(mail,'x'))&$top=6&$count=true for
//     groups; a failure is caught;
//   - then, for each suggestion, GET /v1.0/users/{id}/photo/$value (404 without a photo).
//
// So the picker finds people through /me/people when the client app may read people,
// and through /users alone when it may not (or when the gateway did not serve people).

// pickerPolicy is the test's policy: chat-web may list and search users and read
// people, but never sees a userPrincipalName.
const pickerPolicy = "testdata/policy-people-picker.yaml"

// newPickerEnv starts a gateway with pickerPolicy, without people.read unless people is
// set, that allows origins in CORS.
func newPickerEnv(t *testing.T, people bool, origins []string) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	raw, err := os.ReadFile(pickerPolicy)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if !people {
		text = strings.Replace(text, ", people.read]", "]", 1)
		if text == string(raw) {
			t.Fatalf("%s: no people.read to take away", pickerPolicy)
		}
	}
	pol, err := proxytest.PolicyFromTemplate(text, emu.Directory())
	if err != nil {
		t.Fatal(err)
	}
	return envOf(t, proxytest.New(t, proxytest.Options{Emulator: emu, Policy: pol,
		Configure: func(c *proxy.Config) { c.CORSOrigins = origins }}))
}

// TestToolkitPeoplePickerThroughGateway types into Microsoft Graph Toolkit's people
// picker, unmodified, in headless Chromium on another origin, through the gateway, for a
// client app whose policy hides userPrincipalName, with and without people.read. With
// it the picker's /me/people search finds the people (by name or mail, through the
// directory); without it that search is refused with 403 and the picker falls back to
// its /users $search, whose "userPrincipalName:x" clause the gateway drops (a hidden
// field must not find anyone). Either way the picker must show the enabled users whose
// name or mail starts with the text, and neither a deactivated one nor one whose
// userPrincipalName alone matches.
func TestToolkitPeoplePickerThroughGateway(t *testing.T) {
	for _, tc := range []struct {
		name   string
		people bool // the client app may read people
	}{{"people.read", true}, {"without people.read", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var want []emulator.User
			ta := startToolkitApps(t, []string{"chat-web"}, func(origins []string) *env {
				return newPickerEnv(t, tc.people, origins)
			}, func(e *env) emulator.UserInfo {
				want = addPickerPeople(t, e)
				return e.enabledUsers(0)[5]
			})
			site, b := ta.open(t, "chat-web", "/picker.html")
			focusPicker(t, site, b)
			got := typeIntoPicker(t, site, b, "quillon")
			viewportShot(t, b, "search")
			if !got.Open {
				t.Error("the picker's flyout is closed: the user sees no suggestions")
			}
			if names := userNames(want); !sameNames(got.Names, names) {
				t.Errorf("the picker shows %q (no-results text %q), want %q", got.Names, got.Empty, names)
			}
			status, ids := ta.tap.peopleAnswer(peopleSearchFor("quillon"))
			switch {
			case !tc.people && status != 403:
				t.Errorf("without people.read the gateway answered the picker's /me/people search with %d, want 403", status)
			case tc.people && (status != 200 || !sameNames(ids, userIDs(want))):
				t.Errorf("the gateway answered the picker's /me/people search with %d and %v, want 200 and %v", status, ids, userIDs(want))
			}
			if url, status := requestAnswered(site.rec.requests(), func(u string) bool {
				return strings.HasPrefix(u, "/v1.0/users?") && strings.Contains(u, "quillon")
			}); status != 200 {
				t.Errorf("the gateway answered the picker's search %s with %d", url, status)
			}
			site.logRequests(t)
			ta.checkAnswers(t, site, "chat-web", b)
		})
	}
}

// addPickerPeople adds the people the test searches for with "quillon": three whose
// display name starts with it (one deactivated), one whose mail alone does, and one whose
// userPrincipalName alone does. It returns the ones the picker must show.
func addPickerPeople(t *testing.T, e *env) []emulator.User {
	t.Helper()
	domain := e.tenant(0).Domain
	abbot := addPerson(t, e, "Quillon Abbot", "")
	brandt := addPerson(t, e, "Quillon Brandt", "")
	addPerson(t, e, "Quillon Cade", "", deactivated)
	mira := addPerson(t, e, "Mira Mailonly", "", func(u *emulator.User) {
		u.UserPrincipalName, u.Mail = "mira.m@"+domain, "quillon.mira@"+domain
	})
	addPerson(t, e, "Zed Hidden", "", func(u *emulator.User) {
		u.UserPrincipalName, u.Mail = "quillonz.hidden@"+domain, "zed.hidden@"+domain
	})
	return []emulator.User{abbot, brandt, mira}
}

// userNames and userIDs return the display names and the ids (lower case) of users.
func userNames(us []emulator.User) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.DisplayName)
	}
	return out
}

func userIDs(us []emulator.User) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, strings.ToLower(u.ID))
	}
	return out
}

// pickerShows is what the people picker's flyout shows.
type pickerShows struct {
	Open    bool     `json:"open"`    // the flyout is open
	Done    bool     `json:"done"`    // results or "no results" are in it
	Names   []string `json:"names"`   // the suggested people's display names
	Pending int      `json:"pending"` // suggestions without a name yet
	Empty   string   `json:"empty"`   // the "no results" text
}

// pickerState reads the picker's flyout (mgt-people-picker > li > mgt-person).
const pickerState = `(function () {
	var root = document.getElementById('picker').shadowRoot;
	var flyout = root.querySelector('mgt-flyout');
	var s = {open: !!flyout && flyout.isOpen, done: false, names: [], pending: 0, empty: ''};
	var none = root.querySelector('.search-error-text');
	if (none) { s.done = true; s.empty = none.textContent.trim(); return s; }
	var items = root.querySelectorAll('.searched-people-list-result');
	if (!items.length) return s;
	s.done = true;
	items.forEach(function (li) {
		var p = li.querySelector('mgt-person');
		var line = p && p.shadowRoot && p.shadowRoot.querySelector('.line1');
		var name = line ? line.textContent.trim() : '';
		if (name) s.names.push(name); else s.pending++;
	});
	return s;
})()`

// waitFor waits until cond holds, checking it whenever the gateway may have answered;
// after 30 s it fails the test.
func waitFor(t *testing.T, site *mgtSite, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-deadline:
			site.logRequests(t)
			t.Fatalf("%s: never happened", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pollPicker waits until the picker's flyout shows its results, every suggestion with
// its name, and returns them.
func pollPicker(t *testing.T, site *mgtSite, b *browsertest.Session) pickerShows {
	t.Helper()
	return poll(t, site, b, "the picker shows its results", pickerState, func(s pickerShows) bool {
		return s.Done && s.Pending == 0
	})
}

// typeIntoPicker types text into the focused picker as a user does and returns what it
// shows for it. The toolkit searches 400 ms after the last key; the search it shows is
// the one for the whole text: wait for the gateway's answer to its /users search (the
// picker's last request for people), then for the picker to show the outcome.
func typeIntoPicker(t *testing.T, site *mgtSite, b *browsertest.Session, text string) pickerShows {
	t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(text)); err != nil {
		t.Fatalf("type into the picker: %v", err)
	}
	waitFor(t, site, "the gateway answers the picker's /users search", func() bool {
		_, status := requestAnswered(site.rec.requests(), func(u string) bool {
			return strings.HasPrefix(u, "/v1.0/users?") && strings.Contains(u, strings.ToLower(text))
		})
		return status != 0
	})
	return pollPicker(t, site, b)
}

// pickerSelection is what the picker holds and shows as selected.
type pickerSelection struct {
	IDs   []string `json:"ids"`   // selectedPeople's ids
	Chips []string `json:"chips"` // the selected people's names as shown
}

// selectFirstSuggestion clicks the picker's first suggestion and returns the selection
// once every selected person shows a name.
func selectFirstSuggestion(t *testing.T, site *mgtSite, b *browsertest.Session) pickerSelection {
	t.Helper()
	const click = `(document.getElementById('picker').shadowRoot.querySelector('.searched-people-list-result').click(), true)`
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](click)); err != nil {
		t.Fatalf("click the suggestion: %v", err)
	}
	const selected = `(function () {
		var el = document.getElementById('picker');
		var s = {ids: (el.selectedPeople || []).map(function (p) { return p.id; }), chips: []};
		el.shadowRoot.querySelectorAll('mgt-person.person-image-selected').forEach(function (p) {
			var line = p.shadowRoot && p.shadowRoot.querySelector('.line1');
			s.chips.push(line ? line.textContent.trim() : '');
		});
		return s;
	})()`
	return poll(t, site, b, "the picker shows the selection", selected, func(s pickerSelection) bool {
		return len(s.IDs) > 0 && len(s.Chips) == len(s.IDs) && !slices.Contains(s.Chips, "")
	})
}
