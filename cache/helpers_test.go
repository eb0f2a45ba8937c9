package cache

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a hand-set clock for the cache's own expiry check. The LRU underneath keeps
// real time, so tests using it configure a TTL long enough not to matter in real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// newTestCache returns a cache on a fake clock.
func newTestCache[V any](t testing.TB, cfg Config) (*Cache[V], *fakeClock) {
	t.Helper()
	c, err := New[V](cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	clk := &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.now = clk.Now
	return c, clk
}

// eventually polls cond every few milliseconds until it holds, failing after 5 s. The
// deadline only guards against hangs; no assertion depends on how fast cond comes true.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitWaiting waits until n GetOrLoad callers are blocked on a flight.
func waitWaiting[V any](t *testing.T, c *Cache[V], n int64) {
	t.Helper()
	eventually(t, "waiting callers", func() bool { return c.waiting.Load() == n })
}

// checkInvariants verifies that the counters and the purge index agree with the LRU's
// contents. The LRU's own TTL must not run out during the test (Peek hides such entries).
func checkInvariants[V any](t *testing.T, c *Cache[V]) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := c.lru.Keys()
	var bytes int64
	wantIdx := map[string]*tenantIndex{}
	for _, k := range keys {
		e, ok := c.lru.Peek(k)
		if !ok {
			t.Fatalf("key in LRU but Peek failed")
		}
		bytes += e.charge
		ti := wantIdx[k.Tenant]
		if ti == nil {
			ti = &tenantIndex{keys: map[Key]struct{}{}, users: map[string]map[Key]struct{}{}}
			wantIdx[k.Tenant] = ti
		}
		ti.keys[k] = struct{}{}
		for _, u := range e.item.Users {
			if ti.users[u] == nil {
				ti.users[u] = map[Key]struct{}{}
			}
			ti.users[u][k] = struct{}{}
		}
	}
	c.idxMu.Lock()
	defer c.idxMu.Unlock()
	if got := c.stats.entries.Load(); got != int64(len(keys)) {
		t.Errorf("entries counter = %d, LRU holds %d", got, len(keys))
	}
	if got := c.stats.bytes.Load(); got != bytes {
		t.Errorf("bytes counter = %d, entries sum to %d", got, bytes)
	}
	if len(keys) > c.cfg.MaxEntries || bytes > c.cfg.MaxBytes {
		t.Errorf("bounds exceeded: %d entries, %d bytes", len(keys), bytes)
	}
	if len(c.idx) != len(wantIdx) {
		t.Fatalf("index has %d tenants, want %d", len(c.idx), len(wantIdx))
	}
	for tenant, want := range wantIdx {
		got := c.idx[tenant]
		if got == nil || len(got.keys) != len(want.keys) || len(got.users) != len(want.users) {
			t.Fatalf("index of a tenant disagrees with the LRU")
		}
		for u, set := range want.users {
			if len(got.users[u]) != len(set) {
				t.Fatalf("user index disagrees with the LRU")
			}
			for k := range set {
				if _, ok := got.users[u][k]; !ok {
					t.Fatalf("user index misses a key")
				}
			}
		}
	}
}
