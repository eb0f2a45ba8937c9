package proxy_test

import (
	"os"
	"path/filepath"
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
//     (same header); a failure is caught ("intentionally empty") and gives no people;
//   - then, with fewer than 6 found, GET /v1.0/users?$search="displayName:x" OR
//     "mail:x" OR "userPrincipalName:x"&$count=true&$top=6 (ConsistencyLevel:
//     eventual), no $select, x URI-encoded; its users are added;
//   - then GET /v1.0/groups?$filter=(startswith(displayName,'x') or
//     startswith(mailNickname,'x') or startswith(mail,'x'))&$top=6&$count=true for
//     groups; a failure is caught;
//   - then, for each suggestion, GET /v1.0/users/{id}/photo/$value (404 without a photo).
//
// So a gateway that does not serve people (issue 11) or groups still gives a working
// picker, as long as /users?$search answers.

// pickerPolicy is the test's policy: chat-web may list users but never sees a
// userPrincipalName.
const pickerPolicy = "testdata/policy-people-picker.yaml"

// newPickerEnv starts a gateway with pickerPolicy that allows origin in CORS.
func newPickerEnv(t *testing.T, origin string) *env {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	pol, err := proxytest.PolicyFile(pickerPolicy, emu.Directory())
	if err != nil {
		t.Fatal(err)
	}
	return envOf(t, proxytest.New(t, proxytest.Options{Emulator: emu, Policy: pol,
		Configure: func(c *proxy.Config) { c.CORSOrigins = []string{origin} }}))
}

// TestToolkitPeoplePickerThroughGateway types into Microsoft Graph Toolkit's people
// picker, unmodified, in headless Chromium on another origin, through the gateway, for a
// client app whose policy hides userPrincipalName. The gateway does not serve
// /me/people, so the picker falls back to its /users $search, whose "userPrincipalName:x"
// clause the gateway drops (a hidden field must not find anyone). The picker must show
// the enabled users whose name or mail starts with the text, and neither a deactivated
// one nor one whose userPrincipalName alone matches.
func TestToolkitPeoplePickerThroughGateway(t *testing.T) {
	site := startMGTSite(t, func(origin string) (*env, string) {
		e := newPickerEnv(t, origin)
		addPickerPeople(t, e)
		return e, e.token(0, "chat-web", e.enabledUsers(0)[5])
	})
	b := site.open(t, "/picker.html")
	// Focus the picker's text field and type, as a user does; the toolkit searches 400 ms
	// after the last key.
	poll(t, site, b, "the picker renders", `!!document.getElementById('picker').shadowRoot?.querySelector('#people-picker-input')`,
		func(ok bool) bool { return ok })
	const focus = `(document.getElementById('picker').shadowRoot.querySelector('#people-picker-input').focus(), true)`
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](focus)); err != nil {
		t.Fatalf("focus the picker: %v", err)
	}
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent("quillon")); err != nil {
		t.Fatalf("type into the picker: %v", err)
	}
	// The search the picker shows is the one for the whole text: wait for the gateway's
	// answer to it, then for the picker to show its outcome.
	searched := func() bool {
		_, status := requestAnswered(site.rec.requests(), func(u string) bool {
			return strings.HasPrefix(u, "/v1.0/users?") && strings.Contains(u, "quillon")
		})
		return status != 0
	}
	waitFor(t, site, "the gateway answers the picker's /users search", searched)
	got := poll(t, site, b, "the picker shows its results", pickerState, func(s pickerShows) bool {
		return s.Done && s.Pending == 0
	})
	viewportShot(t, b)
	checkConsole(t, b)
	if !got.Open {
		t.Error("the picker's flyout is closed: the user sees no suggestions")
	}
	site.logRequests(t)
	site.checkNoServerErrors(t)
	if want := []string{"Quillon Abbot", "Quillon Brandt", "Mira Mailonly"}; !sameNames(got.Names, want) {
		t.Errorf("the picker shows %q (no-results text %q), want %q", got.Names, got.Empty, want)
	}
	if url, status := requestAnswered(site.rec.requests(), func(u string) bool {
		return strings.HasPrefix(u, "/v1.0/users?") && strings.Contains(u, "quillon")
	}); status != 200 {
		t.Errorf("the gateway answered the picker's search %s with %d", url, status)
	}
}

// addPickerPeople adds the people the test searches for with "quillon": three whose
// display name starts with it (one deactivated), one whose mail alone does, and one whose
// userPrincipalName alone does.
func addPickerPeople(t *testing.T, e *env) {
	t.Helper()
	domain := e.tenant(0).Domain
	addPerson(t, e, "Quillon Abbot", "")
	addPerson(t, e, "Quillon Brandt", "")
	addPerson(t, e, "Quillon Cade", "", deactivated)
	addPerson(t, e, "Mira Mailonly", "", func(u *emulator.User) {
		u.UserPrincipalName, u.Mail = "mira.m@"+domain, "quillon.mira@"+domain
	})
	addPerson(t, e, "Zed Hidden", "", func(u *emulator.User) {
		u.UserPrincipalName, u.Mail = "quillonz.hidden@"+domain, "zed.hidden@"+domain
	})
}

// viewportShot saves a screenshot of the viewport (a full-page screenshot resizes the
// window, which closes the picker's flyout) and logs its path.
func viewportShot(t *testing.T, b *browsertest.Session) {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	shot := filepath.Join(browsertest.ArtifactDir(), "graphgate-mgt-picker-"+t.Name()+".png")
	if err := os.WriteFile(shot, png, 0o644); err == nil {
		t.Logf("screenshot: %s", shot)
	}
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
