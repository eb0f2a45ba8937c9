// Package browsertest drives the usage dashboard in real headless Chromium for tests:
// it opens the page, pastes a token as an analyst would, waits until every chart has
// drawn from the API, and reports console errors, chart states and a screenshot.
//
// Tests call Open; it skips the test with a clear reason when Chromium is not installed,
// unless GRAPHGATE_REQUIRE_CHROMIUM is set (.ci/run installs Chromium and sets it, so CI
// never skips).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chart is one chart container's state after the page settled.
type Chart struct {
	ID     string `json:"id"`
	Ready  string `json:"ready"`  // data-ready: "true" once drawn from the API
	Error  bool   `json:"error"`  // data-error is set
	Status string `json:"status"` // the chart's status line
	Series int    `json:"series"` // datasets drawn
	Points int    `json:"points"` // non-empty data points drawn
}

// Result is what a test asserts on.
type Result struct {
	Charts     []Chart
	ErrorText  string   // the page's error banner ("" when hidden)
	Console    []string // console errors, browser-log errors and uncaught exceptions
	Screenshot string   // path of the PNG screenshot
	Token      string   // the token the page kept in sessionStorage
}

// ChromiumPath returns the Chromium binary to use: $GRAPHGATE_CHROMIUM, else chromium
// or chromium-browser on PATH, else "".
func ChromiumPath() string {
	if p := os.Getenv("GRAPHGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// ArtifactDir is where screenshots go: $GRAPHGATE_ARTIFACTS, else os.TempDir().
func ArtifactDir() string {
	if d := os.Getenv("GRAPHGATE_ARTIFACTS"); d != "" {
		return d
	}
	return os.TempDir()
}

// Open loads pageURL in headless Chromium, pastes token into the page's token box,
// waits up to 30 s for every chart to be drawn or to fail, takes a screenshot named
// after the test, and returns what the page shows. It skips t when Chromium is missing.
func Open(t *testing.T, pageURL, token string) Result {
	t.Helper()
	s := Start(t, 1280, 1400)
	res, err := drive(s.Ctx, pageURL, token)
	if err != nil {
		t.Logf("console so far: %q", s.Console())
		t.Fatalf("browser: %v", err)
	}
	if res.Screenshot, err = s.Screenshot("dashboard", t.Name()); err != nil {
		t.Errorf("screenshot: %v", err)
	} else {
		t.Logf("dashboard screenshot: %s", res.Screenshot)
	}
	res.Console = s.Console()
	return res
}

// settled is true once no chart is still loading.
const settled = `document.querySelectorAll('[data-chart]').length > 0 &&
	Array.from(document.querySelectorAll('[data-chart]')).every(function (s) {
		return s.getAttribute('data-ready') === 'true' || s.hasAttribute('data-error');
	})`

// state reads every chart's state, the error banner and the stored token.
const state = `({
	charts: Array.from(document.querySelectorAll('[data-chart]')).map(function (s) {
		var c = window.Chart && window.Chart.getChart(s.querySelector('canvas'));
		var ds = c ? c.data.datasets : [];
		return {
			id: s.id,
			ready: s.getAttribute('data-ready') || '',
			error: s.hasAttribute('data-error'),
			status: s.querySelector('.status').textContent,
			series: ds.length,
			points: ds.reduce(function (n, d) {
				return n + d.data.filter(function (v) { return v !== null && v !== 0; }).length;
			}, 0)
		};
	}),
	error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
	token: sessionStorage.getItem('graphgate.usage.token') || ''
})`

type pageState struct {
	Charts []Chart `json:"charts"`
	Error  string  `json:"error"`
	Token  string  `json:"token"`
}

func drive(ctx context.Context, pageURL, token string) (Result, error) {
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(tctx,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#use-token")),
	)
	if err != nil {
		return Result{}, fmt.Errorf("open page and paste token: %w", err)
	}
	// The charts reload after the paste; wait for the new round to settle.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](settled, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		st, _ := chromedp.Run(ctx, chromedp.Evaluate[pageState](state))
		return Result{}, fmt.Errorf("charts did not settle (%+v): %w", st, err)
	}
	st, err := chromedp.Run(tctx, chromedp.Evaluate[pageState](state))
	if err != nil {
		return Result{}, fmt.Errorf("read page state: %w", err)
	}
	return Result{Charts: st.Charts, ErrorText: strings.TrimSpace(st.Error), Token: st.Token}, nil
}
