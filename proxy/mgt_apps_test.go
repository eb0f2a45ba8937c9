package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/graph/spec"
	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// toolkitPages are the test pages (testdata/mgt) a toolkitApps serves.
var toolkitPages = []string{"picker.html", "person-query.html", "people.html"}

// toolkitApps is Microsoft Graph Toolkit's test pages for several client apps at once:
// one gateway, behind a recorder and a tap that keeps every answer's body, and for each
// client app its own page origin (allowed in CORS), whose /config.json holds a token of
// that app for the same signed-in user.
type toolkitApps struct {
	e      *env
	tap    *bodyTap
	caller emulator.UserInfo
	sites  map[string]*mgtSite // by client app name
}

// startToolkitApps bundles the toolkit, starts one page origin per client app, calls
// start with every origin to start the gateway, then prepare to add to the directory
// and name the signed-in user, and serves the pages.
func startToolkitApps(t *testing.T, apps []string, start func(origins []string) *env,
	prepare func(*env) emulator.UserInfo) *toolkitApps {
	t.Helper()
	browsertest.RequireChromium(t) // skip before the npm install when there is no browser
	bundle := bundleMGT(t)
	pageSrv := make([]*httptest.Server, len(apps))
	origins := make([]string, len(apps))
	for i := range apps {
		pageSrv[i] = httptest.NewUnstartedServer(nil)
		origins[i] = "https://" + pageSrv[i].Listener.Addr().String()
	}
	e := start(origins)
	ta := &toolkitApps{e: e, tap: &bodyTap{next: e.srv.Handler()}, caller: prepare(e), sites: map[string]*mgtSite{}}
	rec := &recorder{next: ta.tap}
	gw := httptest.NewTLSServer(rec)
	t.Cleanup(gw.Close)
	pages := map[string][]byte{}
	for _, name := range toolkitPages {
		b, err := os.ReadFile(filepath.Join(mgtDir, name))
		if err != nil {
			t.Fatal(err)
		}
		pages["/"+name] = b
	}
	for i, app := range apps {
		cfg, _ := json.Marshal(map[string]string{"gateway": gw.URL, "token": e.token(0, app, ta.caller)})
		pageSrv[i].Config.Handler = pageHandler(bundle, cfg, pages)
		pageSrv[i].StartTLS()
		t.Cleanup(pageSrv[i].Close)
		ta.sites[app] = &mgtSite{e: e, rec: rec, base: pageSrv[i].URL}
	}
	return ta
}

// open forgets the requests seen so far and opens path, as app, in a fresh browser.
func (ta *toolkitApps) open(t *testing.T, app, path string) (*mgtSite, *browsertest.Session) {
	t.Helper()
	site := ta.sites[app]
	site.rec.reset()
	ta.tap.reset()
	return site, site.open(t, path)
}

// checkAnswers makes the checks every toolkit page must pass, whatever it shows: no
// answer of the gateway with a 5xx, no blocked request or uncaught exception in the
// browser, no answer showing app a property of another user its policy hides, and no
// contact or outside person in any answer or on the page.
func (ta *toolkitApps) checkAnswers(t *testing.T, site *mgtSite, app string, b *browsertest.Session) {
	t.Helper()
	site.checkNoServerErrors(t)
	checkConsole(t, b)
	ta.checkHidden(t, app)
	text, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](pageDeepText))
	if err != nil {
		t.Fatalf("read the page's text: %v", err)
	}
	for _, c := range ta.e.emu.Contacts(ta.e.tenant(0).ID) {
		for _, s := range append([]string{c.DisplayName}, c.Emails...) {
			if ta.tap.anyString(func(v string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(s)) }) {
				t.Errorf("an answer of the gateway holds a contact (%s person)", c.Subclass)
			}
			if strings.Contains(text, s) {
				t.Errorf("the page shows a contact (%s person)", c.Subclass)
			}
		}
	}
}

// checkHidden fails the test for every answer that shows, of a user other than the
// caller, a member named in hiddenOfOthers(app).
func (ta *toolkitApps) checkHidden(t *testing.T, app string) {
	t.Helper()
	hidden := hiddenOfOthers(t, ta.e, app)
	caller := strings.ToLower(ta.caller.ID)
	for _, r := range ta.tap.answers() {
		walkJSONObjects(r.json(), func(o map[string]any) {
			id, _ := o["id"].(string)
			if id == "" || strings.ToLower(id) == caller {
				return
			}
			for k := range o {
				if hidden[k] {
					t.Errorf("%s %s: the answer shows %q of another user, which %s may not see", r.Method, r.URI, k, app)
				}
			}
		})
	}
}

// hiddenOfOthers returns the JSON members an answer to app must never hold for another
// user: each property the gateway reads for some client app (Policy.UpstreamFields)
// that app may not see of others, but for those with one value for all
// (policy.ConstantValue), and each person property made only of such properties or
// never served (policy.PersonSources).
func hiddenOfOthers(t *testing.T, e *env, app string) map[string]bool {
	t.Helper()
	c, ok := e.pol.Client(e.clientID(0, app))
	if !ok {
		t.Fatalf("no policy for %s", app)
	}
	visible := c.Visible(false)
	hidden := map[string]bool{}
	for _, f := range e.pol.UpstreamFields() {
		if _, constant := policy.ConstantValue(f); !constant && !slices.Contains(visible, f) {
			hidden[f] = true
		}
	}
	for _, p := range spec.PersonProperties() {
		src, served := policy.PersonSources(p)
		shown := served && len(src) == 0 // personType
		for _, f := range src {
			shown = shown || slices.Contains(visible, f)
		}
		if !shown {
			hidden[p] = true
		}
	}
	return hidden
}

// walkJSONObjects calls f for every JSON object in v, nested ones included.
func walkJSONObjects(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, e := range x {
			walkJSONObjects(e, f)
		}
	case []any:
		for _, e := range x {
			walkJSONObjects(e, f)
		}
	}
}

// pageDeepText is the page's text, with the text of every shadow root in it.
const pageDeepText = `(function () {
	var out = [];
	(function walk(n) {
		if (n.nodeType === 3) out.push(n.textContent);
		if (n.shadowRoot) walk(n.shadowRoot);
		n.childNodes.forEach(walk);
	})(document.body);
	return out.join(' ').replace(/\s+/g, ' ');
})()`

// tapped is one answer of the gateway, as the browser received it.
type tapped struct {
	Method, URI string
	Status      int
	Body        []byte
}

// json decodes the answer's body (nil when it is not JSON).
func (r tapped) json() any {
	var v any
	if json.Unmarshal(r.Body, &v) != nil {
		return nil
	}
	return v
}

// bodyTap wraps the gateway's handler and keeps every answer with its body.
type bodyTap struct {
	next http.Handler
	mu   sync.Mutex
	seen []tapped
}

func (b *bodyTap) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r := tapped{Method: req.Method, URI: req.URL.RequestURI()}
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK, keep: true}
	b.next.ServeHTTP(cw, req)
	r.Status, r.Body = cw.status, cw.body.Bytes()
	b.mu.Lock()
	b.seen = append(b.seen, r)
	b.mu.Unlock()
}

// reset forgets the answers kept so far.
func (b *bodyTap) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = nil
}

// answers returns the answers kept so far.
func (b *bodyTap) answers() []tapped {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.seen)
}

// anyString reports whether some string in some JSON answer satisfies match.
func (b *bodyTap) anyString(match func(string) bool) bool {
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			found = found || match(x)
		case map[string]any:
			for k, e := range x {
				found = found || match(k)
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range b.answers() {
		walk(r.json())
	}
	return found
}

// peopleAnswer returns the status and the people's ids (lower case) of the last GET
// answered on /v1.0/me/people whose decoded query satisfies match; status 0 when there
// was none.
func (b *bodyTap) peopleAnswer(match func(query string) bool) (int, []string) {
	answers := b.answers()
	for i := len(answers) - 1; i >= 0; i-- {
		r := answers[i]
		path, raw, _ := strings.Cut(r.URI, "?")
		query, err := url.QueryUnescape(raw)
		if err != nil || r.Method != http.MethodGet || !strings.EqualFold(path, "/v1.0/me/people") || !match(query) {
			continue
		}
		var body struct{ Value []struct{ ID string } }
		_ = json.Unmarshal(r.Body, &body)
		ids := []string{}
		for _, p := range body.Value {
			ids = append(ids, strings.ToLower(p.ID))
		}
		return r.Status, ids
	}
	return 0, nil
}

// viewportShot saves a screenshot of the viewport (a full-page screenshot resizes the
// window, which closes the picker's flyout) as graphgate-mgt-<test>-<state>.png in
// browsertest.ArtifactDir and logs its path.
func viewportShot(t *testing.T, b *browsertest.Session, state string) {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	safe := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name() + "-" + state)
	shot := filepath.Join(browsertest.ArtifactDir(), "graphgate-mgt-"+safe+".png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", shot)
}
