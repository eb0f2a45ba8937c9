package graph_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
)

var defaultFields = []string{
	"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}

func TestUser(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	fixture := v.user(t, func(u emulator.User) bool { return enabled(u) && len(u.BusinessPhones) > 0 })

	tests := []struct {
		name   string
		key    string
		fields []string
		want   []string
	}{
		{"by id, selected", fixture.ID, []string{"id", "displayName", "accountEnabled", "signInSessionsValidFromDateTime", "businessPhones"},
			[]string{"accountEnabled", "businessPhones", "displayName", "id", "signInSessionsValidFromDateTime"}},
		{"by upn, one field", fixture.UserPrincipalName, []string{"department"}, []string{"department"}},
		{"default set", fixture.ID, nil, defaultFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.e.ResetRequests()
			u, err := c.User(ctx, tt.key, tt.fields)
			if err != nil {
				t.Fatalf("User: %v", err)
			}
			if got := keys(u); !slices.Equal(got, sorted(tt.want)) {
				t.Fatalf("keys = %v, want %v", got, sorted(tt.want))
			}
			reqs := v.e.Requests()
			last := reqs[len(reqs)-1]
			if last.Route != "GET /v1.0/users/{id}" || !slices.Equal(sorted(last.Select), sorted(tt.fields)) {
				t.Errorf("upstream request = %s select %v, want select %v", last.Route, last.Select, tt.fields)
			}
		})
	}

	t.Run("value types survive", func(t *testing.T) {
		u, err := c.User(ctx, fixture.ID, []string{"id", "accountEnabled", "signInSessionsValidFromDateTime", "businessPhones", "department"})
		if err != nil {
			t.Fatal(err)
		}
		if u["id"] != fixture.ID || u["department"] != fixture.Department {
			t.Errorf("id/department = %v/%v", u["id"], u["department"])
		}
		if u["accountEnabled"] != true {
			t.Errorf("accountEnabled = %#v, want true", u["accountEnabled"])
		}
		s, ok := u["signInSessionsValidFromDateTime"].(string)
		ts, err := time.Parse(time.RFC3339, s)
		if !ok || err != nil || !ts.Equal(fixture.SignInSessionsValidFromDateTime.Truncate(time.Second)) {
			t.Errorf("signInSessionsValidFromDateTime = %#v, want %v", u["signInSessionsValidFromDateTime"], fixture.SignInSessionsValidFromDateTime)
		}
		phones, ok := u["businessPhones"].([]any)
		if !ok || len(phones) != len(fixture.BusinessPhones) || phones[0] != fixture.BusinessPhones[0] {
			t.Errorf("businessPhones = %#v, want %v", u["businessPhones"], fixture.BusinessPhones)
		}
	})

	t.Run("disabled account is returned with accountEnabled false", func(t *testing.T) {
		off := v.user(t, func(u emulator.User) bool { return !u.AccountEnabled })
		u, err := c.User(ctx, off.ID, []string{"id", "accountEnabled"})
		if err != nil {
			t.Fatal(err)
		}
		if u["accountEnabled"] != false {
			t.Errorf("accountEnabled = %#v, want false", u["accountEnabled"])
		}
	})
}

func TestUserNotFound(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	upn := "nobody.here@" + v.tenant.Domain
	_, err := c.User(ctxT(t), upn, []string{"id"})
	wantKind(t, err, graph.ErrNotFound)
	var ge *graph.Error
	errors.As(err, &ge)
	if ge.Status != 404 || ge.Code == "" {
		t.Errorf("Error = %+v, want status 404 with Graph's code", ge)
	}
	assertNoPersonalData(t, err, upn, "nobody")
}

func TestUserRejectsBadInput(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	tests := []struct {
		name   string
		id     string
		fields []string
	}{
		{"empty id", "", nil},
		{"path in id", "a/../b", nil},
		{"option smuggled in field", "x", []string{"id,manager"}},
		{"expand smuggled in field", "x", []string{"id&$expand=manager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.User(ctxT(t), tt.id, tt.fields)
			wantKind(t, err, graph.ErrBadRequest)
		})
	}
	if n := v.e.Count("GET /v1.0/users/{id}"); n != 0 {
		t.Errorf("invalid input reached Graph %d times", n)
	}
}

func TestUsersSearchAndPaging(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)

	q := graph.Query{Filter: "accountEnabled eq true", Top: 7, Count: true, Fields: []string{"id", "displayName", "accountEnabled"}}
	seen := map[string]bool{}
	var count *int64
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		page, err := c.Users(ctx, q)
		if err != nil {
			t.Fatalf("Users page %d: %v", pages, err)
		}
		if len(page.Users) > q.Top {
			t.Fatalf("page has %d users, $top %d", len(page.Users), q.Top)
		}
		// Graph answers @odata.count on the first page only:
		// https://learn.microsoft.com/graph/paging
		switch {
		case pages == 0 && page.Count == nil:
			t.Fatal("Count requested but nil on the first page")
		case pages == 0:
			count = page.Count
		case page.Count != nil:
			t.Fatalf("Count on page %d", pages)
		}
		for _, u := range page.Users {
			id := u["id"].(string)
			if seen[id] {
				t.Fatalf("user repeated across pages")
			}
			seen[id] = true
			if u["accountEnabled"] != true {
				t.Fatalf("filter not applied: %v", u["accountEnabled"])
			}
			if got := keys(u); !slices.Equal(got, sorted(q.Fields)) {
				t.Fatalf("keys = %v, want %v", got, sorted(q.Fields))
			}
		}
		if page.SkipToken == "" {
			break
		}
		q.SkipToken = page.SkipToken
	}
	wantEnabled := 0
	for _, u := range v.tenant.Users {
		if u.AccountEnabled {
			wantEnabled++
		}
	}
	if len(seen) != wantEnabled || *count != int64(wantEnabled) {
		t.Errorf("paged through %d users, count %d; want %d enabled users", len(seen), *count, wantEnabled)
	}

	t.Run("search needs and gets ConsistencyLevel", func(t *testing.T) {
		target := v.user(t, enabled)
		page, err := c.Users(ctx, graph.Query{Search: `"displayName:` + target.DisplayName + `"`, Fields: []string{"id", "displayName"}})
		if err != nil {
			t.Fatalf("Users search: %v", err)
		}
		if !slices.ContainsFunc(page.Users, func(u graph.User) bool { return u["id"] == target.ID }) {
			t.Errorf("search for a display name did not find its user among %d results", len(page.Users))
		}
	})

	t.Run("invalid top", func(t *testing.T) {
		_, err := c.Users(ctx, graph.Query{Top: 5000})
		wantKind(t, err, graph.ErrBadRequest)
	})
}

func TestManagerAndDirectReports(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	ctx := ctxT(t)
	report := v.user(t, func(u emulator.User) bool { return enabled(u) && u.ManagerID != "" })
	fields := []string{"id", "displayName", "accountEnabled"}

	m, err := c.Manager(ctx, report.ID, fields)
	if err != nil {
		t.Fatalf("Manager: %v", err)
	}
	if m["id"] != report.ManagerID || !slices.Equal(keys(m), sorted(fields)) {
		t.Errorf("manager = %v, want id %s with keys %v", m, report.ManagerID, fields)
	}

	reports, err := c.DirectReports(ctx, report.ManagerID, fields)
	if err != nil {
		t.Fatalf("DirectReports: %v", err)
	}
	var want []string
	for _, info := range v.tenant.Users {
		if u, _ := v.e.User(v.tenant.ID, info.ID); u.ManagerID == report.ManagerID {
			want = append(want, u.ID)
		}
	}
	var got []string
	for _, r := range reports {
		got = append(got, r["id"].(string))
		if !slices.Equal(keys(r), sorted(fields)) {
			t.Errorf("report keys = %v, want %v", keys(r), fields)
		}
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("direct reports = %d ids, want %d", len(got), len(want))
	}

	t.Run("more reports than one page", func(t *testing.T) {
		// Graph pages directReports by 100 (https://learn.microsoft.com/graph/paging):
		// 250 reports take three pages, each followed through @odata.nextLink.
		mgr, err := v.e.AddUser(v.tenant.ID, emulator.User{UserPrincipalName: "bigteam@" + v.tenant.Domain, AccountEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for i := range 250 {
			r, err := v.e.AddUser(v.tenant.ID, emulator.User{UserPrincipalName: fmt.Sprintf("bigteam%03d@%s", i, v.tenant.Domain),
				AccountEnabled: i%10 != 0, ManagerID: mgr.ID})
			if err != nil {
				t.Fatal(err)
			}
			want[r.ID] = true
		}
		v.e.ResetRequests()
		reports, err := c.DirectReports(ctx, mgr.ID, fields)
		if err != nil {
			t.Fatalf("DirectReports: %v", err)
		}
		got := map[string]bool{}
		for _, r := range reports {
			got[r.ID()] = true
		}
		if len(reports) != len(want) || len(got) != len(want) || !maps.Equal(got, want) {
			t.Errorf("got %d reports (%d distinct), want %d", len(reports), len(got), len(want))
		}
		if n := v.e.Count("GET /v1.0/users/{id}/directReports"); n != 3 {
			t.Errorf("%d directReports requests, want 3 pages", n)
		}
	})

	t.Run("top of the org has no manager", func(t *testing.T) {
		top := v.user(t, func(u emulator.User) bool { return u.ManagerID == "" })
		_, err := c.Manager(ctx, top.ID, fields)
		wantKind(t, err, graph.ErrNotFound)
		assertNoPersonalData(t, err, top.ID, top.UserPrincipalName)
	})
}

func TestRevokeSignInSessions(t *testing.T) {
	v := newEnv(t)
	c := v.client(t)
	target := v.user(t, enabled)
	before := target.SignInSessionsValidFromDateTime
	if err := c.RevokeSignInSessions(ctxT(t), target.ID); err != nil {
		t.Fatalf("RevokeSignInSessions: %v", err)
	}
	after, _ := v.e.User(v.tenant.ID, target.ID)
	if !after.SignInSessionsValidFromDateTime.After(before) {
		t.Errorf("signInSessionsValidFromDateTime not moved: %v -> %v", before, after.SignInSessionsValidFromDateTime)
	}
	u, err := c.User(ctxT(t), target.ID, []string{"signInSessionsValidFromDateTime"})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := time.Parse(time.RFC3339, u["signInSessionsValidFromDateTime"].(string))
	if !ts.Equal(after.SignInSessionsValidFromDateTime.Truncate(time.Second)) {
		t.Errorf("read back %v, want %v", ts, after.SignInSessionsValidFromDateTime)
	}
	err = c.RevokeSignInSessions(ctxT(t), "00000000-0000-0000-0000-000000000000")
	wantKind(t, err, graph.ErrNotFound)
}
