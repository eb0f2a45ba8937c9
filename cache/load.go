package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
)

// loadResult is what a singleflight call hands to every waiter.
type loadResult[V any] struct {
	owner *caller // the caller whose closure ran the flight
	item  Item[V]
	hit   bool // the flight found the key already cached and did not load
}

// caller identifies one GetOrLoad call within a flight.
type caller struct{ _ byte }

// GetOrLoad returns the item under key, loading it with load on a miss. Concurrent misses
// for one key share one load. The load runs with context.WithoutCancel of the first
// caller's ctx, so it must apply its own timeout; each caller waits only as long as its
// own ctx allows and otherwise returns ctx's error.
//
// If load returns an error, nothing is cached and every waiter gets the error, wrapped.
// If it returns an item with Err set, that negative result is cached for NegativeTTL and
// its Err is returned as the error, on this call and on later hits. A result is returned
// but not stored if the key's tenant was purged (PurgeUser or PurgeTenant) while it loaded;
// callers arriving after such a purge start a new load instead of joining the old one.
func (c *Cache[V]) GetOrLoad(ctx context.Context, key Key, load func(ctx context.Context) (Item[V], error)) (Item[V], Outcome, error) {
	if err := key.validate(); err != nil {
		return Item[V]{}, OutcomeMiss, err
	}
	if load == nil {
		return Item[V]{}, OutcomeMiss, errors.New("cache: nil load function")
	}
	if it, ok := c.lookup(key); ok {
		c.stats.hits.Add(1)
		return it, OutcomeHit, it.Err
	}
	if err := ctx.Err(); err != nil {
		c.stats.misses.Add(1)
		return Item[V]{}, OutcomeMiss, fmt.Errorf("cache: wait: %w", err)
	}

	c.mu.Lock()
	gen := c.gens[key.Tenant]
	c.mu.Unlock()
	me := &caller{}
	// The generation in the flight key makes callers after a purge start a fresh flight.
	ch := c.group.DoChan(strconv.FormatUint(gen, 10)+"|"+key.String(), func() (any, error) {
		return c.runLoad(ctx, key, gen, me, load)
	})

	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case r := <-ch:
		res, _ := r.Val.(loadResult[V])
		return c.finish(res, me, r.Err)
	case <-ctx.Done():
		c.stats.misses.Add(1)
		return Item[V]{}, OutcomeMiss, fmt.Errorf("cache: wait: %w", ctx.Err())
	}
}

// finish turns a flight's result into GetOrLoad's answer for caller me and counts it.
func (c *Cache[V]) finish(res loadResult[V], me *caller, err error) (Item[V], Outcome, error) {
	outcome := OutcomeShared
	switch {
	case res.owner != me:
		c.stats.misses.Add(1)
		c.stats.shared.Add(1)
	case res.hit:
		c.stats.hits.Add(1)
		outcome = OutcomeHit
	default:
		c.stats.misses.Add(1)
		outcome = OutcomeMiss
	}
	if err != nil {
		return Item[V]{}, outcome, err
	}
	return res.item, outcome, res.item.Err
}

// runLoad is the body of a flight: it rechecks the cache (a previous flight may have just
// stored the key), loads, and stores the result unless the tenant was purged since gen.
func (c *Cache[V]) runLoad(ctx context.Context, key Key, gen uint64, owner *caller,
	load func(context.Context) (Item[V], error)) (any, error) {
	res := loadResult[V]{owner: owner}
	if it, ok := c.lookup(key); ok {
		res.item, res.hit = it, true
		return res, nil
	}
	c.stats.loads.Add(1)
	item, err := c.callLoad(context.WithoutCancel(ctx), load)
	if err != nil {
		c.stats.loadErrors.Add(1)
		return res, err
	}
	res.item = item
	c.storeIfCurrent(key, item, gen)
	return res, nil
}

// callLoad runs load, turning a panic into an error wrapping ErrLoadPanic: a flight runs
// on its own goroutine, where a panic would otherwise end the process.
func (c *Cache[V]) callLoad(ctx context.Context, load func(context.Context) (Item[V], error)) (item Item[V], err error) {
	defer func() {
		if r := recover(); r != nil {
			// Only the panic value's type and the stack: the value may hold personal data.
			c.log.Error("cache: load panicked", "panic_type", fmt.Sprintf("%T", r), "stack", string(debug.Stack()))
			item, err = Item[V]{}, ErrLoadPanic
		}
	}()
	item, err = load(ctx)
	if err != nil {
		return Item[V]{}, fmt.Errorf("cache: load: %w", err)
	}
	return item, nil
}

// storeIfCurrent stores item unless key's tenant was purged after gen.
func (c *Cache[V]) storeIfCurrent(key Key, item Item[V], gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[key.Tenant] != gen {
		c.stats.discarded.Add(1)
		return
	}
	if err := c.storeLocked(key, item); err != nil {
		c.log.Debug("cache: loaded item not stored", "reason", err.Error())
	}
}
