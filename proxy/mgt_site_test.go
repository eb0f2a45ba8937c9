package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// mgtSite is Microsoft Graph Toolkit's test pages (testdata/mgt: card.html, picker.html)
// served over TLS from their own origin, and a gateway behind a recording TLS server
// that allows that origin (CORS), as a browser application on another origin uses it.
type mgtSite struct {
	e    *env
	rec  *recorder
	base string // the pages' origin, "https://127.0.0.1:port"
}

// startMGTSite bundles the toolkit and serves its pages. start gets the pages' origin,
// starts a gateway that allows it in CORS, prepares the directory and returns the
// gateway and the token the pages send.
func startMGTSite(t *testing.T, start func(origin string) (*env, string)) *mgtSite {
	t.Helper()
	browsertest.RequireChromium(t) // skip before the npm install when there is no browser
	bundle := bundleMGT(t)
	page := httptest.NewUnstartedServer(nil)
	e, token := start("https://" + page.Listener.Addr().String())
	rec := &recorder{next: e.srv.Handler()}
	gw := httptest.NewTLSServer(rec)
	t.Cleanup(gw.Close)
	cfg, _ := json.Marshal(map[string]string{"gateway": gw.URL, "token": token})
	pages := map[string][]byte{}
	for _, name := range []string{"card.html", "picker.html"} {
		b, err := os.ReadFile(filepath.Join(mgtDir, name))
		if err != nil {
			t.Fatal(err)
		}
		pages["/"+name] = b
	}
	page.Config.Handler = pageHandler(bundle, cfg, pages)
	page.StartTLS()
	t.Cleanup(page.Close)
	return &mgtSite{e: e, rec: rec, base: page.URL}
}

// open starts a fresh headless Chromium (no toolkit cache from an earlier page) that
// trusts the test's self-signed certificates, and opens the page at path.
func (s *mgtSite) open(t *testing.T, path string) *browsertest.Session {
	t.Helper()
	b := browsertest.Start(t, 1000, 900, chromedp.Flag("ignore-certificate-errors", true))
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(s.base+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return b
}

// poll evaluates the JavaScript expression js in the page until its value satisfies
// done, and returns that value; after 30 s (the toolkit never settled) it fails the
// test with the last value, the browser's console and the gateway's log.
func poll[T any](t *testing.T, s *mgtSite, b *browsertest.Session, what, js string, done func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	var last T
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
		if err == nil {
			last = v
			if done(v) {
				return v
			}
		}
		select {
		case <-ctx.Done():
			s.logRequests(t)
			t.Fatalf("%s: the page never got there; last state %+v (err %v), console %q", what, last, err, b.Console())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logRequests logs every request the gateway answered, with batch items, as sent.
func (s *mgtSite) logRequests(t *testing.T) {
	t.Helper()
	for _, r := range s.rec.requests() {
		t.Logf("gateway: %s %s -> %d", r.Method, r.URI, r.Status)
		for _, it := range r.Items {
			t.Logf("  batch item %s -> %d %s", it.URL, it.Status, it.Code)
		}
	}
}

// checkNoServerErrors fails the test for any answer of the gateway with a 5xx status,
// direct or in a $batch: whatever the toolkit asks, the gateway answers it or refuses it.
func (s *mgtSite) checkNoServerErrors(t *testing.T) {
	t.Helper()
	for _, r := range s.rec.requests() {
		if r.Status >= 500 {
			t.Errorf("%s %s: gateway answered %d", r.Method, r.Path, r.Status)
		}
		for _, it := range r.Items {
			if it.Status >= 500 {
				t.Errorf("batch item %s: gateway answered %d %s", it.URL, it.Status, it.Code)
			}
		}
	}
}

// checkConsole fails the test for uncaught exceptions and for requests the browser
// blocked (CORS): the toolkit catches failed requests, so a blocked one only shows
// there. Other console errors (the browser's "Failed to load resource" for the
// requests the gateway refuses) are logged.
func checkConsole(t *testing.T, b *browsertest.Session) {
	t.Helper()
	for _, c := range b.Console() {
		if strings.Contains(c, "CORS") || strings.Contains(c, "Uncaught") {
			t.Errorf("browser console: %s", c)
		} else {
			t.Logf("browser console: %s", c)
		}
	}
}

// addPerson adds an enabled user (unless disabled) of tenant 0 named display, with a
// userPrincipalName and mail derived from the name (or upn and mail when given), and
// manager as their manager ("" for none).
func addPerson(t *testing.T, e *env, display, manager string, opts ...func(*emulator.User)) emulator.User {
	t.Helper()
	local := strings.ToLower(strings.ReplaceAll(display, " ", "."))
	addr := local + "@" + e.tenant(0).Domain
	u := emulator.User{DisplayName: display, UserPrincipalName: addr, Mail: addr, JobTitle: "Toolkit Test",
		Department: "Testing", ManagerID: manager, AccountEnabled: true}
	for _, o := range opts {
		o(&u)
	}
	added, err := e.emu.AddUser(e.tenant(0).ID, u)
	if err != nil {
		t.Fatalf("add user: %v", err)
	}
	return added
}

// deactivated makes addPerson add a deactivated account.
func deactivated(u *emulator.User) { u.AccountEnabled = false }

// sameNames reports whether got and want hold the same names, in any order.
func sameNames(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// itemAnswered reports the status of the first batch item whose URL, lower-cased,
// satisfies match (0 when there is none).
func itemAnswered(seen []seenRequest, match func(url string) bool) (string, int) {
	for _, s := range seen {
		for _, it := range s.Items {
			if match(strings.ToLower(it.URL)) {
				return it.URL, it.Status
			}
		}
	}
	return "", 0
}

// requestAnswered reports the first direct GET request (not its CORS preflight) whose
// URI, lower-cased, satisfies match, and its status (0 when there is none).
func requestAnswered(seen []seenRequest, match func(uri string) bool) (string, int) {
	for _, s := range seen {
		if s.Method == http.MethodGet && match(strings.ToLower(s.URI)) {
			return s.URI, s.Status
		}
	}
	return "", 0
}
