package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireChromium returns the Chromium binary. Without one it skips t, or fails it when
// GRAPHGATE_REQUIRE_CHROMIUM is set (.ci/run sets it, so CI never skips).
func RequireChromium(t *testing.T) string {
	t.Helper()
	bin := ChromiumPath()
	if bin == "" && os.Getenv("GRAPHGATE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("GRAPHGATE_REQUIRE_CHROMIUM is set but no Chromium was found")
	}
	if bin == "" {
		t.Skip("headless Chromium not installed (apt-get install -y chromium, or set GRAPHGATE_CHROMIUM); .ci/run installs it")
	}
	return bin
}

// Session is one headless Chromium tab whose console errors, browser-log errors and
// uncaught exceptions are collected. It closes when the test ends.
type Session struct {
	// Ctx is the tab's context, for chromedp actions.
	Ctx     context.Context
	mu      sync.Mutex
	console []string
}

// Start launches headless Chromium for t with the flags this machine needs (no sandbox,
// no background networking) plus extra, in a width×height window.
func Start(t *testing.T, width, height int, extra ...chromedp.ExecAllocatorOption) *Session {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(RequireChromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	s := &Session{Ctx: ctx}
	messages := chromedp.Console(ctx) // starts the browser and subscribes
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				s.mu.Lock()
				s.console = append(s.console, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line+1))
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// Console returns the errors collected so far, after letting in-flight events arrive.
func (s *Session) Console() []string {
	time.Sleep(200 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.console...)
}

// Screenshot saves a PNG of the whole page as graphgate-<kind>-<test name>.png in
// ArtifactDir and returns its path.
func (s *Session) Screenshot(kind, testName string) (string, error) {
	png, err := chromedp.Run(s.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	if len(png) == 0 {
		return "", errors.New("empty screenshot")
	}
	dir := ArtifactDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	safe := strings.NewReplacer("/", "_", " ", "_").Replace(testName)
	path := filepath.Join(dir, "graphgate-"+kind+"-"+safe+".png")
	return path, os.WriteFile(path, png, 0o644)
}
