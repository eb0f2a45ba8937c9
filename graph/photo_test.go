package graph_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

func TestPhoto(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	with := v.user(t, func(u emulator.User) bool { return u.HasPhoto })
	without := v.user(t, func(u emulator.User) bool { return !u.HasPhoto })

	tests := []struct {
		name, size, route string
	}{
		{"largest", "", "GET /v1.0/users/{id}/photo/$value"},
		{"48x48", "48x48", "GET /v1.0/users/{id}/photos/{size}/$value"},
		{"648x648", "648x648", "GET /v1.0/users/{id}/photos/{size}/$value"},
	}
	var sizes []int
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := v.e.Count(tt.route)
			p, err := c.Photo(ctx, with.ID, tt.size)
			if err != nil {
				t.Fatalf("Photo: %v", err)
			}
			if !strings.HasPrefix(p.ContentType, "image/") || len(p.Data) == 0 {
				t.Fatalf("photo = %q, %d bytes", p.ContentType, len(p.Data))
			}
			if v.e.Count(tt.route) != before+1 {
				t.Errorf("route %s not called", tt.route)
			}
			sizes = append(sizes, len(p.Data))
		})
	}
	if len(sizes) == 3 && sizes[1] >= sizes[2] {
		t.Errorf("48x48 photo (%d bytes) not smaller than 648x648 (%d bytes)", sizes[1], sizes[2])
	}

	t.Run("no photo", func(t *testing.T) {
		_, err := c.Photo(ctx, without.ID, "")
		wantKind(t, err, graph.ErrNotFound)
		_, err = c.Photo(ctx, without.ID, "96x96")
		wantKind(t, err, graph.ErrNotFound)
	})
	t.Run("size in upper case", func(t *testing.T) {
		before := v.e.Count("GET /v1.0/users/{id}/photos/{size}/$value")
		p, err := c.Photo(ctx, with.ID, "96X96")
		if err != nil || len(p.Data) == 0 {
			t.Fatalf("Photo(96X96) = %d bytes, %v", len(p.Data), err)
		}
		if v.e.Count("GET /v1.0/users/{id}/photos/{size}/$value") != before+1 {
			t.Error("sized photo route not called")
		}
	})
	t.Run("unknown size is refused locally", func(t *testing.T) {
		before := v.e.Count("")
		_, err := c.Photo(ctx, with.ID, "1x1")
		wantKind(t, err, graph.ErrBadRequest)
		if v.e.Count("") != before {
			t.Error("invalid size reached Graph")
		}
	})
}

// TestPhotoMissingCodes: Graph answers a missing photo with 404 and one of several
// codes depending on the user's mailbox; every one of them is ErrNotFound.
func TestPhotoMissingCodes(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	for _, code := range emulator.NoPhotoCodes() {
		t.Run(code, func(t *testing.T) {
			u := v.user(t, func(u emulator.User) bool { return !u.HasPhoto && emulator.NoPhotoCode(u.ID) == code })
			for _, size := range []string{"", "48x48"} {
				_, err := c.Photo(ctx, u.ID, size)
				wantKind(t, err, graph.ErrNotFound)
				var ge *graph.Error
				if errors.As(err, &ge); ge.Status != 404 || ge.Code != code {
					t.Errorf("size %q: status/code = %d/%q, want 404/%s", size, ge.Status, ge.Code, code)
				}
				assertNoPersonalData(t, err, u.ID, u.UserPrincipalName)
			}
		})
	}
}

// TestRevokeSignInSessionsAnswers: revokeSignInSessions succeeds on 200 {"value": true}
// and on 204 No Content alike (any 2xx, as Graph's known issue advises).
func TestRevokeSignInSessionsAnswers(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	for i, answer := range []emulator.RevokeAnswer{emulator.RevokeOKTrue, emulator.RevokeNoContent} {
		v.e.SetRevokeAnswer(answer)
		target := v.tenant.Users[20+i]
		before, _ := v.e.User(v.tenant.ID, target.ID)
		if err := c.RevokeSignInSessions(ctxT(t), target.ID); err != nil {
			t.Fatalf("answer %d: RevokeSignInSessions: %v", answer, err)
		}
		if after, _ := v.e.User(v.tenant.ID, target.ID); !after.SignInSessionsValidFromDateTime.After(before.SignInSessionsValidFromDateTime) {
			t.Errorf("answer %d: signInSessionsValidFromDateTime not moved", answer)
		}
	}
	if n := v.e.Count("POST /v1.0/users/{id}/revokeSignInSessions"); n != 2 {
		t.Errorf("upstream revocations = %d, want 2", n)
	}
}

func TestPresence(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	a, b := v.tenant.Users[0].ID, v.tenant.Users[1].ID

	p, err := c.Presence(ctx, a)
	if err != nil {
		t.Fatalf("Presence: %v", err)
	}
	if p.ID != a || p.Availability == "" || p.Activity == "" {
		t.Errorf("presence = %+v", p)
	}

	ps, err := c.Presences(ctx, []string{a, b})
	if err != nil {
		t.Fatalf("Presences: %v", err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if p.Availability == "" {
			t.Errorf("presence without availability: %+v", p)
		}
	}
	if !slices.Equal(sorted(ids), sorted([]string{a, b})) {
		t.Errorf("presences for %d ids, want 2", len(ids))
	}
	t.Run("userPrincipalName is refused locally", func(t *testing.T) {
		before := v.e.Count("")
		upn := v.tenant.Users[0].UserPrincipalName
		_, err := c.Presence(ctx, upn)
		wantKind(t, err, graph.ErrBadRequest)
		_, err = c.Presences(ctx, []string{a, upn})
		wantKind(t, err, graph.ErrBadRequest)
		if v.e.Count("") != before {
			t.Error("a presence read by userPrincipalName reached Graph")
		}
	})
}
