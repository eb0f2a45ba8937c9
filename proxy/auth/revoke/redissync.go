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
func (r *Redis) receive(ctx context.Context, ps *redis.PubSub) error {
	lastSeen := time.Now()
	for {
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
			if m.Kind == "subscribe" {
				r.setSubscribed(true, nil)
			}
		case *redis.Message:
			r.applyRecord(m.Payload)
		}
	}
}

// maintainLoop checks connectivity every ping interval and reloads the full set when
// needed: after a (re)subscription, and every resync interval.
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

func (r *Redis) maintain(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	err := r.client.Ping(cctx).Err()
	cancel()
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
	need := (r.subscribed && (!r.synced || r.syncedGen != gen)) || time.Since(r.syncedAt) > r.rc.ResyncInterval
	r.mu.Unlock()
	if !need {
		return
	}
	if err := r.sync(ctx); err != nil {
		r.setConnected(false, err)
		return
	}
	r.mu.Lock()
	r.synced, r.syncedGen, r.syncedAt = true, gen, time.Now()
	r.mu.Unlock()
	r.updateState()
}

// sync writes the revocations made here while Redis was unreachable, then loads the
// full set.
func (r *Redis) sync(ctx context.Context) error {
	r.mu.Lock()
	pending := make([]record, 0, len(r.pending))
	for _, rec := range r.pending {
		pending = append(pending, rec)
	}
	r.mu.Unlock()
	for _, rec := range pending {
		if _, err := r.write(ctx, rec); err != nil {
			return err
		}
		r.mu.Lock()
		if r.pending[rec.Key] == rec {
			delete(r.pending, rec.Key)
		}
		r.mu.Unlock()
	}
	var cursor uint64
	for {
		cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
		keys, next, err := r.client.Scan(cctx, cursor, r.keyPrefix+"*", 512).Result()
		if err == nil && len(keys) > 0 {
			var vals []any
			if vals, err = r.client.MGet(cctx, keys...).Result(); err == nil {
				for _, v := range vals {
					if s, ok := v.(string); ok {
						r.applyRecord(s)
					}
				}
			}
		}
		cancel()
		if err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	r.mir.sweep(r.cfg.Now())
	return nil
}

// applyRecord merges a stored or published record into the mirror and tells the
// subscribers about what is new.
func (r *Redis) applyRecord(payload string) {
	var rec record
	if err := json.Unmarshal([]byte(payload), &rec); err != nil || rec.Tenant == "" {
		return
	}
	r.mu.Lock()
	subs := append([]Subscriber(nil), r.subs...)
	r.mu.Unlock()
	switch rec.Op {
	case "revoke":
		e := entry{cutOff: time.UnixMilli(rec.CutOff), expires: time.UnixMilli(rec.Expires)}
		if rec.Key == "" || !r.mir.apply(rec.Key, e, r.cfg.Now()) {
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
	case !cur && !r.degraded && r.reason != "revocation list not yet loaded from redis":
		r.degraded = true
		r.cfg.Logger.Warn("revocation list not loaded: redis unreachable", "reason", r.reason,
			"on_unavailable", string(r.cfg.OnUnavailable))
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
