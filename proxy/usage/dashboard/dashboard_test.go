package dashboard_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/proxy/usage/dashboard"
	"github.com/graphgate/graphgate/proxy/usage/dashboard/browsertest"
)

// newSite serves the dashboard at /usage/ and api at /usage/v1/, as the gateway does.
func newSite(t *testing.T, api http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/usage/", dashboard.Handler("/usage/"))
	mux.Handle("/usage/v1/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandler(t *testing.T) {
	srv := newSite(t, http.NotFoundHandler())
	cases := []struct {
		name, method, path string
		status             int
		ctype, body        string
	}{
		{"page", "GET", "/usage/", 200, "text/html; charset=utf-8", `<canvas`},
		{"page head", "HEAD", "/usage/", 200, "text/html; charset=utf-8", ""},
		{"script", "GET", "/usage/assets/app.js", 200, "text/javascript; charset=utf-8", "sessionStorage"},
		{"style", "GET", "/usage/assets/style.css", 200, "text/css; charset=utf-8", ".chart"},
		{"chart.js", "GET", "/usage/assets/vendor/chart.umd.min.js", 200, "text/javascript; charset=utf-8", "Chart.js v" + dashboard.ChartJSVersion},
		{"no listing", "GET", "/usage/assets/", 404, "", ""},
		{"no vendor listing", "GET", "/usage/assets/vendor/", 404, "", ""},
		{"unknown", "GET", "/usage/nope", 404, "", ""},
		{"missing asset", "GET", "/usage/assets/nope.js", 404, "", ""},
		{"post", "POST", "/usage/", 405, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.method, srv.URL+tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("body lacks %q", tc.body)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

// TestPageIsCSPClean checks the markup has no inline script, inline handler or inline
// style, and loads nothing from another origin.
func TestPageIsCSPClean(t *testing.T) {
	page, err := fs.ReadFile(dashboard.Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`\son[a-z]+\s*=`),
		regexp.MustCompile(`\sstyle\s*=`),
		regexp.MustCompile(`(?:src|href)\s*=\s*"(?:https?:)?//`),
		regexp.MustCompile(`<style`),
	} {
		if m := bad.Find(page); m != nil {
			t.Errorf("index.html holds %q", m)
		}
	}
	tags := regexp.MustCompile(`<script[^>]*>`).FindAll(page, -1)
	for _, tag := range tags {
		if !strings.Contains(string(tag), ` src="assets/`) {
			t.Errorf("script tag without a same-origin src: %s", tag)
		}
	}
	if len(tags) != 2 {
		t.Errorf("want 2 scripts (chart.js, app.js), found %d", len(tags))
	}
}

// TestPageRendersFromFakeAPI opens the page in headless Chromium against a fake of the
// usage API, pastes a token, and checks that every chart draws with no console error.
func TestPageRendersFromFakeAPI(t *testing.T) {
	api := &fakeAPI{token: "analyst-test-token"}
	srv := newSite(t, api)
	res := browsertest.Open(t, srv.URL+"/usage/", api.token)
	if len(res.Charts) != 5 {
		t.Fatalf("want 5 charts, got %+v", res.Charts)
	}
	for _, c := range res.Charts {
		if c.Ready != "true" || c.Error || c.Series == 0 || c.Points == 0 {
			t.Errorf("chart %s not drawn: %+v", c.ID, c)
		}
	}
	if res.ErrorText != "" {
		t.Errorf("error banner: %q", res.ErrorText)
	}
	if len(res.Console) > 0 {
		t.Errorf("console errors: %q", res.Console)
	}
	if res.Token != api.token {
		t.Errorf("sessionStorage token %q, want the pasted token", res.Token)
	}
	want := map[string]bool{"requests?group_by=client_app": false, "requests?group_by=operation": false,
		"cache?": false, "latency?": false, "active-users?group_by=client_app": false}
	for _, q := range api.seen() {
		if strings.Contains(q, "token") {
			t.Errorf("a token travelled in a URL: %s", q)
		}
		for w := range want {
			kind, group, _ := strings.Cut(w, "?")
			if strings.HasPrefix(q, kind+"?") && strings.Contains(q, "granularity=day") &&
				(group == "" && !strings.Contains(q, "group_by") || group != "" && strings.Contains(q, group)) {
				want[w] = true
			}
		}
	}
	for w, ok := range want {
		if !ok {
			t.Errorf("the page never asked %s (asked: %q)", w, api.seen())
		}
	}
}

// TestPageShowsAPIErrors checks that an error envelope reaches the page's banner and
// marks only its chart as failed.
func TestPageShowsAPIErrors(t *testing.T) {
	api := &fakeAPI{token: "analyst-test-token", fail: map[string]int{"latency": http.StatusForbidden}}
	srv := newSite(t, api)
	res := browsertest.Open(t, srv.URL+"/usage/", api.token)
	if !strings.Contains(res.ErrorText, "Authorization_RequestDenied: Insufficient privileges") {
		t.Errorf("banner %q lacks the API's error", res.ErrorText)
	}
	for _, c := range res.Charts {
		failed := c.ID == "chart-latency"
		if c.Error != failed || (c.Ready == "true") == failed {
			t.Errorf("chart %s: %+v (want failed=%v)", c.ID, c, failed)
		}
	}
	for _, m := range res.Console {
		if !strings.Contains(m, "403") {
			t.Errorf("unexpected console error: %s", m)
		}
	}
}

// TestWrongTokenIsReported checks a refused token is reported, not silently ignored.
func TestWrongTokenIsReported(t *testing.T) {
	api := &fakeAPI{token: "analyst-test-token"}
	srv := newSite(t, api)
	res := browsertest.Open(t, srv.URL+"/usage/", "Bearer some-other-token")
	if !strings.Contains(res.ErrorText, "InvalidAuthenticationToken") {
		t.Errorf("banner %q lacks the 401", res.ErrorText)
	}
	if res.Token != "some-other-token" {
		t.Errorf("stored token %q: the Bearer prefix should be stripped", res.Token)
	}
	for _, c := range res.Charts {
		if !c.Error {
			t.Errorf("chart %s not marked failed: %+v", c.ID, c)
		}
	}
}
