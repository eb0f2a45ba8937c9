package directory_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

func TestPurgeUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.userWhere(t, func(u emulator.User) bool { return u.HasPhoto && u.ManagerID != "" })
	report := e.userWhere(t, func(r emulator.User) bool { return r.ManagerID == u.ID })
	other := e.userWhere(t, func(o emulator.User) bool { return o.ID != u.ID && o.ID != report.ID })
	e.mustUser(t, u.ID, u.ID, cache.OutcomeMiss)
	e.mustUser(t, u.UserPrincipalName, u.ID, cache.OutcomeMiss)
	e.mustUser(t, other.ID, other.ID, cache.OutcomeMiss)
	if _, _, err := e.dir.Photo(ctx, e.a.ID, u.ID, ""); err != nil {
		t.Fatalf("Photo: %v", err)
	}
	if m, _, err := e.dir.Manager(ctx, e.a.ID, report.ID); err != nil || m.ID() != u.ID {
		t.Fatalf("Manager = %v, %v; want %s", m, err, u.ID)
	}

	if err := e.emu.SetAccountEnabled(e.a.ID, u.ID, false); err != nil {
		t.Fatal(err)
	}
	e.mustUser(t, u.ID, u.ID, cache.OutcomeHit) // the cache does not know yet
	// By id, UPN, photo, and the report's manager entry that holds u's data.
	if n := e.dir.PurgeUser(e.a.ID, strings.ToUpper(u.ID)); n != 4 {
		t.Errorf("PurgeUser dropped %d records, want 4", n)
	}
	for _, key := range []string{u.ID, u.UserPrincipalName} {
		_, outcome, err := e.user(key)
		wantErr(t, "User after deactivation and purge", err, directory.ErrNotFound)
		if outcome != cache.OutcomeMiss {
			t.Errorf("User after purge: outcome %q, want miss", outcome)
		}
	}
	if _, outcome, err := e.dir.Manager(ctx, e.a.ID, report.ID); outcome != cache.OutcomeMiss {
		t.Errorf("Manager after purging the manager = %q, %v; want a miss", outcome, err)
	}
	e.mustUser(t, other.ID, other.ID, cache.OutcomeHit)
	e.wantCalls(t, routeUser, 5)
	e.wantCalls(t, routeManager, 2)
}

func TestPurgeTenant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ua, ub := enabled(e.a)[1], enabled(e.b)[1]
	e.mustUser(t, ua.ID, ua.ID, cache.OutcomeMiss)
	if _, _, err := e.dir.User(ctx, e.b.ID, ub.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.dir.PurgeTenant(e.a.ID); n != 1 {
		t.Errorf("PurgeTenant dropped %d records, want 1", n)
	}
	e.mustUser(t, ua.ID, ua.ID, cache.OutcomeMiss)
	if _, outcome, err := e.dir.User(ctx, e.b.ID, ub.ID); err != nil || outcome != cache.OutcomeHit {
		t.Errorf("other tenant's record after PurgeTenant = %q, %v; want a hit", outcome, err)
	}
	e.wantCalls(t, routeUser, 3)
}

func TestPurgeUsersWhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	us := enabled(e.a)
	target, kept := us[1], us[2]
	foreign := enabled(e.b)[1]
	e.mustUser(t, target.ID, target.ID, cache.OutcomeMiss)
	e.mustUser(t, kept.ID, kept.ID, cache.OutcomeMiss)
	if _, _, err := e.dir.User(ctx, e.b.ID, foreign.ID); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	n := e.dir.PurgeUsersWhere(e.a.ID, func(id string) bool {
		mu.Lock()
		seen[id] = true
		mu.Unlock()
		return strings.EqualFold(id, target.ID)
	})
	if n != 1 {
		t.Errorf("PurgeUsersWhere dropped %d records, want 1", n)
	}
	if seen[foreign.ID] || !seen[strings.ToLower(kept.ID)] {
		t.Errorf("the matcher saw %v: want tenant A's ids only", seen)
	}
	e.mustUser(t, target.ID, target.ID, cache.OutcomeMiss)
	e.mustUser(t, kept.ID, kept.ID, cache.OutcomeHit)
	if _, outcome, _ := e.dir.User(ctx, e.b.ID, foreign.ID); outcome != cache.OutcomeHit {
		t.Errorf("other tenant's record: outcome %q, want hit", outcome)
	}
}

func TestRevokeSignInSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := enabled(e.a)[2]
	before, _ := e.emu.User(e.a.ID, u.ID)
	for range 2 { // never cached: each call reaches Graph
		if err := e.dir.RevokeSignInSessions(ctx, e.a.ID, u.ID); err != nil {
			t.Fatalf("RevokeSignInSessions: %v", err)
		}
	}
	e.wantCalls(t, routeRevoke, 2)
	if after, _ := e.emu.User(e.a.ID, u.ID); !after.SignInSessionsValidFromDateTime.After(before.SignInSessionsValidFromDateTime) {
		t.Errorf("sessions valid from %v, want after %v", after.SignInSessionsValidFromDateTime, before.SignInSessionsValidFromDateTime)
	}
	err := e.dir.RevokeSignInSessions(ctx, e.a.ID, enabled(e.b)[1].ID)
	wantErr(t, "RevokeSignInSessions(foreign)", err, directory.ErrNotFound)
}
