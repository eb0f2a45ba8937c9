package directory_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

func TestPhoto(t *testing.T) {
	e := newEnv(t)
	with := e.userWhere(t, func(u emulator.User) bool { return u.HasPhoto })
	without := e.userWhere(t, func(u emulator.User) bool { return !u.HasPhoto })
	tests := []struct {
		name, user, size, route string
		wantErr                 error
	}{
		{"largest", with.ID, "", routePhoto, nil},
		{"sized", with.ID, "48x48", routePhotoSize, nil},
		{"sized, upper case", with.ID, "64X64", routePhotoSize, nil},
		{"no photo", without.ID, "", routePhoto, directory.ErrNoPhoto},
		{"no photo, sized", without.ID, "96x96", routePhotoSize, directory.ErrNoPhoto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count(tt.route)
			for _, want := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
				p, outcome, err := e.dir.Photo(context.Background(), e.a.ID, tt.user, tt.size)
				if outcome != want {
					t.Errorf("outcome = %q, want %q", outcome, want)
				}
				if tt.wantErr != nil {
					wantErr(t, "Photo", err, tt.wantErr)
					if len(p.Data) != 0 {
						t.Errorf("Photo has %d bytes with error %v", len(p.Data), err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("Photo: %v", err)
				}
				if p.ContentType != "image/jpeg" || !bytes.HasPrefix(p.Data, []byte{0xff, 0xd8}) {
					t.Errorf("Photo = %q with %d bytes, want a JPEG", p.ContentType, len(p.Data))
				}
			}
			e.wantCalls(t, tt.route, before+1)
		})
	}
}

func TestPresence(t *testing.T) {
	e := newEnv(t)
	u := enabled(e.a)[2]
	for _, want := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
		p, outcome, err := e.dir.Presence(context.Background(), e.a.ID, u.ID)
		if err != nil || !strings.EqualFold(p.ID, u.ID) || p.Availability == "" || outcome != want {
			t.Errorf("Presence = %+v, %q, %v; want the presence of %s, %q", p, outcome, err, u.ID, want)
		}
	}
	e.wantCalls(t, routePresence, 1)
	// Presence does not check the account (the caller's subject lookup does, as for
	// Photo), so a deactivated id is only tested with Presences.
	hidden := []struct{ name, id string }{{"unknown", unknownID}, {"foreign", enabled(e.b)[1].ID}}
	for i, h := range hidden {
		t.Run(h.name, func(t *testing.T) {
			for _, want := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
				p, outcome, err := e.dir.Presence(context.Background(), e.a.ID, h.id)
				wantErr(t, "Presence", err, directory.ErrNotFound)
				if p != (graph.Presence{}) || outcome != want {
					t.Errorf("Presence = %+v, %q with error %v; want none, %q", p, outcome, err, want)
				}
			}
			e.wantCalls(t, routePresence, i+2) // the not-found answer is cached
		})
	}
}

func TestPresences(t *testing.T) {
	e := newEnv(t)
	us := enabled(e.a)
	off := disabled(t, e.a)
	ids := []string{us[1].ID, strings.ToUpper(us[1].ID), us[2].ID, off.ID, enabled(e.b)[1].ID, unknownID, us[2].ID}
	ps, err := e.dir.Presences(context.Background(), e.a.ID, ids)
	if err != nil {
		t.Fatalf("Presences: %v", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, strings.ToLower(p.ID))
	}
	slices.Sort(got)
	want := []string{strings.ToLower(us[1].ID), strings.ToLower(us[2].ID)}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Presences ids = %v, want %v (unknown, foreign and deactivated left out, repeats once)", got, want)
	}
	e.wantCalls(t, routePresences, 1)
	e.wantCalls(t, routeBatch, 1) // the users behind the 5 distinct ids, read in one $batch
	e.wantCalls(t, routeUser, 0)

	ps, err = e.dir.Presences(context.Background(), e.a.ID, []string{off.ID, unknownID})
	if err != nil || len(ps) != 0 {
		t.Errorf("Presences of hidden users only = %v, %v; want none", ps, err)
	}
	e.wantCalls(t, routePresences, 1) // nobody visible: Graph is not asked
}
