package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// spiedRequest is one request that reached the gateway from the browser.
type spiedRequest struct {
	Method, Path                 string
	RetryAttempt, AskedHeaders   string // Retry-Attempt; Access-Control-Request-Headers of a preflight
	QuerySources, Consistency    string // X-PeopleQuery-QuerySources; ConsistencyLevel
	Status                       int
	ThrottledByGateway, Throttle bool // answered with the gateway's own 429; a request the spy throttles
}

// gatewaySpy wraps the gateway's handler and records every request that reaches it. The
// first attempt of the throttled caller's GET /v1.0/me (no Retry-Attempt) is answered
// with the gateway's own 429: the spy sends that request on to the gateway until the
// caller's per-user rate limit refuses it, and hands the browser that answer.
type gatewaySpy struct {
	next      http.Handler
	throttled string // the Authorization header of the throttled caller
	mu        sync.Mutex
	seen      []spiedRequest
}

func (s *gatewaySpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sr := spiedRequest{Method: r.Method, Path: r.URL.Path, RetryAttempt: r.Header.Get("Retry-Attempt"),
		AskedHeaders: r.Header.Get("Access-Control-Request-Headers"), QuerySources: r.Header.Get("X-PeopleQuery-QuerySources"),
		Consistency: r.Header.Get("ConsistencyLevel")}
	sr.Throttle = r.Method == http.MethodGet && r.URL.Path == "/v1.0/me" && sr.RetryAttempt == "" &&
		r.Header.Get("Authorization") == s.throttled
	if sr.Throttle {
		sr.Status, sr.ThrottledByGateway = s.untilThrottled(w, r)
	} else {
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		s.next.ServeHTTP(cw, r)
		sr.Status = cw.status
	}
	s.mu.Lock()
	s.seen = append(s.seen, sr)
	s.mu.Unlock()
}

// untilThrottled repeats r (a GET) to the gateway until it answers 429 (spending the
// caller's burst; at most 200 times) and copies that last answer to w.
func (s *gatewaySpy) untilThrottled(w http.ResponseWriter, r *http.Request) (int, bool) {
	var rec *httptest.ResponseRecorder
	for range 200 {
		rec = httptest.NewRecorder()
		s.next.ServeHTTP(rec, r.Clone(r.Context()))
		if rec.Code == http.StatusTooManyRequests {
			break
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	return rec.Code, rec.Code == http.StatusTooManyRequests
}

func (s *gatewaySpy) requests() []spiedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// browserResult is what testdata/jsclient/browser.js leaves in window.graphgateResult.
type browserResult struct {
	Error      string         `json:"error"`
	StatusCode int            `json:"statusCode"`
	Code       string         `json:"code"`
	Retried    map[string]any `json:"retried"`
	NoRetry    struct {
		StatusCode int     `json:"statusCode"`
		Code       string  `json:"code"`
		RetryAfter *string `json:"retryAfter"`
		RequestID  *string `json:"requestId"`
	} `json:"noRetry"`
	Search struct {
		Status                int    `json:"status"`
		Users                 int    `json:"users"`
		RequestID             bool   `json:"requestId"`
		ClientRequestIDEchoed bool   `json:"clientRequestIdEchoed"`
		Withheld              string `json:"withheld"`
	} `json:"search"`
}

// TestJavaScriptClientInBrowserCORS runs the official Graph JavaScript client, unmodified
// (its browser bundle), in headless Chromium on a page of another origin than the
// gateway's (listed in cors.allowed_origins). The gateway's per-user rate limit answers its
// first GET /me with 429; its RetryHandler waits Retry-After and retries with
// Retry-Attempt: 1, which the browser sends only after a new preflight admits that header,
// and the test asserts on the gateway's side that the retry reached it and succeeded.
// Without retries the 429 reaches the page with a readable Retry-After. A request with
// the Toolkit's ConsistencyLevel and X-PeopleQuery-QuerySources succeeds, and the page
// reads request-id, client-request-id and Graphgate-Withheld-Fields.
func TestJavaScriptClientInBrowserCORS(t *testing.T) {
	browsertest.RequireChromium(t) // skip before the npm install when there is no browser
	dir := jsClient.install(t, "JavaScript Graph client in Chromium")
	page := httptest.NewUnstartedServer(nil)
	origin := "https://" + page.Listener.Addr().String()
	// One request a second after a burst of 20: a throttled caller may retry after 1 s.
	e := newEnv(t, func(c *proxy.Config) { c.CORSOrigins = []string{origin} },
		limited(proxy.RateLimitConfig{PerUserRPS: 1, PerUserBurst: 20, PerClientRPS: -1}))
	users := e.enabledUsers(0)
	throttledTok, tok := e.token(0, "chat-web", users[0]), e.token(0, "chat-web", users[1])
	spy := &gatewaySpy{next: e.srv.Handler(), throttled: "Bearer " + throttledTok}
	gw := httptest.NewTLSServer(spy)
	t.Cleanup(gw.Close)

	cfg, _ := json.Marshal(map[string]string{"gateway": gw.URL, "throttledToken": throttledTok, "token": tok})
	page.Config.Handler = browserPage(t, dir, cfg)
	page.StartTLS()
	t.Cleanup(page.Close)

	res, console := runBrowserPage(t, page.URL+"/")
	seen := spy.requests()
	for _, s := range seen {
		t.Logf("gateway: %s %s retry-attempt=%q asked=%q -> %d", s.Method, s.Path, s.RetryAttempt, s.AskedHeaders, s.Status)
	}
	for _, c := range console {
		if strings.Contains(c, "CORS") {
			t.Errorf("browser console: %s", c)
		}
	}
	if res.Error != "" {
		t.Fatalf("the page failed: %s (status %d, code %q); console %q", res.Error, res.StatusCode, res.Code, console)
	}
	checkRetryReachedGateway(t, seen)
	if res.Retried["id"] != users[0].ID {
		t.Errorf("the retried GET /me answered %v, want the caller", res.Retried)
	}
	nr := res.NoRetry
	if nr.StatusCode != http.StatusTooManyRequests || nr.Code != "TooManyRequests" {
		t.Errorf("without retries: %d %q, want 429 TooManyRequests", nr.StatusCode, nr.Code)
	}
	if nr.RetryAfter == nil || nr.RequestID == nil {
		t.Errorf("the page cannot read the 429's Retry-After (%v) or request-id (%v)", nr.RetryAfter, nr.RequestID)
	} else if secs, err := strconv.Atoi(*nr.RetryAfter); err != nil || secs < 1 {
		t.Errorf("Retry-After %q", *nr.RetryAfter)
	}
	checkToolkitHeaders(t, seen, res)
}

// checkRetryReachedGateway asserts that the gateway throttled the first attempt, admitted
// the retry's preflight with Retry-Attempt, and answered the retry.
func checkRetryReachedGateway(t *testing.T, seen []spiedRequest) {
	t.Helper()
	first := slices.IndexFunc(seen, func(s spiedRequest) bool { return s.Throttle })
	if first < 0 || !seen[first].ThrottledByGateway {
		t.Fatal("the gateway never answered the client's first GET /v1.0/me with 429")
	}
	preflight := slices.IndexFunc(seen[first:], func(s spiedRequest) bool {
		return s.Method == http.MethodOptions && s.Path == "/v1.0/me" && slices.Contains(strings.Split(s.AskedHeaders, ","), "retry-attempt")
	})
	retry := slices.IndexFunc(seen[first:], func(s spiedRequest) bool {
		return s.Method == http.MethodGet && s.Path == "/v1.0/me" && s.RetryAttempt == "1"
	})
	if preflight < 0 || seen[first+preflight].Status != http.StatusNoContent {
		t.Errorf("no preflight asking for Retry-Attempt was admitted after the 429")
	}
	if retry < 0 || seen[first+retry].Status != http.StatusOK {
		t.Fatal("the client's retry (Retry-Attempt: 1) did not reach the gateway, or failed")
	}
	if preflight > retry {
		t.Error("the retry reached the gateway before its preflight")
	}
}

// checkToolkitHeaders asserts that the request with the Toolkit's headers reached the
// gateway with them and that the page read the answer's headers.
func checkToolkitHeaders(t *testing.T, seen []spiedRequest, res browserResult) {
	t.Helper()
	if !slices.ContainsFunc(seen, func(s spiedRequest) bool {
		return s.Method == http.MethodGet && s.Path == "/v1.0/users" && s.Status == http.StatusOK &&
			s.QuerySources == "Mailbox,Directory" && s.Consistency == "eventual"
	}) {
		t.Error("no GET /v1.0/users with ConsistencyLevel and X-PeopleQuery-QuerySources was answered 200")
	}
	sr := res.Search
	if sr.Status != http.StatusOK || sr.Users == 0 || !sr.RequestID || !sr.ClientRequestIDEchoed {
		t.Errorf("search with the Toolkit's headers: %+v", sr)
	}
	if !strings.Contains(sr.Withheld, "mobilePhone") {
		t.Errorf("the page reads %s = %q, want mobilePhone listed", proxy.HeaderWithheld, sr.Withheld)
	}
	for _, s := range seen {
		if s.Status == http.StatusForbidden || s.Status == http.StatusBadRequest {
			t.Errorf("%s %s (asked %q): %d", s.Method, s.Path, s.AskedHeaders, s.Status)
		}
	}
}

// browserPage serves testdata/jsclient/browser.html and browser.js, the client's browser
// bundle from the npm install in dir, and cfg as /config.json.
func browserPage(t *testing.T, dir string, cfg []byte) http.Handler {
	t.Helper()
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	files := map[string]struct {
		ctype string
		body  []byte
	}{
		"/":                {"text/html; charset=utf-8", read(filepath.Join(jsClientDir, "browser.html"))},
		"/browser.js":      {"text/javascript; charset=utf-8", read(filepath.Join(jsClientDir, "browser.js"))},
		"/graph-js-sdk.js": {"text/javascript; charset=utf-8", read(filepath.Join(dir, "node_modules", "@microsoft", "microsoft-graph-client", "lib", "graph-js-sdk.js"))},
		"/config.json":     {"application/json", cfg},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(f.body)
	})
}

// runBrowserPage opens pageURL in headless Chromium (trusting the test servers'
// self-signed certificates), waits until the page has set window.graphgateResult and
// returns it with the browser console's errors.
func runBrowserPage(t *testing.T, pageURL string) (browserResult, []string) {
	t.Helper()
	browser := browsertest.Start(t, 800, 600, chromedp.Flag("ignore-certificate-errors", true))
	ctx, cancel := context.WithTimeout(browser.Ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	const done = `window.graphgateResult !== undefined`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](done, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the page did not finish (console %q): %v", browser.Console(), err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.graphgateResult)`))
	if err != nil {
		t.Fatalf("read the result: %v", err)
	}
	var res browserResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(fmt.Errorf("the page's result %q: %w", raw, err))
	}
	return res, browser.Console()
}
