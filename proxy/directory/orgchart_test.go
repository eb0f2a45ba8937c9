package directory_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

// org is a small org chart added to tenant A: boss (enabled) manages an enabled and a
// deactivated report; gone (deactivated) manages orphan (enabled).
type org struct {
	boss, report, offReport, gone, orphan emulator.User
}

func newOrg(t *testing.T, e *env) org {
	t.Helper()
	d := "@" + e.a.Domain
	var o org
	o.boss = e.addUser(t, emulator.User{UserPrincipalName: "boss.test" + d, AccountEnabled: true})
	o.report = e.addUser(t, emulator.User{UserPrincipalName: "report.test" + d, AccountEnabled: true, ManagerID: o.boss.ID})
	o.offReport = e.addUser(t, emulator.User{UserPrincipalName: "offreport.test" + d, ManagerID: o.boss.ID})
	o.gone = e.addUser(t, emulator.User{UserPrincipalName: "gone.test" + d})
	o.orphan = e.addUser(t, emulator.User{UserPrincipalName: "orphan.test" + d, AccountEnabled: true, ManagerID: o.gone.ID})
	return o
}

func TestManager(t *testing.T) {
	e := newEnv(t)
	o := newOrg(t, e)
	tests := []struct {
		name    string
		user    string
		want    string // the manager's id; "" for ErrNotFound
		wantErr error
	}{
		{"enabled manager", o.report.ID, o.boss.ID, nil},
		{"deactivated manager", o.orphan.ID, "", directory.ErrNotFound},
		{"no manager", o.boss.ID, "", directory.ErrNotFound},
		{"unknown user", unknownID, "", directory.ErrNotFound},
		{"user of another tenant", enabled(e.b)[3].ID, "", directory.ErrNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, want := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
				m, outcome, err := e.dir.Manager(context.Background(), e.a.ID, tt.user)
				if outcome != want {
					t.Errorf("outcome = %q, want %q", outcome, want)
				}
				if tt.wantErr != nil {
					wantErr(t, "Manager", err, tt.wantErr)
					if m != nil {
						t.Errorf("Manager = %v with error %v", m, err)
					}
					continue
				}
				if err != nil || m.ID() != tt.want || !m.AccountEnabled() {
					t.Errorf("Manager = %q, %v; want %q", m.ID(), err, tt.want)
				}
			}
			e.wantCalls(t, routeManager, i+1)
		})
	}
}

func TestDirectReports(t *testing.T) {
	e := newEnv(t)
	o := newOrg(t, e)
	ctx := context.Background()
	for _, want := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
		rs, outcome, err := e.dir.DirectReports(ctx, e.a.ID, o.boss.ID)
		if err != nil || outcome != want {
			t.Fatalf("DirectReports = %q, %v; want %q", outcome, err, want)
		}
		if len(rs) != 1 || rs[0].ID() != o.report.ID {
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID())
			}
			t.Errorf("reports = %v, want only the enabled report %s (not %s)", ids, o.report.ID, o.offReport.ID)
		}
	}
	e.wantCalls(t, routeReports, 1)

	rs, _, err := e.dir.DirectReports(ctx, e.a.ID, unknownID)
	wantErr(t, "DirectReports(unknown)", err, directory.ErrNotFound)
	if len(rs) != 0 {
		t.Errorf("reports of an unknown user = %v", rs)
	}
}

// TestDirectReportsPaged checks a team larger than Graph's page of directReports (100,
// https://learn.microsoft.com/graph/paging): every enabled report is returned, in one
// cached entry, after following @odata.nextLink.
func TestDirectReportsPaged(t *testing.T) {
	e := newEnv(t)
	d := "@" + e.a.Domain
	boss := e.addUser(t, emulator.User{UserPrincipalName: "bigboss.test" + d, AccountEnabled: true})
	want := map[string]bool{}
	for i := range 230 {
		u := e.addUser(t, emulator.User{UserPrincipalName: fmt.Sprintf("member%03d.test%s", i, d), AccountEnabled: i%7 != 0, ManagerID: boss.ID})
		if u.AccountEnabled {
			want[u.ID] = true
		}
	}
	for _, wantOutcome := range []cache.Outcome{cache.OutcomeMiss, cache.OutcomeHit} {
		rs, outcome, err := e.dir.DirectReports(context.Background(), e.a.ID, boss.ID)
		if err != nil || outcome != wantOutcome {
			t.Fatalf("DirectReports = %q, %v; want %q", outcome, err, wantOutcome)
		}
		got := map[string]bool{}
		for _, r := range rs {
			got[r.ID()] = true
		}
		if len(rs) != len(want) || !maps.Equal(got, want) {
			t.Fatalf("%d reports (%d distinct), want the %d enabled ones", len(rs), len(got), len(want))
		}
	}
	e.wantCalls(t, routeReports, 3)
}
