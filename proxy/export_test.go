package proxy_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/policy"
	"github.com/graphgate/graphgate/proxy"
	"github.com/graphgate/graphgate/proxy/auth/revoke"
	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// exportDoc is the part of the export the tests read.
type exportDoc struct {
	Statement string `json:"statement"`
	Subject   struct {
		TenantID string `json:"tenant_id"`
		ObjectID string `json:"object_id"`
	} `json:"subject"`
	Profile map[string]any `json:"profile"`
	Photo   *struct {
		ContentType string `json:"content_type"`
		DataBase64  string `json:"data_base64"`
	} `json:"photo"`
	Presence   map[string]any `json:"presence"`
	ClientApps []struct {
		Name string `json:"name"`
	} `json:"client_apps"`
	Processed  []string `json:"fields_processed"`
	Withheld   []string `json:"fields_withheld_from_this_app"`
	CallingApp string   `json:"calling_client_app"`
	Revocation struct {
		Status string `json:"status"`
	} `json:"revocation"`
}

func TestExportHoldsEverythingProcessedAboutTheCaller(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	for _, client := range []string{"chat-web", "mobile", "intranet-directory"} {
		for _, u := range users[:3] {
			t.Run(client+"/"+u.ID[:8], func(t *testing.T) {
				r := e.get("/privacy/v1/me/export", e.token(0, client, u))
				if r.Status != http.StatusOK {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				assertNoStore(t, r)
				if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
					t.Errorf("Content-Disposition %q", cd)
				}
				var doc exportDoc
				if err := json.Unmarshal(r.Body, &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Subject.ObjectID != u.ID || doc.Subject.TenantID != e.tenant(0).ID || doc.CallingApp != client {
					t.Errorf("subject %+v, app %q", doc.Subject, doc.CallingApp)
				}
				if !strings.Contains(doc.Statement, "stores none of it") || !strings.Contains(doc.Statement, "nothing else") {
					t.Errorf("statement %q", doc.Statement)
				}
				full, _ := e.emu.User(e.tenant(0).ID, u.ID)
				cl, _ := e.pol.Client(e.clientID(0, client))
				// Values only of what the calling app may see of its own user; the rest by name.
				checkFields(t, "export profile", doc.Profile, cl.Visible(true))
				if doc.Profile["displayName"] != full.DisplayName {
					t.Errorf("profile %v does not match the directory", doc.Profile)
				}
				for _, f := range e.pol.UpstreamFields() {
					if !slices.Contains(doc.Processed, f) {
						t.Errorf("fields_processed lacks %s", f)
					}
					if _, shown := doc.Profile[f]; !shown && !slices.Contains(doc.Withheld, f) {
						t.Errorf("%s is neither shown nor listed as withheld", f)
					}
				}
				if len(doc.ClientApps) != len(e.pol.Clients()) {
					t.Errorf("%d client apps listed", len(doc.ClientApps))
				}
				if cl.Allows(policy.OpPresenceRead) != (doc.Presence["availability"] != nil) {
					t.Errorf("presence %v for an app with presence.read %v", doc.Presence, cl.Allows(policy.OpPresenceRead))
				}
				switch {
				case !cl.Allows(policy.OpPhotoRead):
					if doc.Photo != nil {
						t.Error("photo exported to an app without photo.read")
					}
				case full.HasPhoto:
					img, err := base64.StdEncoding.DecodeString(doc.Photo.DataBase64)
					if err != nil || len(img) == 0 || !strings.HasPrefix(doc.Photo.ContentType, "image/") {
						t.Errorf("photo %s, %d bytes, %v", doc.Photo.ContentType, len(img), err)
					}
				case doc.Photo == nil || doc.Photo.DataBase64 != "":
					t.Errorf("a user without a photo got %+v", doc.Photo)
				}
				if doc.Revocation.Status != "none" {
					t.Errorf("revocation %q, want none", doc.Revocation.Status)
				}
			})
		}
	}
}

func TestExportRefusals(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		token  string
		status []int
	}{
		{"no token", "", []int{http.StatusUnauthorized}},
		{"garbage token", "abc.def.ghi", []int{http.StatusUnauthorized}},
		// A deactivated account's session is refused (401) where sign-in state is
		// enforced, else its record is not found (404) as on every read route.
		{"deactivated account", e.token(0, "chat-web", e.disabledUser(0)), []int{http.StatusUnauthorized, http.StatusNotFound}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get("/privacy/v1/me/export", tc.token)
			if !slices.Contains(tc.status, r.Status) || errorCode(t, r) == "" {
				t.Fatalf("%d, want one of %v: %s", r.Status, tc.status, r.Body)
			}
			if r.Header.Get("Content-Disposition") != "" {
				t.Error("an error is not a download")
			}
		})
	}
}

func TestExportReportsRevocationMarkers(t *testing.T) {
	held := map[string]bool{}
	e := newEnv(t, withPrivacy(proxy.PrivacyConfig{RevocationHeld: func(tenant, user string) (bool, bool) {
		if user == "unknown" {
			return false, false
		}
		return held[tenant+"|"+user], true
	}}))
	u := e.enabledUsers(0)[0]
	status := func() string {
		var doc exportDoc
		_ = json.Unmarshal(e.get("/privacy/v1/me/export", e.token(0, "mobile", u)).Body, &doc)
		return doc.Revocation.Status
	}
	if s := status(); s != "none" {
		t.Errorf("before: %q", s)
	}
	held[e.tenant(0).ID+"|"+u.ID] = true
	if s := status(); s != "active" {
		t.Errorf("after: %q", s)
	}
}

func TestExportShowsARemoteLogout(t *testing.T) {
	base := newEnv(t)
	clk := testkit.NewClock(time.Now())
	revs, err := revoke.NewMemory(revoke.Config{Secret: []byte("export-test-secret-0123456789"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := gatewayOn(t, base, clk.Now, func(c *proxy.Config) { c.Revocations = revs })
	victim, admin := e.victim(0), e.withRole(0, proxy.RoleAdmin)
	status := func() string {
		t.Helper()
		r := e.get("/privacy/v1/me/export", e.mint(0, "mobile", victim, clk.Now()))
		if r.Status != http.StatusOK {
			t.Fatalf("export: %d %s", r.Status, r.Body)
		}
		var doc exportDoc
		_ = json.Unmarshal(r.Body, &doc)
		return doc.Revocation.Status
	}
	if s := status(); s != "none" {
		t.Fatalf("before the logout: %q", s)
	}
	if r := e.logout(e.mint(0, "chat-web", admin, clk.Now()), victim.UserPrincipalName); r.Status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	clk.Add(revoke.DefaultLockout + 2*time.Second) // a fresh sign-in works again
	if s := status(); s != "active" {
		t.Errorf("after the logout: %q, want active", s)
	}
	clk.Add(revoke.DefaultMaxTokenLifetime) // the marker is forgotten
	if s := status(); s != "none" {
		t.Errorf("after the marker's lifetime: %q, want none", s)
	}
}
