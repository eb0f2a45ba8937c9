package proxy_test

// Graph answers some things in more than one way; the emulator gives each of them
// (graph/emulator), and the gateway must give its clients one stable answer.

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy"
)

// noPhotoUserWithCode returns an enabled user of the first tenant without a photo whose
// missing photo Graph answers with code.
func (e *env) noPhotoUserWithCode(code string) emulator.UserInfo {
	e.t.Helper()
	for _, ui := range e.enabledUsers(0) {
		if u, _ := e.emu.User(e.tenant(0).ID, ui.ID); !u.HasPhoto && emulator.NoPhotoCode(u.ID) == code {
			return ui
		}
	}
	e.t.Fatalf("no enabled fixture user without photo answers %s", code)
	return emulator.UserInfo{}
}

// TestEveryMissingPhotoCodeIsImageNotFound: whichever 404 Graph answers for a missing
// photo (ImageNotFound, ErrorEntityNotFound, ErrorItemNotFound, GetUserPhoto,
// ErrorNonExistentMailbox), the client gets the gateway's one answer, 404 ImageNotFound,
// directly and in $batch, so the Graph Toolkit draws initials; Graph's code is not passed on.
func TestEveryMissingPhotoCodeIsImageNotFound(t *testing.T) {
	e := newEnv(t)
	tok := e.token(0, "chat-web", e.enabledUsers(0)[0])
	for _, code := range emulator.NoPhotoCodes() {
		t.Run(code, func(t *testing.T) {
			u := e.noPhotoUserWithCode(code)
			for _, p := range []string{"/photo/$value", "/photos/48x48/$value", "/photo"} {
				r := e.get("/v1.0/users/"+u.ID+p, tok)
				if r.Status != http.StatusNotFound || errorCode(t, r) != "ImageNotFound" {
					t.Errorf("%s: %d %s, want 404 ImageNotFound", p, r.Status, r.Body)
				}
				if code != "ImageNotFound" && strings.Contains(string(r.Body), code) {
					t.Errorf("%s: Graph's code %s reached the client: %s", p, code, r.Body)
				}
			}
			_, items := e.batchItems(t, tok, `{"id":"1","method":"GET","url":"/users/`+u.ID+`/photos/64x64/$value"}`)
			if it := items["1"]; it.Status != http.StatusNotFound || !strings.Contains(string(it.Body), `"ImageNotFound"`) {
				t.Errorf("batch item: %d %s, want 404 ImageNotFound", it.Status, it.Body)
			}
		})
	}
}

// TestLogoutCountsEvery2xxRevocation: Graph answers revokeSignInSessions with 200
// {"value": true} or 204 No Content; both are a successful Graph revocation.
func TestLogoutCountsEvery2xxRevocation(t *testing.T) {
	tests := []struct {
		name   string
		tenant int
		answer emulator.RevokeAnswer
		status int
	}{
		{"200 value true", 0, emulator.RevokeOKTrue, 200},
		{"204 no content", 0, emulator.RevokeNoContent, 204},
		{"default of the second tenant", 1, emulator.RevokeByTenant, 204},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.emu.SetRevokeAnswer(tc.answer)
			admin := e.token(tc.tenant, "chat-web", e.withRole(tc.tenant, proxy.RoleAdmin))
			victim := e.victim(tc.tenant)
			before, _ := e.emu.User(e.tenant(tc.tenant).ID, victim.ID)
			a := decodeLogout(t, e.logout(admin, victim.ID))
			if !a.Graph.Succeeded || a.Graph.Error != "" {
				t.Fatalf("Graph's %d answer not counted as success: %+v", tc.status, a.Graph)
			}
			after, _ := e.emu.User(e.tenant(tc.tenant).ID, victim.ID)
			if !after.SignInSessionsValidFromDateTime.After(before.SignInSessionsValidFromDateTime) {
				t.Errorf("Graph's revocation did not happen")
			}
			var status int
			for _, r := range e.emu.Requests() {
				if r.Route == "POST /v1.0/users/{id}/revokeSignInSessions" {
					status = r.Status
				}
			}
			if status != tc.status {
				t.Errorf("emulator answered %d, want %d (the case under test)", status, tc.status)
			}
		})
	}
}

// TestGraphThrottlingWithoutRetryAfter: Graph's 429 may lack Retry-After
// (https://learn.microsoft.com/en-us/graph/throttling). The gateway still answers 429
// with a Retry-After of at least a second, and holds the tenant back for that long
// instead of passing every request on to Graph.
func TestGraphThrottlingWithoutRetryAfter(t *testing.T) {
	e := newEnv(t)
	users := e.enabledUsers(0)
	tok := e.token(0, "chat-web", users[0])
	e.get("/v1.0/me", tok)
	e.emu.SetThrottle(emulator.Throttle{Budget: 1, Window: time.Minute, OmitRetryAfter: 1})
	t.Cleanup(e.emu.ResetFaults)
	var first response
	for _, u := range users[1:4] {
		if first = e.get("/v1.0/users/"+u.ID, tok); first.Status == http.StatusTooManyRequests {
			break
		}
	}
	ra, err := strconv.Atoi(first.Header.Get("Retry-After"))
	if first.Status != http.StatusTooManyRequests || err != nil || ra < 1 || errorCode(t, first) != "TooManyRequests" {
		t.Fatalf("throttled read: %d Retry-After %q %s, want 429 with Retry-After >= 1",
			first.Status, first.Header.Get("Retry-After"), first.Body)
	}
	calls := e.emu.Count("")
	for _, u := range users[5:10] {
		r := e.get("/v1.0/users/"+u.ID, tok)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("read during the back-off: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
	}
	if n := e.emu.Count("") - calls; n != 0 {
		t.Errorf("%d upstream calls during the back-off, want none", n)
	}
}
