package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errBoom = errors.New("upstream failed")

type loadAnswer struct {
	item    Item[string]
	outcome Outcome
	err     error
}

func TestGetOrLoadSingleflight(t *testing.T) {
	const callers = 100
	tests := []struct {
		name      string
		loadErr   error
		wantCache bool
	}{
		{name: "value shared and cached", wantCache: true},
		{name: "error shared and not cached", loadErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestCache[string](t, Config{})
			k := Key{Tenant: "t1", Kind: "user", ID: "a"}
			release := make(chan struct{})
			var loads atomic.Int32
			load := func(context.Context) (Item[string], error) {
				loads.Add(1)
				<-release
				return Item[string]{Value: "v", Size: 1}, tt.loadErr
			}
			answers := make(chan loadAnswer, callers)
			for range callers {
				go func() {
					it, o, err := c.GetOrLoad(context.Background(), k, load)
					answers <- loadAnswer{it, o, err}
				}()
			}
			waitWaiting(t, c, callers)
			close(release)
			outcomes := map[Outcome]int{}
			for range callers {
				a := <-answers
				outcomes[a.outcome]++
				if tt.loadErr != nil {
					if !errors.Is(a.err, tt.loadErr) {
						t.Fatalf("error = %v, want %v", a.err, tt.loadErr)
					}
				} else if a.err != nil || a.item.Value != "v" {
					t.Fatalf("answer = %+v, want value v", a)
				}
			}
			if loads.Load() != 1 {
				t.Errorf("load called %d times, want 1", loads.Load())
			}
			if outcomes[OutcomeMiss] != 1 || outcomes[OutcomeShared] != callers-1 {
				t.Errorf("outcomes = %v, want 1 miss and %d shared", outcomes, callers-1)
			}
			if _, ok := c.Get(k); ok != tt.wantCache {
				t.Errorf("cached = %v, want %v", ok, tt.wantCache)
			}
			s := c.Stats()
			if s.Loads != 1 || s.Shared != callers-1 || s.Misses < callers {
				t.Errorf("stats = %+v", s)
			}
			if tt.loadErr != nil {
				if s.LoadErrors != 1 {
					t.Errorf("LoadErrors = %d, want 1", s.LoadErrors)
				}
				// Not cached: the next call loads again.
				c.GetOrLoad(context.Background(), k, load)
				if loads.Load() != 2 {
					t.Errorf("load called %d times after a failed load, want 2", loads.Load())
				}
			}
		})
	}
}

func TestGetOrLoadWaiterContext(t *testing.T) {
	c, _ := newTestCache[string](t, Config{})
	k := Key{Tenant: "t1", Kind: "user", ID: "a"}
	release := make(chan struct{})
	loadCtxErr := make(chan error, 1)
	load := func(ctx context.Context) (Item[string], error) {
		<-release
		loadCtxErr <- ctx.Err()
		return Item[string]{Value: "v"}, nil
	}

	impatient, cancel := context.WithCancel(context.Background())
	first := make(chan loadAnswer, 1)
	go func() {
		it, o, err := c.GetOrLoad(impatient, k, load)
		first <- loadAnswer{it, o, err}
	}()
	waitWaiting(t, c, 1)
	second := make(chan loadAnswer, 1)
	go func() {
		it, o, err := c.GetOrLoad(context.Background(), k, load)
		second <- loadAnswer{it, o, err}
	}()
	waitWaiting(t, c, 2)

	cancel()
	a := <-first // returns before the load finishes
	if !errors.Is(a.err, context.Canceled) {
		t.Fatalf("impatient caller error = %v, want context.Canceled", a.err)
	}
	close(release)
	b := <-second
	if b.err != nil || b.item.Value != "v" || b.outcome != OutcomeShared {
		t.Errorf("patient caller = %+v, want v (shared)", b)
	}
	if err := <-loadCtxErr; err != nil {
		t.Errorf("load context error = %v: the first caller's cancel reached the load", err)
	}
	if it, ok := c.Get(k); !ok || it.Value != "v" {
		t.Error("result of a load whose first caller gave up was not cached")
	}

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		_, _, err := c.GetOrLoad(ctx, Key{Tenant: "t1", Kind: "user", ID: "b"}, func(context.Context) (Item[string], error) {
			called = true
			return Item[string]{}, nil
		})
		if !errors.Is(err, context.Canceled) || called {
			t.Errorf("error = %v, load called = %v; want context.Canceled without load", err, called)
		}
	})
}

func TestGetOrLoadNegative(t *testing.T) {
	errNoPhoto := errors.New("no photo")
	c, clk := newTestCache[string](t, Config{TTL: time.Minute, NegativeTTL: 10 * time.Second})
	k := Key{Tenant: "t1", Kind: "photo", ID: "a|48x48"}
	loads := 0
	load := func(context.Context) (Item[string], error) {
		loads++
		return Item[string]{Err: errNoPhoto, Size: 8, Users: []string{"a"}}, nil
	}
	steps := []struct {
		name        string
		advance     time.Duration
		wantOutcome Outcome
		wantLoads   int
	}{
		{"first call loads", 0, OutcomeMiss, 1},
		{"negative result is a hit", 9 * time.Second, OutcomeHit, 1},
		{"expires after NegativeTTL", time.Second, OutcomeMiss, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			_, o, err := c.GetOrLoad(context.Background(), k, load)
			if !errors.Is(err, errNoPhoto) || o != st.wantOutcome || loads != st.wantLoads {
				t.Errorf("got (%v, %q) after %d loads; want (%v, %q) after %d",
					err, o, loads, errNoPhoto, st.wantOutcome, st.wantLoads)
			}
		})
	}
}

func TestGetOrLoadPanic(t *testing.T) {
	c, _ := newTestCache[string](t, Config{})
	k := Key{Tenant: "t1", Kind: "user", ID: "a"}
	_, _, err := c.GetOrLoad(context.Background(), k, func(context.Context) (Item[string], error) {
		panic("bug in loader")
	})
	if !errors.Is(err, ErrLoadPanic) {
		t.Fatalf("error = %v, want ErrLoadPanic", err)
	}
	if _, ok := c.Get(k); ok {
		t.Error("a panicking load was cached")
	}
}

// TestConcurrentUse mixes every operation from several goroutines; run it with -race.
// Afterwards the counters and the index must agree with the LRU's contents.
func TestConcurrentUse(t *testing.T) {
	c, clk := newTestCache[int](t, Config{TTL: time.Minute, NegativeTTL: 5 * time.Second, MaxEntries: 12, MaxBytes: 600})
	tenants := []string{"t1", "t2", "t3"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				n := g*7 + i
				k := Key{Tenant: tenants[n%3], Kind: "user", ID: string(rune('a' + n%20))}
				users := []string{string(rune('A' + n%5)), string(rune('a' + (n+1)%5))}
				switch n % 9 {
				case 0, 1:
					c.Set(k, Item[int]{Value: n, Size: n % 120, Users: users})
				case 2, 3:
					c.Get(k)
				case 4, 5:
					c.GetOrLoad(context.Background(), k, func(context.Context) (Item[int], error) {
						if n%4 == 0 {
							return Item[int]{Err: errBoom, Users: users}, nil
						}
						return Item[int]{Value: n, Size: n % 60, Users: users}, nil
					})
				case 6:
					c.PurgeUser(k.Tenant, users[0])
				case 7:
					if n%5 == 0 {
						c.PurgeTenant(k.Tenant)
					}
				case 8:
					clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, c)
	if c.Stats().Evictions == 0 {
		t.Error("no evictions: the bounds were not exercised")
	}
}
