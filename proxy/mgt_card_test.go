package proxy_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/proxy"
)

// What Microsoft Graph Toolkit 4.6's person card (mgt-person-card, its default sections)
// asks, read from @microsoft/mgt-components/dist/es6/components/mgt-person-card/
// mgt-person-card.graph.js: one $batch with
//
//	users/{id}?$expand=manager($levels=max;$select=P)&$select=P&$count=true  (ConsistencyLevel: eventual)
//	users/{id}/directReports?$select=P
//	users/{id}/people?$filter=personType/class eq 'Person'
//	me/messages?$search="from:{mail}"
//	me/insights/shared?$filter=lastshared/sharedby/address eq '{mail}'
//
// where P is businessPhones,companyName,department,displayName,givenName,jobTitle,mail,
// mobilePhone,officeLocation,preferredLanguage,surname,userPrincipalName,id,accountEnabled,
// then GET /beta/users/{id}/profile. Items that fail are skipped; the card keeps only the
// direct reports whose accountEnabled is true ("filter out disabled users from direct
// reports"), so a report without accountEnabled is never shown. The organization section
// shows the whole nested manager chain, the person, and the direct reports.

// cardOrg is the small organisation the person-card test adds to contoso:
//
//	Orla Chief ← Desmond Director ← Linnea Lead ← Tarquin Target ← Rhea Report, Ruben Report,
//	                                                               Gideon Gone (deactivated)
//	Orla Chief ← Dora Dormant (deactivated) ← Leif Lead ← Tamsin Target
type cardOrg struct {
	target, target2 string // object ids of the two people whose cards are opened
}

// addCardOrg adds the test organisation.
func addCardOrg(t *testing.T, e *env) cardOrg {
	t.Helper()
	chief := addPerson(t, e, "Orla Chief", "")
	director := addPerson(t, e, "Desmond Director", chief.ID)
	lead := addPerson(t, e, "Linnea Lead", director.ID)
	target := addPerson(t, e, "Tarquin Target", lead.ID)
	addPerson(t, e, "Rhea Report", target.ID)
	addPerson(t, e, "Ruben Report", target.ID)
	addPerson(t, e, "Gideon Gone", target.ID, deactivated)
	dormant := addPerson(t, e, "Dora Dormant", chief.ID, deactivated)
	lead2 := addPerson(t, e, "Leif Lead", dormant.ID)
	target2 := addPerson(t, e, "Tamsin Target", lead2.ID)
	return cardOrg{target: target.ID, target2: target2.ID}
}

// TestToolkitPersonCardOrgThroughGateway opens Microsoft Graph Toolkit's person card,
// unmodified and with its default sections, in headless Chromium on another origin, for
// users of a small test organisation, through the gateway (client intranet-directory,
// which may read managers and direct reports). It opens the card's organization tab and
// asserts what the card shows: the management chain from the top down (it ends before a
// deactivated manager: the gateway shows nobody deactivated), the person, and the
// enabled direct reports only. It also asserts that the gateway answered the card's
// $expand=manager($levels=max;…) and directReports items with 200 and nothing with a 5xx.
func TestToolkitPersonCardOrgThroughGateway(t *testing.T) {
	var org cardOrg
	site := startMGTSite(t, func(origin string) (*env, string) {
		e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{origin} })
		org = addCardOrg(t, e)
		return e, e.token(0, "intranet-directory", e.enabledUsers(0)[5])
	})
	cases := []struct {
		name, user, person string
		managers, reports  []string // managers from the top down
	}{
		{"whole chain and enabled reports", org.target, "Tarquin Target",
			[]string{"Orla Chief", "Desmond Director", "Linnea Lead"}, []string{"Rhea Report", "Ruben Report"}},
		{"chain ends before a deactivated manager", org.target2, "Tamsin Target",
			[]string{"Leif Lead"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := openOrgTab(t, site, tc.user)
			if got.Person != tc.person {
				t.Errorf("the card's organization tab centres on %q, want %q", got.Person, tc.person)
			}
			if !slicesEqual(got.Managers, tc.managers) {
				t.Errorf("the card shows the management chain %q, want %q", got.Managers, tc.managers)
			}
			if !sameNames(got.Reports, tc.reports) {
				t.Errorf("the card shows the direct reports %q, want %q", got.Reports, tc.reports)
			}
			for _, hidden := range []string{"Gideon Gone", "Dora Dormant"} {
				if strings.Contains(got.Text, hidden) {
					t.Errorf("the card shows the deactivated %s", hidden)
				}
			}
			checkCardRequests(t, site, tc.user)
		})
	}
}

// orgTab is what the person card's organization tab shows.
type orgTab struct {
	Loaded   bool     `json:"loaded"`   // the card has loaded its data
	Tab      bool     `json:"tab"`      // it has an organization tab
	Org      bool     `json:"org"`      // the organization section is open
	Managers []string `json:"managers"` // the managers' display names, top down
	Person   string   `json:"person"`   // the person the card is about
	Reports  []string `json:"reports"`  // the direct reports' display names
	Pending  int      `json:"pending"`  // mgt-person elements without a name yet
	Text     string   `json:"text"`     // the card's and the section's text
}

// cardState reads the person card's shadow DOM (mgt-person-card > mgt-organization >
// mgt-person, each in its own shadow root).
const cardState = `(function () {
	var card = document.getElementById('card');
	var root = card && card.shadowRoot;
	var s = {loaded: false, tab: false, org: false, managers: [], person: '', reports: [], pending: 0, text: ''};
	function done() { s.text = s.text.replace(/\s+/g, ' ').trim(); return s; }
	if (!root) return s;
	// Loaded: the expanded card shows its sections, or its task failed, or a whole
	// loadState ran (before the provider signs in, the task completes with nothing).
	var task = card._task;
	s.loaded = !!root.querySelector('.section-nav') ||
		!!task && (task.status === 3 || task.status === 2 && card._isStateLoading === false);
	s.tab = !!root.querySelector('#mgt-organization-Tab');
	s.text = root.textContent;
	var org = root.querySelector('mgt-organization');
	var or = org && org.shadowRoot;
	if (!or || !or.querySelector('.org-member--target')) return done();
	s.org = true;
	s.text += ' ' + or.textContent;
	or.querySelectorAll('.org-member').forEach(function (m) {
		var p = m.querySelector('mgt-person');
		var line = p && p.shadowRoot && p.shadowRoot.querySelector('.line1');
		var name = line ? line.textContent.trim() : '';
		if (!name) { s.pending++; return; }
		s.text += ' ' + p.shadowRoot.textContent;
		if (m.classList.contains('org-member--target')) s.person = name;
		else if (m.classList.contains('org-member--direct-report')) s.reports.push(name);
		else s.managers.push(name);
	});
	return done();
})()`

// openOrgTab opens the card of user in a fresh browser, waits until it has loaded,
// clicks its organization tab as a user would, and returns what the tab shows once
// every person in it has rendered.
func openOrgTab(t *testing.T, site *mgtSite, user string) orgTab {
	t.Helper()
	site.rec.reset()
	b := site.open(t, "/card.html?user="+user)
	st := poll(t, site, b, "the card loads", cardState, func(s orgTab) bool { return s.Loaded })
	if !st.Tab {
		site.logRequests(t)
		t.Fatalf("the card has no organization tab (it shows %q); console %q", st.Text, b.Console())
	}
	const click = `(document.getElementById('card').shadowRoot.querySelector('#mgt-organization-Tab').click(), true)`
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](click)); err != nil {
		t.Fatalf("click the organization tab: %v", err)
	}
	st = poll(t, site, b, "the organization tab renders", cardState, func(s orgTab) bool {
		return s.Org && s.Person != "" && s.Pending == 0
	})
	if shot, err := b.Screenshot("mgt-card", t.Name()); err == nil {
		t.Logf("screenshot: %s", shot)
	}
	checkConsole(t, b)
	return st
}

// checkCardRequests asserts that the gateway answered the card's organization items
// (the manager chain and the direct reports of user) with 200 and nothing with a 5xx, and
// logs every request for the record.
func checkCardRequests(t *testing.T, site *mgtSite, user string) {
	t.Helper()
	site.logRequests(t)
	site.checkNoServerErrors(t)
	seen := site.rec.requests()
	prefix := "/users/" + strings.ToLower(user)
	for _, want := range []struct {
		what  string
		match func(string) bool
	}{
		{"the manager chain ($expand=manager($levels=max;$select=…))", func(u string) bool {
			return strings.HasPrefix(u, prefix+"?") && strings.Contains(u, "$expand=manager(")
		}},
		{"the direct reports", func(u string) bool { return strings.HasPrefix(u, prefix+"/directreports?") }},
	} {
		switch url, status := itemAnswered(seen, want.match); {
		case status == 0:
			t.Errorf("the card's $batch did not ask for %s", want.what)
		case status != 200:
			t.Errorf("the gateway answered %s (%s) with %d", want.what, url, status)
		}
	}
}

// slicesEqual reports whether a and b hold the same strings in the same order (nil and
// empty alike).
func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
