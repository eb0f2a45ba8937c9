package proxy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/proxy"
)

// privacyDoc is the part of GET /privacy the tests read.
type privacyDoc struct {
	Controller    string `json:"controller"`
	Contact       string `json:"contact"`
	HostingRegion string `json:"hosting_region"`
	SubProcessors []struct {
		Name string `json:"name"`
	} `json:"sub_processors"`
	ClientApps []struct {
		Name        string   `json:"name"`
		AppID       string   `json:"app_id"`
		Purpose     string   `json:"purpose"`
		Operations  []string `json:"operations"`
		SelfFields  []string `json:"fields_of_the_signed_in_user"`
		OtherFields []string `json:"fields_of_other_users"`
	} `json:"client_apps"`
	FetchedFields []string `json:"fields_fetched_from_graph"`
	Cache         struct {
		TTLSeconds int `json:"ttl_seconds"`
	} `json:"cache"`
	Persisted []struct {
		What             string `json:"what"`
		Form             string `json:"form"`
		Where            string `json:"where"`
		Retention        string `json:"retention"`
		RetentionSeconds int64  `json:"retention_seconds"`
	} `json:"persisted"`
}

func withPrivacy(pc proxy.PrivacyConfig) func(*proxy.Config) {
	return func(c *proxy.Config) { c.Privacy = pc }
}

func TestPrivacyRecordAsJSON(t *testing.T) {
	e := newEnv(t, withPrivacy(proxy.PrivacyConfig{HostingRegion: "EU (Germany West Central)", Controller: "Contoso GmbH",
		Contact: "privacy@contoso.example", UsageStore: "postgres", UsageMinUsers: 7, RevocationStore: "redis",
		RevocationLifetime: 95 * time.Minute, AuditSink: "file"}))
	for _, accept := range []string{"", "application/json", "*/*"} {
		t.Run("Accept "+accept, func(t *testing.T) {
			r := e.get("/privacy", "", "Accept", accept)
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %s: %s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			assertNoStore(t, r)
		})
	}
	var doc privacyDoc
	if err := json.Unmarshal(e.get("/privacy", "").Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.HostingRegion != "EU (Germany West Central)" || doc.Controller != "Contoso GmbH" || doc.Contact != "privacy@contoso.example" {
		t.Errorf("deployment facts: %+v", doc)
	}
	if len(doc.SubProcessors) != 1 || !strings.Contains(doc.SubProcessors[0].Name, "Microsoft Graph") {
		t.Errorf("sub-processors: %+v", doc.SubProcessors)
	}
	if doc.Cache.TTLSeconds != 60 {
		t.Errorf("cache ttl %d s, want the configured 60", doc.Cache.TTLSeconds)
	}
	if want := e.pol.UpstreamFields(); strings.Join(doc.FetchedFields, ",") != strings.Join(want, ",") {
		t.Errorf("fetched fields %v, want %v", doc.FetchedFields, want)
	}
	clients := e.pol.Clients()
	if len(doc.ClientApps) != len(clients) {
		t.Fatalf("%d client apps, want %d", len(doc.ClientApps), len(clients))
	}
	for i, cl := range clients {
		got := doc.ClientApps[i]
		if got.Name != cl.Name || got.AppID != cl.AppID || got.Purpose != cl.Purpose ||
			strings.Join(got.SelfFields, ",") != strings.Join(cl.SelfFields, ",") || len(got.Operations) != len(cl.Operations) {
			t.Errorf("client app %d: %+v", i, got)
		}
	}
	t.Run("an app that reads no other user sees nothing of others", func(t *testing.T) {
		for _, app := range doc.ClientApps {
			if app.Name == "mobile" && len(app.OtherFields) != 0 {
				t.Errorf("mobile has no users.* operation, yet lists %v", app.OtherFields)
			}
		}
	})
	t.Run("what is persisted", func(t *testing.T) {
		var usage, revocation, audit bool
		for _, p := range doc.Persisted {
			switch {
			case strings.Contains(p.What, "usage"):
				usage = p.Where == "postgres" && strings.Contains(p.Form, "at least 7 distinct users") && p.Retention == "13 months"
			case strings.Contains(p.What, "Revocation"):
				revocation = p.Where == "redis" && p.RetentionSeconds == 95*60 && strings.Contains(p.Form, "keyed hash")
			case strings.Contains(p.What, "Audit"):
				audit = p.Where == "file"
			}
		}
		if !usage || !revocation || !audit {
			t.Errorf("persisted records (usage %t, revocation %t, audit %t): %+v", usage, revocation, audit, doc.Persisted)
		}
	})
}

func TestPrivacyPageForBrowsers(t *testing.T) {
	e := newEnv(t, withPrivacy(proxy.PrivacyConfig{HostingRegion: "EU <West>"}))
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct{ name, path, accept string }{
		{"browser Accept", "/privacy", browser},
		{"format=html", "/privacy?format=html", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.path, "", "Accept", tc.accept)
			if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
			}
			assertNoStore(t, r)
			page := string(r.Body)
			if strings.Contains(strings.ToLower(page), "<script") || inlineHandler.MatchString(page) {
				t.Error("the page holds a script")
			}
			if !strings.Contains(page, "EU &lt;West&gt;") {
				t.Error("configured text is not escaped or missing")
			}
			for _, cl := range e.pol.Clients() {
				if !strings.Contains(page, html.EscapeString(cl.Purpose)) || !strings.Contains(page, cl.Name) {
					t.Errorf("page lacks client app %s or its purpose", cl.Name)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			style := between(page, "<style>", "</style>")
			sum := sha256.Sum256([]byte(style))
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
				t.Errorf("CSP %q does not allow exactly the inline style sheet", csp)
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q is too lax", csp)
			}
		})
	}
	t.Run("unknown format", func(t *testing.T) {
		if r := e.get("/privacy?format=xml", ""); r.Status != http.StatusBadRequest || errorCode(t, r) != "BadRequest" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

var inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)

func assertNoStore(t *testing.T, r response) {
	t.Helper()
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers missing: Cache-Control %q, X-Content-Type-Options %q",
			r.Header.Get("Cache-Control"), r.Header.Get("X-Content-Type-Options"))
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.Index(s, to)
	if i < 0 || j < i {
		return ""
	}
	return s[i+len(from) : j]
}
