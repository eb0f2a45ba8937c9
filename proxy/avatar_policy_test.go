package proxy_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/graphgate/graphgate/proxy/avatar"
	"github.com/graphgate/graphgate/proxy/proxytest"
)

// avatarPolicy gives three client apps the same photo access and differing rights to
// other users' names: chat-web reads others' profiles without displayName, mobile may
// list displayName of others but reads no other profile, intranet-directory reads
// others' displayName.
const avatarPolicy = `clients:
  - app_id: "{{chat-web}}"
    name: chat-web
    purpose: Photos and job titles, without names.
    operations: [me.read, users.read, photo.read]
    fields:
      self: [displayName, jobTitle]
      others: [jobTitle]
  - app_id: "{{mobile}}"
    name: mobile
    purpose: Photos of colleagues, no profiles.
    operations: [me.read, photo.read]
    fields:
      self: [displayName]
      others: [displayName]
  - app_id: "{{intranet-directory}}"
    name: intranet-directory
    purpose: Photos and names.
    operations: [me.read, users.read, photo.read]
    fields:
      self: [displayName]
      others: [displayName, jobTitle]
`

// TestInitialsAvatarShowsNamesOnlyToThoseWhoMaySeeThem reads a deactivated user's photo
// endpoints with each client app: the initials avatar carries the user's initials only
// for an app that may see the user's displayName, and "?" for every other app.
func TestInitialsAvatarShowsNamesOnlyToThoseWhoMaySeeThem(t *testing.T) {
	e := envOf(t, proxytest.New(t, proxytest.Options{PolicyTemplate: avatarPolicy}))
	caller := e.enabledUsers(0)[0]
	gone := e.disabledUser(0)
	full, ok := e.emu.User(e.tenant(0).ID, gone.ID)
	if !ok || avatar.Initials(full.DisplayName) == "?" {
		t.Fatalf("the deactivated user %+v has no initials to withhold", full)
	}
	tests := []struct {
		client    string
		seesNames bool
	}{
		{"chat-web", false},
		{"mobile", false},
		{"intranet-directory", true},
	}
	paths := []struct {
		path string
		size int
	}{
		{"/photos/96x96/$value", 96},
		{"/photos/48x48/$value", 48},
		{"/photo/$value", 648}, // the largest size
	}
	for _, tt := range tests {
		for _, p := range paths {
			t.Run(tt.client+p.path, func(t *testing.T) {
				r := e.get("/v1.0/users/"+gone.ID+p.path, e.token(0, tt.client, caller))
				if r.Status != http.StatusOK || r.Header.Get("Content-Type") != avatar.ContentType {
					t.Fatalf("%d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
				}
				named, anonymous := avatar.PNG(full.DisplayName, gone.ID, p.size), avatar.PNG("", gone.ID, p.size)
				switch {
				case tt.seesNames && !bytes.Equal(r.Body, named):
					t.Errorf("the avatar is not the initials %q", avatar.Initials(full.DisplayName))
				case !tt.seesNames && bytes.Equal(r.Body, named):
					t.Errorf("the avatar shows the initials %q to an app that may not see displayName", avatar.Initials(full.DisplayName))
				case !tt.seesNames && !bytes.Equal(r.Body, anonymous):
					t.Error(`the avatar is not the anonymous "?"`)
				}
			})
		}
	}
}
