package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// receiveLoop keeps a subscription to the channel, re-subscribing with a fresh
// connection whenever it breaks.
func (r *Redis) receiveLoop(ctx context.Context) {
	defer r.wg.Done()
	for ctx.Err() == nil {
		ps := r.client.Subscribe(ctx, r.channel)
		err := r.receive(ctx, ps)
		_ = ps.Close()
		r.setSubscribed(false, err)
		sleep(ctx, r.rc.PingInterval)
	}
}

// receive applies messages until the subscription fails. A subscription silent for
// three ping intervals (pings unanswered) counts as failed.
//
// Once this instance has held the list it also subscribes to the holders channel, so
// that a new instance can tell whether someone will repair a list Redis lost.
func (r *Redis) receive(ctx context.Context, ps *redis.PubSub) error {
	lastSeen := time.Now()
	holding := false
	for {
		if !holding && r.holder.Load() {
			if err := ps.Subscribe(ctx, r.holders); err != nil {
				return err
			}
			holding = true
		}
		msg, err := ps.ReceiveTimeout(ctx, r.rc.PingInterval)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			if time.Since(lastSeen) > 3*r.rc.PingInterval {
				return errors.New("subscription unanswered")
			}
			_ = ps.Ping(ctx)
			continue
		}
		lastSeen = time.Now()
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == r.channel {
				r.setSubscribed(true, nil)
			}
		case *redis.Message:
			r.applyRecord(m.Payload)
		}
	}
}

// maintainLoop checks connectivity every ping interval and reloads the full set when
// needed: after a (re)subscription, when Redis lost the list, and every resync interval.
func (r *Redis) maintainLoop(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.rc.PingInterval)
	defer t.Stop()
	for {
		r.maintain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maintain probes Redis (the probe also tells whether Redis still vouches for the
// list) and syncs when needed.
func (r *Redis) maintain(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	n, err := r.client.Exists(cctx, r.listKey).Result()
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		r.setConnected(false, err)
		return
	}
	intact := n > 0
	r.setConnected(true, nil)
	r.mu.Lock()
	gen := r.subGen
	need := !intact || (r.subscribed && (!r.synced || r.syncedGen != gen)) ||
		time.Since(r.syncedAt) > r.rc.ResyncInterval || r.repairDue.Load()
	r.mu.Unlock()
	if !need {
		return
	}
	due := r.repairDue.Swap(false)
	err = r.sync(ctx, intact)
	if err != nil && due {
		r.repairDue.Store(true)
	}
	r.mu.Lock()
	r.syncedAt = time.Now()
	switch {
	case errors.Is(err, errAwaitRepair):
		r.synced, r.reason = false, err.Error()
	case err == nil:
		r.synced, r.syncedGen, r.lostSince = true, gen, time.Time{}
	}
	r.mu.Unlock()
	if err != nil && !errors.Is(err, errAwaitRepair) {
		r.setConnected(false, err)
		return
	}
	r.updateState()
}

// sync loads the full set into the mirror, writes back what Redis lacks (repair), and,
// when Redis did not vouch for the list (intact false), settles whether to trust it.
func (r *Redis) sync(ctx context.Context, intact bool) error {
	loaded, err := r.load(ctx)
	if err != nil {
		return err
	}
	n, err := r.repair(ctx, loaded)
	r.repaired.Add(int64(n))
	if n > 0 {
		r.cfg.Logger.Warn("revocations missing from redis written back from this instance's mirror",
			"written", n, "in_redis", len(loaded), "known", r.mir.len())
	}
	if err != nil {
		return err
	}
	if !intact {
		return r.settle(ctx)
	}
	return nil
}

// load reads every record under the key prefix with SCAN and MGET, merges it into the
// mirror and returns the cut-offs read (unix ms by keyed hash).
func (r *Redis) load(ctx context.Context) (map[string]int64, error) {
	loaded := map[string]int64{}
	var cursor uint64
	for {
		cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
		keys, next, err := r.client.Scan(cctx, cursor, r.keyPrefix+"*", 512).Result()
		if err == nil && len(keys) > 0 {
			var vals []any
			if vals, err = r.client.MGet(cctx, keys...).Result(); err == nil {
				for _, v := range vals {
					if s, ok := v.(string); ok {
						if rec, ok := parseRecord(s); ok && rec.Op == "revoke" {
							loaded[rec.Key] = max(loaded[rec.Key], rec.CutOff)
							r.apply(rec)
						}
					}
				}
			}
		}
		cancel()
		if err != nil {
			return nil, err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	r.mir.sweep(r.cfg.Now())
	return loaded, nil
}

// applyRecord merges a published record into the mirror and tells the subscribers
// about what is new.
func (r *Redis) applyRecord(payload string) {
	if rec, ok := parseRecord(payload); ok {
		r.apply(rec)
	}
}

// parseRecord decodes a stored or published record; ok is false for anything else.
func parseRecord(payload string) (record, bool) {
	var rec record
	if err := json.Unmarshal([]byte(payload), &rec); err != nil || rec.Tenant == "" {
		return record{}, false
	}
	return rec, rec.Op != "revoke" || rec.Key != ""
}

// apply merges rec into the mirror and tells the subscribers about what is new.
func (r *Redis) apply(rec record) {
	r.mu.Lock()
	subs := append([]Subscriber(nil), r.subs...)
	r.mu.Unlock()
	switch rec.Op {
	case "revoke":
		e := entry{tenant: rec.Tenant, cutOff: time.UnixMilli(rec.CutOff), expires: time.UnixMilli(rec.Expires)}
		if !r.mir.apply(rec.Key, e, r.cfg.Now()) {
			return
		}
		for _, s := range subs {
			if s.UserRevoked != nil {
				s.UserRevoked(rec.Tenant, rec.Key)
			}
		}
	case "purge":
		if rec.Origin == r.instance {
			return
		}
		for _, s := range subs {
			if s.TenantPurged != nil {
				s.TenantPurged(rec.Tenant)
			}
		}
	}
}

func (r *Redis) setSubscribed(on bool, err error) {
	r.mu.Lock()
	if on {
		r.subGen++
	} else if err != nil && !errors.Is(err, context.Canceled) {
		r.reason = "redis subscription lost: " + err.Error()
	}
	r.subscribed = on
	r.mu.Unlock()
	r.updateState()
}

func (r *Redis) setConnected(on bool, err error) {
	r.mu.Lock()
	r.connected = on
	if err != nil {
		r.reason = "redis unreachable: " + err.Error()
	}
	r.mu.Unlock()
	r.updateState()
}

// updateState recomputes whether the view is current and logs transitions.
func (r *Redis) updateState() {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.connected && r.subscribed && r.synced && r.syncedGen == r.subGen
	was := r.current.Load()
	switch {
	case cur && !was:
		r.current.Store(true)
		r.holder.Store(true)
		r.staleSince.Store(0)
		if r.degraded {
			r.cfg.Logger.Info("revocation list current again: redis reachable and re-synced", "known", r.mir.len())
		}
		r.degraded = false
	case !cur && was:
		r.current.Store(false)
		r.staleSince.Store(r.cfg.Now().UnixNano())
		r.degraded = true
		r.cfg.Logger.Warn("revocation list degraded: enforcing the last known revocations",
			"reason", r.reason, "on_unavailable", string(r.cfg.OnUnavailable), "known", r.mir.len())
	case !cur && !r.degraded && r.reason != notLoaded:
		r.degraded = true
		r.cfg.Logger.Warn("revocation list not loaded yet", "reason", r.reason,
			"on_unavailable", string(r.cfg.OnUnavailable))
	}
}

// notLoaded is the reason a store gives before its first attempt to reach Redis.
const notLoaded = "revocation list not yet loaded from redis"

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
