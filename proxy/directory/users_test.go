package directory_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphgate/graphgate/cache"
	"github.com/graphgate/graphgate/graph"
	"github.com/graphgate/graphgate/graph/emulator"
	"github.com/graphgate/graphgate/proxy/directory"
)

func TestUserEnabled(t *testing.T) {
	e := newEnv(t)
	us := enabled(e.a)
	mixed := func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	tests := []struct {
		name  string
		user  emulator.UserInfo
		key   func(emulator.UserInfo) string
		again func(string) string // the key of the second read
	}{
		{"object id", us[1], func(u emulator.UserInfo) string { return u.ID }, strings.ToUpper},
		{"object id in upper case", us[2], func(u emulator.UserInfo) string { return strings.ToUpper(u.ID) }, strings.ToLower},
		{"upn", us[3], func(u emulator.UserInfo) string { return u.UserPrincipalName }, strings.ToUpper},
		{"upn in upper case", us[4], func(u emulator.UserInfo) string { return strings.ToUpper(u.UserPrincipalName) }, mixed},
		{"upn in mixed case", us[5], func(u emulator.UserInfo) string { return mixed(u.UserPrincipalName) }, strings.ToLower},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count(routeUser)
			key := tt.key(tt.user)
			e.mustUser(t, key, tt.user.ID, cache.OutcomeMiss)
			e.mustUser(t, tt.again(key), tt.user.ID, cache.OutcomeHit)
			e.wantCalls(t, routeUser, before+1)
			if sel := e.lastRequest(t, routeUser).Select; !slices.Equal(sel, testFields) {
				t.Errorf("$select sent = %v, want %v", sel, testFields)
			}
		})
	}
}

func TestUserDeactivated(t *testing.T) {
	e := newEnv(t)
	d := disabled(t, e.a)
	ctx := context.Background()
	for _, key := range []string{d.ID, d.UserPrincipalName} {
		u, outcome, err := e.user(key)
		if outcome != cache.OutcomeMiss {
			t.Errorf("User(deactivated) outcome = %q, want miss", outcome)
		}
		wantErr(t, "User(deactivated)", err, directory.ErrNotFound)
		if u != nil {
			t.Errorf("User(deactivated) = %v, want no record", u)
		}
		u, outcome, err = e.dir.AnyUser(ctx, e.a.ID, key)
		if err != nil {
			t.Fatalf("AnyUser(deactivated): %v", err)
		}
		if u.ID() != d.ID || u.AccountEnabled() {
			t.Errorf("AnyUser = id %q enabled %t, want id %q enabled false", u.ID(), u.AccountEnabled(), d.ID)
		}
		if outcome != cache.OutcomeHit {
			t.Errorf("AnyUser after User outcome = %q, want hit", outcome)
		}
	}
	e.wantCalls(t, routeUser, 2) // one by id, one by UPN
}

func TestUserUnknownIsCachedNegatively(t *testing.T) {
	e := newEnv(t)
	for i, key := range []string{unknownID, "nobody@" + e.a.Domain, e.b.Users[0].ID} {
		_, outcome, err := e.user(key)
		wantErr(t, "User(unknown)", err, directory.ErrNotFound)
		if outcome != cache.OutcomeMiss {
			t.Errorf("first read outcome = %q, want miss", outcome)
		}
		_, outcome, err = e.dir.AnyUser(context.Background(), e.a.ID, strings.ToUpper(key))
		wantErr(t, "AnyUser(unknown) again", err, directory.ErrNotFound)
		if outcome != cache.OutcomeHit {
			t.Errorf("second read outcome = %q, want hit", outcome)
		}
		e.wantCalls(t, routeUser, i+1)
	}
}

func TestUsersList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	q := graph.Query{Top: 999, Fields: []string{"mobilePhone"}} // Fields is replaced
	page, outcome, err := e.dir.Users(ctx, e.a.ID, q)
	if err != nil || outcome != cache.OutcomeMiss {
		t.Fatalf("Users = %v, %v; want a miss", outcome, err)
	}
	if len(page.Users) != len(enabled(e.a)) || len(enabled(e.a)) == len(e.a.Users) {
		t.Errorf("page holds %d users; the tenant has %d, %d of them enabled",
			len(page.Users), len(e.a.Users), len(enabled(e.a)))
	}
	off := disabled(t, e.a)
	for _, u := range page.Users {
		if !u.AccountEnabled() || u.ID() == off.ID {
			t.Errorf("deactivated user %s in the page", u.ID())
		}
		keys := slices.Sorted(maps.Keys(u))
		if want := slices.Sorted(slices.Values(testFields)); !slices.Equal(keys, want) {
			t.Fatalf("user keys = %v, want %v", keys, want)
		}
	}
	if sel := e.lastRequest(t, routeList).Select; !slices.Equal(sel, testFields) {
		t.Errorf("$select sent = %v, want %v", sel, testFields)
	}
	if _, outcome, _ := e.dir.Users(ctx, e.a.ID, q); outcome != cache.OutcomeHit {
		t.Errorf("same query again: outcome %q, want hit", outcome)
	}
	if _, outcome, _ := e.dir.Users(ctx, e.a.ID, graph.Query{Top: 5}); outcome != cache.OutcomeMiss {
		t.Errorf("another query: outcome %q, want miss", outcome)
	}
	e.wantCalls(t, routeList, 2)
}

func TestPrefetch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []int{2, 19, 20, 21, 45, 59} {
		t.Run(strconv.Itoa(n)+" users", func(t *testing.T) {
			e.dir.PurgeTenant(e.a.ID)
			batches, users := e.count(routeBatch), e.count(routeUser)
			var ids []string
			for _, u := range e.a.Users[:n-1] {
				ids = append(ids, u.ID, strings.ToUpper(u.ID)) // repeats are fetched once
			}
			ids = append(ids, unknownID)
			e.dir.Prefetch(ctx, e.a.ID, ids)
			e.wantCalls(t, routeBatch, batches+(n+19)/20)
			e.dir.Prefetch(ctx, e.a.ID, ids) // all cached now
			for _, u := range e.a.Users[:n-1] {
				got, outcome, err := e.dir.AnyUser(ctx, e.a.ID, u.ID)
				if err != nil || got.ID() != u.ID || outcome != cache.OutcomeHit {
					t.Errorf("AnyUser after Prefetch = %q, %q, %v; want %q, hit", got.ID(), outcome, err, u.ID)
				}
			}
			_, outcome, err := e.user(unknownID)
			wantErr(t, "User(unknown) after Prefetch", err, directory.ErrNotFound)
			if outcome != cache.OutcomeHit {
				t.Errorf("User(unknown) after Prefetch: outcome %q, want hit", outcome)
			}
			e.wantCalls(t, routeBatch, batches+(n+19)/20)
			e.wantCalls(t, routeUser, users)
		})
	}
}

func TestSingleFlight(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFault(routeUser, emulator.Fault{Latency: 200 * time.Millisecond})
	u := enabled(e.a)[3]
	const n = 50
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[cache.Outcome]int{}
	)
	for range n {
		wg.Go(func() {
			got, outcome, err := e.user(u.ID)
			if err != nil || got.ID() != u.ID {
				t.Errorf("User = %q, %v; want %q", got.ID(), err, u.ID)
			}
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	e.wantCalls(t, routeUser, 1)
	if outcomes[cache.OutcomeMiss] != 1 || outcomes[cache.OutcomeShared]+outcomes[cache.OutcomeHit] != n-1 {
		t.Errorf("outcomes = %v, want 1 miss and %d shared or hit", outcomes, n-1)
	}
}
