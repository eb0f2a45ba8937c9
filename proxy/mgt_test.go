package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// TestGraphToolkitThroughGateway loads Microsoft Graph Toolkit's web components,
// unmodified, in headless Chromium from a page on another origin, with the toolkit's
// ProxyProvider pointed at the gateway (over TLS, CORS allowed for the page's origin) and a
// chat-web token. It waits until <mgt-person person-query="me" show-presence> and
// <mgt-person user-id="…"> show the users' display names, and asserts that the gateway
// answered every request of the toolkit (its $batch with photos, /beta presence) without
// an error other than Graph's 404 ImageNotFound for a user without a photo, and that the
// browser logged no errors.
func TestGraphToolkitThroughGateway(t *testing.T) {
	browsertest.RequireChromium(t) // skip before the npm install when there is no browser
	bundle := bundleMGT(t)

	page := httptest.NewUnstartedServer(nil)
	origin := "https://" + page.Listener.Addr().String()
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{origin} })
	rec := &recorder{next: e.srv.Handler()}
	gw := httptest.NewTLSServer(rec)
	t.Cleanup(gw.Close)

	me := noPhotoUser(t, e) // the toolkit gets 404 ImageNotFound and draws initials
	colleague := photoUser(t, e, me)
	meName, colName := displayName(t, e, me.ID), displayName(t, e, colleague.ID)
	index, err := os.ReadFile(filepath.Join(mgtDir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]string{"gateway": gw.URL, "token": e.token(0, "chat-web", me), "colleagueId": colleague.ID})
	page.Config.Handler = pageHandler(bundle, cfg, map[string][]byte{"/{$}": index})
	page.StartTLS()
	t.Cleanup(page.Close)

	colleagueID := strings.ToLower(colleague.ID)
	photosIn := func() bool { return photosAnswered(rec.requests(), colleagueID) }
	res, err := runToolkitPage(t, page.URL+"/", meName, colName, photosIn)
	if err != nil {
		for _, s := range rec.requests() {
			t.Logf("gateway: %s %s -> %d %+v", s.Method, s.Path, s.Status, s.Items)
		}
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", res.screenshot)
	for _, c := range res.console {
		t.Errorf("browser console: %s", c)
	}
	checkToolkitRequests(t, rec.requests(), colleagueID)
	if !res.presence {
		t.Errorf("the person-query=me card shows no presence badge; shadow DOM text %q", res.meText)
	}
}

// noPhotoUser returns an enabled user without a photo.
func noPhotoUser(t *testing.T, e *env) emulator.UserInfo {
	t.Helper()
	for _, u := range e.enabledUsers(0) {
		if full, ok := e.emu.User(e.tenant(0).ID, u.ID); ok && !full.HasPhoto {
			return u
		}
	}
	t.Fatal("no enabled user without a photo in the fixture")
	return emulator.UserInfo{}
}

// displayName is the fixture's display name of a user.
func displayName(t *testing.T, e *env, id string) string {
	t.Helper()
	u, ok := e.emu.User(e.tenant(0).ID, id)
	if !ok || u.DisplayName == "" {
		t.Fatalf("fixture user without a display name")
	}
	return u.DisplayName
}

// pageHandler serves the test pages (by mux pattern path: "/{$}", "/card.html"), the
// toolkit bundle and the pages' configuration.
func pageHandler(bundle, cfg []byte, pages map[string][]byte) http.Handler {
	mux := http.NewServeMux()
	serve := func(path, ctype string, b []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(b)
		})
	}
	for path, b := range pages {
		serve(path, "text/html; charset=utf-8", b)
	}
	serve("/mgt.js", "text/javascript; charset=utf-8", bundle)
	serve("/config.json", "application/json", cfg)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

// checkToolkitRequests asserts that the toolkit's requests reached the gateway and were
// answered without errors (but 404 ImageNotFound for the caller's missing photo): the colleague's
// profile and photo in a $batch, and the caller's presence (mgt 4.6 asks /v1.0, older
// releases /beta; the gateway serves both).
func checkToolkitRequests(t *testing.T, seen []seenRequest, colleagueID string) {
	t.Helper()
	var colleague, colleaguePhoto, presence, meNoPhoto bool
	for _, s := range seen {
		t.Logf("%s %s -> %d", s.Method, s.Path, s.Status)
		lp := strings.ToLower(s.Path)
		if strings.HasSuffix(lp, "/me/presence") && s.Method == http.MethodGet && s.Status == http.StatusOK {
			presence = true
		}
		if s.Status >= 400 {
			t.Errorf("%s %s: gateway answered %d", s.Method, s.Path, s.Status)
		}
		for _, it := range s.Items {
			t.Logf("  batch item %s -> %d %s", it.URL, it.Status, it.Code)
			if it.Status == 404 && it.Code == "ImageNotFound" && strings.HasPrefix(strings.ToLower(it.URL), "/me/photo") {
				meNoPhoto = true
			} else if it.Status >= 400 {
				t.Errorf("batch item %s: %d %s", it.URL, it.Status, it.Code)
			}
			if it.Status != http.StatusOK {
				continue
			}
			switch u := strings.ToLower(it.URL); {
			case strings.HasPrefix(u, "/users/"+colleagueID+"/photo/$value"):
				colleaguePhoto = true
			case strings.HasPrefix(u, "/users/"+colleagueID+"?"):
				colleague = true
			case strings.Contains(u, "presence"):
				presence = true
			}
		}
	}
	if !colleague || !colleaguePhoto {
		t.Errorf("$batch answered the colleague's profile %t and photo %t, want both", colleague, colleaguePhoto)
	}
	if !presence {
		t.Error("the toolkit's presence request was not answered")
	}
	if !meNoPhoto {
		t.Error("the caller has no photo, but no $batch item answered /me/photo with 404 ImageNotFound")
	}
}

// toolkitPage is what the browser showed.
type toolkitPage struct {
	meText, colleagueText string
	presence              bool
	console               []string
	screenshot            string
}

// personState reads both cards' shadow DOM.
const personState = `(function () {
	function text(id) {
		var el = document.getElementById(id);
		return el && el.shadowRoot ? el.shadowRoot.textContent.replace(/\s+/g, ' ').trim() : '';
	}
	var me = document.getElementById('me');
	return {
		me: text('me'),
		colleague: text('colleague'),
		presence: !!(me && me.shadowRoot && me.shadowRoot.querySelector('[class*="presence"]'))
	};
})()`

type personStateResult struct {
	Me        string `json:"me"`
	Colleague string `json:"colleague"`
	Presence  bool   `json:"presence"`
}

// runToolkitPage opens pageURL in headless Chromium (trusting the test's self-signed
// certificates), waits until both cards show the expected names, photosIn reports the
// photos answered and the colleague's card shows its photo, and saves a screenshot.
func runToolkitPage(t *testing.T, pageURL, meName, colName string, photosIn func() bool) (toolkitPage, error) {
	t.Helper()
	// The test servers' certificates are self-signed.
	browser := browsertest.Start(t, 900, 500, chromedp.Flag("ignore-certificate-errors", true))
	ctx := browser.Ctx

	names, _ := json.Marshal([]string{meName, colName})
	rendered := fmt.Sprintf(`(function (n) { var s = %s; return s.me.indexOf(n[0]) >= 0 && s.colleague.indexOf(n[1]) >= 0 && s.presence; })(%s)`, personState, names)
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(pageURL)); err != nil {
		return toolkitPage{}, fmt.Errorf("open the page: %w", err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](rendered, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		st, _ := chromedp.Run(ctx, chromedp.Evaluate[personStateResult](personState))
		return toolkitPage{}, fmt.Errorf("the toolkit did not render both people (%+v, console %q): %w", st, browser.Console(), err)
	}
	// Photos load after the names: wait for the gateway's answers, then for the image.
	for !photosIn() {
		select {
		case <-tctx.Done():
			return toolkitPage{}, fmt.Errorf("the gateway did not answer the toolkit's photo requests: %w", tctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](photoShown, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		return toolkitPage{}, fmt.Errorf("the colleague's card shows no photo (console %q): %w", browser.Console(), err)
	}
	st, err := chromedp.Run(tctx, chromedp.Evaluate[personStateResult](personState))
	if err != nil {
		return toolkitPage{}, fmt.Errorf("read the cards: %w", err)
	}
	res := toolkitPage{meText: st.Me, colleagueText: st.Colleague, presence: st.Presence}
	if res.screenshot, err = browser.Screenshot("mgt", t.Name()); err != nil {
		t.Errorf("screenshot: %v", err)
	}
	res.console = browser.Console()
	return res, nil
}
