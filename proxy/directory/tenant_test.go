package directory_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/proxy/directory"
)

func TestForeignUserIsNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	foreign := enabled(e.b)[2]
	for _, key := range []string{foreign.ID, foreign.UserPrincipalName} {
		_, _, err := e.user(key)
		wantErr(t, "User(foreign)", err, directory.ErrNotFound)
		_, _, err = e.dir.AnyUser(ctx, e.a.ID, key)
		wantErr(t, "AnyUser(foreign)", err, directory.ErrNotFound)
	}
	if last := e.lastRequest(t, routeUser); last.TenantID != e.a.ID {
		t.Errorf("read through tenant A went to tenant %s", last.TenantID)
	}
	// The same user read through its own tenant is found.
	if u, _, err := e.dir.User(ctx, e.b.ID, foreign.ID); err != nil || u.ID() != foreign.ID {
		t.Errorf("User through its own tenant = %q, %v", u.ID(), err)
	}
}

func TestCacheKeysAreTenantScoped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := enabled(e.a)[1]
	e.mustUser(t, u.ID, u.ID, cache.OutcomeMiss)

	// Tenant B has no such user: its read must go to B's upstream, not to A's entry.
	got, outcome, err := e.dir.User(ctx, e.b.ID, u.ID)
	wantErr(t, "User through tenant B", err, directory.ErrNotFound)
	if got != nil || outcome != cache.OutcomeMiss {
		t.Errorf("User through tenant B = %v, %q; want nil, miss", got, outcome)
	}
	e.wantCalls(t, routeUser, 2)
	if last := e.lastRequest(t, routeUser); last.TenantID != e.b.ID {
		t.Errorf("second read went to tenant %s, want %s", last.TenantID, e.b.ID)
	}

	// B's negative entry does not shadow A's record either.
	e.mustUser(t, u.ID, u.ID, cache.OutcomeHit)
	e.wantCalls(t, routeUser, 2)
}

func TestUnknownTenant(t *testing.T) {
	e := newEnv(t)
	const tid = "00000000-0000-4000-8000-00000000dead"
	ctx := context.Background()
	id := enabled(e.a)[1].ID
	calls := []struct {
		name string
		call func() error
	}{
		{"User", func() error { _, _, err := e.dir.User(ctx, tid, id); return err }},
		{"AnyUser", func() error { _, _, err := e.dir.AnyUser(ctx, tid, id); return err }},
		{"Users", func() error { _, _, err := e.dir.Users(ctx, tid, graph.Query{}); return err }},
		{"Manager", func() error { _, _, err := e.dir.Manager(ctx, tid, id); return err }},
		{"DirectReports", func() error { _, _, err := e.dir.DirectReports(ctx, tid, id); return err }},
		{"Photo", func() error { _, _, err := e.dir.Photo(ctx, tid, id, ""); return err }},
		{"Presence", func() error { _, _, err := e.dir.Presence(ctx, tid, id); return err }},
		{"Presences", func() error { _, err := e.dir.Presences(ctx, tid, []string{id, unknownID}); return err }},
		{"RevokeSignInSessions", func() error { return e.dir.RevokeSignInSessions(ctx, tid, id) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, directory.ErrUnknownTenant) {
				t.Errorf("error = %v, want ErrUnknownTenant", err)
			}
		})
	}
	e.dir.Prefetch(ctx, tid, []string{id, unknownID})
	if n := e.count(routeAll); n != 0 {
		t.Errorf("%d upstream calls for an unknown tenant", n)
	}
	if e.dir.Serves(tid) || !e.dir.Serves(e.a.ID) || !e.dir.Serves(e.b.ID) {
		t.Error("Serves does not tell the served tenants from an unknown one")
	}
}

// offlineUpstream is a graph client that is never called (New makes no network call).
func offlineUpstream(t *testing.T) directory.Upstream {
	t.Helper()
	up, err := graph.New(graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func TestNew(t *testing.T) {
	up := offlineUpstream(t)
	tests := []struct {
		name string
		cfg  directory.Config
		ok   bool
	}{
		{"one tenant", directory.Config{Tenants: []directory.Tenant{{ID: "t", Upstream: up}}}, true},
		{"no tenant", directory.Config{}, false},
		{"tenant without id", directory.Config{Tenants: []directory.Tenant{{Upstream: up}}}, false},
		{"tenant without upstream", directory.Config{Tenants: []directory.Tenant{{ID: "t"}}}, false},
		{"invalid cache", directory.Config{Tenants: []directory.Tenant{{ID: "t", Upstream: up}},
			Cache: cache.Config{TTL: cache.MaxTTL + 1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := directory.New(tt.cfg)
			if (err == nil) != tt.ok || (d != nil) != tt.ok {
				t.Errorf("New = %v, %v; want ok %t", d, err, tt.ok)
			}
		})
	}
}

func TestFieldsAreCopied(t *testing.T) {
	fields := slices.Clone(testFields)
	d, err := directory.New(directory.Config{Fields: fields,
		Tenants: []directory.Tenant{{ID: "t", Upstream: offlineUpstream(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	fields[0] = "mobilePhone"
	if !slices.Equal(d.Fields(), testFields) {
		t.Errorf("Fields = %v after the caller changed its slice, want %v", d.Fields(), testFields)
	}
}
