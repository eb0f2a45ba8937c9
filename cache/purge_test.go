package cache

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fillForPurge stores entries of two tenants; the same user id "u1" exists in both.
func fillForPurge(t *testing.T, c *Cache[string]) map[string]Key {
	keys := map[string]Key{
		"profile u1":   {Tenant: "t1", Kind: "user", ID: "u1"},
		"search":       {Tenant: "t1", Kind: "list", ID: "search=a"},
		"profile u2":   {Tenant: "t1", Kind: "user", ID: "u2"},
		"photo U1":     {Tenant: "t1", Kind: "photo", ID: "u1|48x48"},
		"t2 profile":   {Tenant: "t2", Kind: "user", ID: "u1"},
		"t2 reports":   {Tenant: "t2", Kind: "reports", ID: "u3"},
		"t1 no users":  {Tenant: "t1", Kind: "list", ID: "empty"},
		"manager of 3": {Tenant: "t1", Kind: "manager", ID: "u3"},
	}
	users := map[string][]string{
		"profile u1":   {"u1"},
		"search":       {"u1", "u2"},
		"profile u2":   {"u2"},
		"photo U1":     {"U1"}, // ids compare case-insensitively
		"t2 profile":   {"u1"},
		"t2 reports":   {"u3", "u1"},
		"t1 no users":  nil,
		"manager of 3": {"u3", "u1"},
	}
	for name, k := range keys {
		mustSet(t, c, k, Item[string]{Value: name, Size: 10, Users: users[name]})
	}
	return keys
}

func TestPurge(t *testing.T) {
	tests := []struct {
		name      string
		purge     func(c *Cache[string]) int
		wantCount int
		wantLeft  []string
	}{
		{
			name:      "user: every entry listing them, in their tenant only",
			purge:     func(c *Cache[string]) int { return c.PurgeUser("t1", "u1") },
			wantCount: 4,
			wantLeft:  []string{"profile u2", "t2 profile", "t2 reports", "t1 no users"},
		},
		{
			name:      "user: id case does not matter",
			purge:     func(c *Cache[string]) int { return c.PurgeUser("t1", "U2") },
			wantCount: 2,
			wantLeft:  []string{"profile u1", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "user: unknown user",
			purge:     func(c *Cache[string]) int { return c.PurgeUser("t1", "nobody") },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "user: empty tenant purges nothing",
			purge:     func(c *Cache[string]) int { return c.PurgeUser("", "u1") },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "where: every entry listing a matching user, in their tenant only",
			purge:     func(c *Cache[string]) int { return c.PurgeUsersWhere("t1", func(u string) bool { return u == "u1" }) },
			wantCount: 4,
			wantLeft:  []string{"profile u2", "t2 profile", "t2 reports", "t1 no users"},
		},
		{
			name: "where: several users match, an entry listing two is removed once",
			purge: func(c *Cache[string]) int {
				return c.PurgeUsersWhere("t1", func(u string) bool { return u == "u2" || u == "u3" })
			},
			wantCount: 3,
			wantLeft:  []string{"profile u1", "photo U1", "t2 profile", "t2 reports", "t1 no users"},
		},
		{
			name: "where: by keyed hash, as a remote logout does",
			purge: func(c *Cache[string]) int {
				want := testKeyedHash("t1", "U1")
				return c.PurgeUsersWhere("t1", func(u string) bool { return testKeyedHash("t1", u) == want })
			},
			wantCount: 4,
			wantLeft:  []string{"profile u2", "t2 profile", "t2 reports", "t1 no users"},
		},
		{
			name:      "where: nothing matches",
			purge:     func(c *Cache[string]) int { return c.PurgeUsersWhere("t1", func(string) bool { return false }) },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "where: empty tenant purges nothing",
			purge:     func(c *Cache[string]) int { return c.PurgeUsersWhere("", func(string) bool { return true }) },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "where: nil predicate purges nothing",
			purge:     func(c *Cache[string]) int { return c.PurgeUsersWhere("t1", nil) },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
		{
			name:      "tenant: all of it, no other tenant",
			purge:     func(c *Cache[string]) int { return c.PurgeTenant("t1") },
			wantCount: 6,
			wantLeft:  []string{"t2 profile", "t2 reports"},
		},
		{
			name:      "tenant: unknown tenant",
			purge:     func(c *Cache[string]) int { return c.PurgeTenant("t9") },
			wantCount: 0,
			wantLeft:  []string{"profile u1", "search", "profile u2", "photo U1", "t2 profile", "t2 reports", "t1 no users", "manager of 3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[string](t, Config{})
			keys := fillForPurge(t, c)
			if got := tt.purge(c); got != tt.wantCount {
				t.Errorf("purged %d, want %d", got, tt.wantCount)
			}
			left := map[string]bool{}
			for _, name := range tt.wantLeft {
				left[name] = true
			}
			for name, k := range keys {
				if _, ok := c.Get(k); ok != left[name] {
					t.Errorf("%s: present = %v, want %v", name, ok, left[name])
				}
			}
			if s := c.Stats(); s.Purged != int64(tt.wantCount) || s.Entries != int64(len(tt.wantLeft)) {
				t.Errorf("stats = %+v", s)
			}
			checkInvariants(t, c)
			if got := tt.purge(c); got != 0 {
				t.Errorf("second purge removed %d, want 0", got)
			}
		})
	}
}

// testKeyedHash stands in for the revocation list's keyed hash of tenant and user.
func testKeyedHash(tenant, user string) string {
	m := hmac.New(sha256.New, []byte("purge test secret"))
	m.Write([]byte(strings.ToLower(tenant) + "\x00" + strings.ToLower(user)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestPurgeUsersWhereAsksAboutTheTenantsUsersOnce(t *testing.T) {
	tests := []struct {
		name   string
		tenant string
		want   []string
	}{
		{"each distinct user, lowercased", "t1", []string{"u1", "u2", "u3"}},
		{"another tenant's users only", "t2", []string{"u1", "u3"}},
		{"unknown tenant: never asked", "t9", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[string](t, Config{})
			fillForPurge(t, c)
			var asked []string
			c.PurgeUsersWhere(tt.tenant, func(u string) bool { asked = append(asked, u); return false })
			slices.Sort(asked)
			if !slices.Equal(asked, tt.want) {
				t.Errorf("asked about %q, want %q", asked, tt.want)
			}
			if s := c.Stats(); s.Purged != 0 || s.Entries != 8 {
				t.Errorf("a purge matching nobody changed the cache: %+v", s)
			}
		})
	}
}

func TestPurgeDuringLoad(t *testing.T) {
	k := Key{Tenant: "t1", Kind: "user", ID: "u1"}
	tests := []struct {
		name       string
		purge      func(c *Cache[string])
		wantStored bool
	}{
		{"user purge wins", func(c *Cache[string]) { c.PurgeUser("t1", "u1") }, false},
		{"purge of another user of the tenant also wins", func(c *Cache[string]) { c.PurgeUser("t1", "u2") }, false},
		{"tenant purge wins", func(c *Cache[string]) { c.PurgeTenant("t1") }, false},
		{"purge by predicate wins", func(c *Cache[string]) {
			c.PurgeUsersWhere("t1", func(u string) bool { return u == "u1" })
		}, false},
		{"other tenant's purge does not matter", func(c *Cache[string]) { c.PurgeTenant("t2") }, true},
		{"other tenant's purge by predicate does not matter", func(c *Cache[string]) {
			c.PurgeUsersWhere("t2", func(string) bool { return true })
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[string](t, Config{})
			release := make(chan struct{})
			old := make(chan loadAnswer, 1)
			go func() {
				it, o, err := c.GetOrLoad(context.Background(), k, func(context.Context) (Item[string], error) {
					<-release
					return Item[string]{Value: "before purge", Users: []string{"u1"}}, nil
				})
				old <- loadAnswer{it, o, err}
			}()
			waitWaiting(t, c, 1)
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			defer unblock()
			tt.purge(c)

			// A caller arriving after a purge does not join the flight that started before it
			// (if it did, it would wait for release; the guard only keeps the test from hanging).
			fresh := "before purge"
			if !tt.wantStored {
				fresh = "after purge"
				guard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				it, o, err := c.GetOrLoad(guard, k, func(context.Context) (Item[string], error) {
					return Item[string]{Value: fresh, Users: []string{"u1"}}, nil
				})
				if err != nil || it.Value != fresh || o != OutcomeMiss {
					t.Fatalf("caller after purge got (%q, %q, %v), want a fresh load", it.Value, o, err)
				}
			}

			unblock()
			a := <-old
			if a.err != nil || a.item.Value != "before purge" {
				t.Fatalf("waiter of the purged load got %+v, want its result", a)
			}
			it, ok := c.Get(k)
			if !ok || it.Value != fresh {
				t.Errorf("cache holds (%q, %v), want %q", it.Value, ok, fresh)
			}
			wantDiscarded := int64(0)
			if !tt.wantStored {
				wantDiscarded = 1
			}
			if got := c.Stats().Discarded; got != wantDiscarded {
				t.Errorf("Discarded = %d, want %d", got, wantDiscarded)
			}
			checkInvariants(t, c)
		})
	}
}

func TestSetSince(t *testing.T) {
	k := Key{Tenant: "t1", Kind: "user", ID: "u1"}
	tests := []struct {
		name    string
		between func(c *Cache[string])
		epochOf string
		wantErr error
	}{
		{"no purge", func(*Cache[string]) {}, "t1", nil},
		{"user purged", func(c *Cache[string]) { c.PurgeUser("t1", "u1") }, "t1", ErrPurged},
		{"tenant purged", func(c *Cache[string]) { c.PurgeTenant("t1") }, "t1", ErrPurged},
		{"users purged by predicate", func(c *Cache[string]) {
			c.PurgeUsersWhere("t1", func(u string) bool { return u == "u1" })
		}, "t1", ErrPurged},
		{"other tenant purged", func(c *Cache[string]) { c.PurgeTenant("t2") }, "t1", nil},
		{"epoch of another tenant", func(*Cache[string]) {}, "t2", ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[string](t, Config{})
			e := c.Epoch(tt.epochOf)
			tt.between(c)
			err := c.SetSince(e, k, Item[string]{Value: "v", Users: []string{"u1"}})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("SetSince = %v, want %v", err, tt.wantErr)
			}
			if _, ok := c.Get(k); ok != (tt.wantErr == nil) {
				t.Errorf("stored = %v, want %v", ok, tt.wantErr == nil)
			}
			// A fresh epoch always works.
			if err := c.SetSince(c.Epoch("t1"), k, Item[string]{Value: "w"}); err != nil {
				t.Errorf("SetSince with a fresh epoch = %v", err)
			}
		})
	}
}
