package privacy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/proxy/privacy"
)

func TestHumanDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * time.Second, "30 seconds"},
		{time.Second, "1 second"},
		{time.Minute, "1 minute"},
		{95 * time.Minute, "95 minutes"},
		{90 * time.Second, "1 minute"},
		{2 * time.Hour, "2 hours"},
		{day, "1 day"},
		{36 * time.Hour, "36 hours"},
		{59 * day, "59 days"},
		{61 * day, "2 months"},
		{395 * day, "13 months"},
		{396 * day, "13 months"},
		{365 * day, "12 months"},
		{400 * day, "400 days"},
		{13*day + time.Hour, "313 hours"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := privacy.HumanDuration(tt.in); got != tt.want {
				t.Errorf("HumanDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

var inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)

func TestHTML(t *testing.T) {
	pol := testPol(t)
	b, err := privacy.NewNotice(pol, pol.UpstreamFields(), cache.Config{}, privacy.Config{HostingRegion: "EU <West>", Controller: `"Contoso" & Co`}).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(strings.ToLower(page), "<script") || inlineHandler.MatchString(page) {
		t.Error("the page holds a script")
	}
	for _, want := range []string{"EU &lt;West&gt;", "&#34;Contoso&#34; &amp; Co"} {
		if !strings.Contains(page, want) {
			t.Errorf("configured text is not escaped or missing: want %q", want)
		}
	}
	for _, cl := range pol.Clients() {
		if !strings.Contains(page, html.EscapeString(cl.Purpose)) || !strings.Contains(page, cl.Name) {
			t.Errorf("page lacks client app %s or its purpose", cl.Name)
		}
	}
	t.Run("CSP allows exactly the inline style sheet", func(t *testing.T) {
		i, j := strings.Index(page, "<style>"), strings.Index(page, "</style>")
		if i < 0 || j < i || strings.Count(page, "<style") != 1 {
			t.Fatal("the page has not exactly one inline style sheet")
		}
		sum := sha256.Sum256([]byte(page[i+len("<style>") : j]))
		if !strings.Contains(privacy.CSP, "default-src 'none'") ||
			!strings.Contains(privacy.CSP, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"';") {
			t.Errorf("CSP %q does not allow the page's style sheet", privacy.CSP)
		}
		for _, lax := range []string{"unsafe-inline", "script-src", "*"} {
			if strings.Contains(privacy.CSP, lax) {
				t.Errorf("CSP %q is too lax: %s", privacy.CSP, lax)
			}
		}
		if !strings.Contains(privacy.CSP, "frame-ancestors 'none'") {
			t.Errorf("CSP %q allows framing", privacy.CSP)
		}
	})
	if privacy.JSONCSP != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("JSONCSP %q", privacy.JSONCSP)
	}
}

func TestHTMLWithoutClientApps(t *testing.T) {
	b, err := privacy.NewNotice(nil, nil, cache.Config{}, privacy.Config{}).HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "No client app is allowed.") {
		t.Error("an empty policy is not stated")
	}
}
