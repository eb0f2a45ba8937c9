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
		sleep(ctx, r.rc.resubscribeBackoff())
	}
}

// receive applies messages until the subscription fails. A subscription silent for
// longer than silenceLimit (its pings unanswered) counts as failed; the silence is
// checked once per ping interval (see RedisConfig.recoveryTime).
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
			if time.Since(lastSeen) > r.rc.silenceLimit() {
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

// maintain probes Redis (the probe also reads the key by which Redis vouches for the
// list) and syncs when needed.
func (r *Redis) maintain(ctx context.Context) {
	mark, err := r.mark(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		r.setConnected(false, err)
		return
	}
	r.setConnected(true, nil)
	r.mu.Lock()
	gen := r.subGen
	need := mark == "" || (r.subscribed && (!r.synced || r.syncedGen != gen)) ||
		time.Since(r.syncedAt) > r.rc.ResyncInterval || r.repairDue.Load()
	r.mu.Unlock()
	if !need {
		return
	}
	due := r.repairDue.Swap(false)
	err = r.sync(ctx, mark)
	if err != nil && due {
		r.repairDue.Store(true)
	}
	r.mu.Lock()
	r.syncedAt = time.Now()
	switch {
	case errors.Is(err, errAwaitRepair), errors.Is(err, errListChanged):
		r.synced = false
		r.fail(reasonFor(err, ""), nil)
	case err == nil:
		r.synced, r.syncedGen, r.lostSince = true, gen, time.Time{}
	}
	r.mu.Unlock()
	if err != nil && !errors.Is(err, errAwaitRepair) && !errors.Is(err, errListChanged) {
		r.setConnected(false, err)
		return
	}
	r.updateState()
}

// mark reads the key by which Redis vouches that the list is complete: the time it
// was marked (unix ms, as text), or "" when it is missing.
func (r *Redis) mark(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	defer cancel()
	v, err := r.client.Get(cctx, r.listKey).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// sync loads the full set into the mirror, writes back what Redis lacks (repair), and,
// when Redis did not vouch for the list (mark ""), settles whether to trust it. When
// it did, the mark is read again after the load: if it changed or vanished, Redis
// restarted meanwhile and what was loaded may be a part of the list (errListChanged).
func (r *Redis) sync(ctx context.Context, mark string) error {
	loaded, err := r.load(ctx)
	if err != nil {
		return err
	}
	if mark != "" {
		after, err := r.mark(ctx)
		if err != nil {
			return err
		}
		if after != mark {
			r.cfg.Logger.Warn("redis restarted while the revocation list was loading: loading it again")
			return errListChanged
		}
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
	if mark == "" {
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

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
