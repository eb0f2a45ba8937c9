package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		want    Config // checked when no error
	}{
		{name: "zero value gets defaults", cfg: Config{},
			want: Config{TTL: time.Minute, NegativeTTL: time.Minute, MaxEntries: 10_000, MaxBytes: 64 << 20}},
		{name: "max TTL accepted", cfg: Config{TTL: MaxTTL, NegativeTTL: time.Second, MaxEntries: 5, MaxBytes: 100},
			want: Config{TTL: MaxTTL, NegativeTTL: time.Second, MaxEntries: 5, MaxBytes: 100}},
		{name: "negative TTL defaults to TTL", cfg: Config{TTL: 30 * time.Second},
			want: Config{TTL: 30 * time.Second, NegativeTTL: 30 * time.Second, MaxEntries: 10_000, MaxBytes: 64 << 20}},
		{name: "TTL above max refused", cfg: Config{TTL: MaxTTL + time.Second}, wantErr: true},
		{name: "TTL of an hour refused", cfg: Config{TTL: time.Hour}, wantErr: true},
		{name: "negative TTL refused", cfg: Config{TTL: -time.Second}, wantErr: true},
		{name: "negative NegativeTTL refused", cfg: Config{NegativeTTL: -time.Second}, wantErr: true},
		{name: "NegativeTTL above TTL refused", cfg: Config{TTL: time.Second, NegativeTTL: 2 * time.Second}, wantErr: true},
		{name: "NegativeTTL above default TTL refused", cfg: Config{NegativeTTL: 2 * time.Minute}, wantErr: true},
		{name: "negative MaxEntries refused", cfg: Config{MaxEntries: -1}, wantErr: true},
		{name: "negative MaxBytes refused", cfg: Config{MaxBytes: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New[string](tt.cfg)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("New error = %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := c.cfg
			got.Logger = nil
			if got != tt.want {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	c, _ := newTestCache[string](t, Config{})
	invalid := []struct {
		name string
		key  Key
	}{
		{"empty tenant", Key{Kind: "user", ID: "a"}},
		{"empty kind", Key{Tenant: "t1", ID: "a"}},
		{"separator in tenant", Key{Tenant: "t1|user", Kind: "x", ID: "a"}},
		{"separator in kind", Key{Tenant: "t1", Kind: "user|x", ID: "a"}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Set(tt.key, Item[string]{Value: "v"}); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Set error = %v, want ErrInvalidKey", err)
			}
			if _, ok := c.Get(tt.key); ok {
				t.Error("Get found an invalid key")
			}
			called := false
			_, _, err := c.GetOrLoad(t.Context(), tt.key, func(context.Context) (Item[string], error) {
				called = true
				return Item[string]{Value: "v"}, nil
			})
			if !errors.Is(err, ErrInvalidKey) || called {
				t.Errorf("GetOrLoad error = %v, load called = %v; want ErrInvalidKey without load", err, called)
			}
		})
	}
	if got := c.Stats().Entries; got != 0 {
		t.Errorf("entries after invalid keys = %d, want 0", got)
	}

	t.Run("tenants do not collide", func(t *testing.T) {
		a := Key{Tenant: "t1", Kind: "user", ID: "same"}
		b := Key{Tenant: "t2", Kind: "user", ID: "same"}
		mustSet(t, c, a, Item[string]{Value: "one"})
		mustSet(t, c, b, Item[string]{Value: "two"})
		for key, want := range map[Key]string{a: "one", b: "two"} {
			if it, ok := c.Get(key); !ok || it.Value != want {
				t.Errorf("Get = %q, %v; want %q", it.Value, ok, want)
			}
		}
	})
	t.Run("separator allowed in ID", func(t *testing.T) {
		k := Key{Tenant: "t1", Kind: "user", ID: "oid|displayName,mail"}
		mustSet(t, c, k, Item[string]{Value: "v"})
		if _, ok := c.Get(k); !ok {
			t.Error("miss for an ID holding the separator")
		}
		if got, want := k.String(), "t1|user|oid|displayName,mail"; got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
	})
}

func mustSet[V any](t *testing.T, c *Cache[V], k Key, it Item[V]) {
	t.Helper()
	if err := c.Set(k, it); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func TestGetHitMissAndTTL(t *testing.T) {
	errNoPhoto := errors.New("no photo")
	tests := []struct {
		name    string
		item    Item[string]
		liveFor time.Duration // still returned just before this age, gone at it
	}{
		{"positive entry lives for TTL", Item[string]{Value: "v", Size: 10}, time.Minute},
		{"negative entry lives for NegativeTTL", Item[string]{Err: errNoPhoto, Size: 10}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache[string](t, Config{TTL: time.Minute, NegativeTTL: 10 * time.Second})
			k := Key{Tenant: "t1", Kind: "user", ID: "a"}
			if _, ok := c.Get(k); ok {
				t.Fatal("hit on an empty cache")
			}
			mustSet(t, c, k, tt.item)
			clk.Advance(tt.liveFor - time.Millisecond)
			it, ok := c.Get(k)
			if !ok || it.Value != tt.item.Value || !errors.Is(it.Err, tt.item.Err) {
				t.Fatalf("Get before expiry = %+v, %v; want the stored item", it, ok)
			}
			clk.Advance(time.Millisecond)
			if _, ok := c.Get(k); ok {
				t.Fatal("Get returned an expired entry")
			}
			s := c.Stats()
			if s.Hits != 1 || s.Misses != 2 || s.Expirations != 1 || s.Entries != 0 || s.Bytes != 0 {
				t.Errorf("stats = %+v; want 1 hit, 2 misses, 1 expiration, nothing held", s)
			}
		})
	}
}

// TestExpiryRealTime checks the LRU underneath with a real 50 ms TTL: an entry is never
// returned once its TTL has passed, and an entry nobody reads is collected and unindexed.
func TestExpiryRealTime(t *testing.T) {
	const ttl = 50 * time.Millisecond
	t.Run("never returned after TTL", func(t *testing.T) {
		c, err := New[string](Config{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		k := Key{Tenant: "t1", Kind: "user", ID: "a"}
		mustSet(t, c, k, Item[string]{Value: "v"})
		storedBy := time.Now() // the entry was stored before this instant
		eventually(t, "expiry", func() bool {
			askedAt := time.Now()
			_, ok := c.Get(k)
			if ok && askedAt.Sub(storedBy) > ttl {
				t.Fatalf("hit %s after the store, TTL is %s", askedAt.Sub(storedBy), ttl)
			}
			return !ok
		})
	})
	t.Run("collected without being read", func(t *testing.T) {
		c, err := New[string](Config{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		mustSet(t, c, Key{Tenant: "t1", Kind: "user", ID: "a"}, Item[string]{Value: "v", Users: []string{"u1"}})
		eventually(t, "collection", func() bool { return c.Stats().Entries == 0 })
		if s := c.Stats(); s.Expirations != 1 || s.Bytes != 0 {
			t.Errorf("stats = %+v; want 1 expiration, 0 bytes", s)
		}
		c.idxMu.Lock()
		n := len(c.idx)
		c.idxMu.Unlock()
		if n != 0 {
			t.Errorf("index still holds %d tenants", n)
		}
		if got := c.PurgeUser("t1", "u1"); got != 0 {
			t.Errorf("PurgeUser after expiry = %d, want 0", got)
		}
	})
}

func TestBounds(t *testing.T) {
	// Every key below is 4 bytes long ("t1" + "k" + one letter), so Size 96 costs 100.
	key := func(id string) Key { return Key{Tenant: "t1", Kind: "k", ID: id} }
	item := func(size int) Item[int] { return Item[int]{Value: size, Size: size} }
	tests := []struct {
		name        string
		cfg         Config
		ops         func(t *testing.T, c *Cache[int])
		wantPresent []string
		wantEvicted int64
		wantBytes   int64
	}{
		{
			name: "bytes: least recently used evicted",
			cfg:  Config{MaxBytes: 300},
			ops: func(t *testing.T, c *Cache[int]) {
				mustSet(t, c, key("a"), item(96))
				mustSet(t, c, key("b"), item(96))
				mustSet(t, c, key("c"), item(96))
				c.Get(key("a")) // a is now more recent than b
				mustSet(t, c, key("d"), item(96))
			},
			wantPresent: []string{"a", "c", "d"}, wantEvicted: 1, wantBytes: 300,
		},
		{
			name: "bytes: a big item evicts several",
			cfg:  Config{MaxBytes: 300},
			ops: func(t *testing.T, c *Cache[int]) {
				mustSet(t, c, key("a"), item(96))
				mustSet(t, c, key("b"), item(96))
				mustSet(t, c, key("c"), item(96))
				mustSet(t, c, key("d"), item(196))
			},
			wantPresent: []string{"c", "d"}, wantEvicted: 2, wantBytes: 300,
		},
		{
			name: "bytes: an item over the bound is refused and drops the old entry",
			cfg:  Config{MaxBytes: 300},
			ops: func(t *testing.T, c *Cache[int]) {
				mustSet(t, c, key("a"), item(96))
				mustSet(t, c, key("b"), item(96))
				if err := c.Set(key("a"), item(297)); !errors.Is(err, ErrTooLarge) {
					t.Errorf("Set of a too large item = %v, want ErrTooLarge", err)
				}
			},
			wantPresent: []string{"b"}, wantEvicted: 0, wantBytes: 100,
		},
		{
			name: "bytes: replacing an entry recounts its size",
			cfg:  Config{MaxBytes: 300},
			ops: func(t *testing.T, c *Cache[int]) {
				mustSet(t, c, key("a"), item(196))
				mustSet(t, c, key("a"), item(96))
				mustSet(t, c, key("b"), item(96))
			},
			wantPresent: []string{"a", "b"}, wantEvicted: 0, wantBytes: 200,
		},
		{
			name: "entries: least recently used evicted",
			cfg:  Config{MaxEntries: 3},
			ops: func(t *testing.T, c *Cache[int]) {
				for _, id := range []string{"a", "b", "c"} {
					mustSet(t, c, key(id), item(0))
				}
				c.Get(key("a"))
				mustSet(t, c, key("d"), item(0))
				mustSet(t, c, key("e"), item(0))
			},
			wantPresent: []string{"a", "d", "e"}, wantEvicted: 2, wantBytes: 12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[int](t, tt.cfg)
			tt.ops(t, c)
			s := c.Stats()
			if s.Evictions != tt.wantEvicted || s.Bytes != tt.wantBytes || s.Entries != int64(len(tt.wantPresent)) {
				t.Errorf("stats = %+v; want %d evictions, %d bytes, %d entries",
					s, tt.wantEvicted, tt.wantBytes, len(tt.wantPresent))
			}
			for _, id := range tt.wantPresent {
				if _, ok := c.lru.Peek(key(id)); !ok {
					t.Errorf("%q was evicted", id)
				}
			}
			checkInvariants(t, c)
		})
	}
}

func TestStats(t *testing.T) {
	c, _ := newTestCache[string](t, Config{})
	a := Key{Tenant: "t1", Kind: "user", ID: "a"} // 7 bytes of key: a costs 47, b 97
	b := Key{Tenant: "t1", Kind: "user", ID: "b"}
	load := func(context.Context) (Item[string], error) {
		return Item[string]{Value: "b", Size: 90, Users: []string{"u"}}, nil
	}

	mustSet(t, c, a, Item[string]{Value: "a", Size: 40, Users: []string{"u"}})
	c.Get(a)                          // hit
	c.Get(b)                          // miss
	c.GetOrLoad(t.Context(), b, load) // miss, load
	c.GetOrLoad(t.Context(), b, load) // hit
	want := Stats{Hits: 2, Misses: 2, Loads: 1, Entries: 2, Bytes: 144}
	if got := c.Stats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	if n := c.PurgeUser("t1", "u"); n != 2 {
		t.Errorf("PurgeUser = %d, want 2", n)
	}
	want = Stats{Hits: 2, Misses: 2, Loads: 1, Purged: 2}
	if got := c.Stats(); got != want {
		t.Errorf("stats after purge = %+v, want %+v", got, want)
	}
}
