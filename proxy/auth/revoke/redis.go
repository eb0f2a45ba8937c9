package revoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a revocation list shared by every gateway instance through Redis. A
// revocation is written to "{prefix}:revoked:{hash}" with a TTL of the retention time
// and published on "{prefix}:revocations"; every instance applies what it receives to
// a local mirror, which is all Check reads. On start, after every reconnect and every
// ResyncInterval, the full set is loaded with SCAN before the view counts as current
// again (pub/sub loses messages while disconnected). Revocations made while Redis is
// unreachable are enforced locally at once and written when it is back.
//
// Redis may lose the list (a restart without persistence): every instance then writes
// back, from its mirror, each live revocation Redis lacks or holds with an earlier
// cut-off (repair.go), and marks the list complete again; an instance that never held
// the list waits for that before its view counts as current.
type Redis struct {
	cfg       Config
	rc        RedisConfig
	h         *hasher
	mir       *mirror
	client    *redis.Client
	keyPrefix string
	channel   string
	listKey   string // present while Redis vouches that the list is complete
	holders   string // channel that instances which have held the list subscribe to
	instance  string

	holder    atomic.Bool  // the view has been current once: the mirror holds the list
	repaired  atomic.Int64 // revocations written back to Redis by repair
	repairDue atomic.Bool  // a revocation could not be written: sync at the next tick

	current    atomic.Bool
	staleSince atomic.Int64 // cfg.Now() unix nanos when the view stopped being current

	mu         sync.Mutex
	connected  bool
	subscribed bool
	subGen     uint64 // incremented on every (re)subscription
	syncedGen  uint64 // subGen at the start of the last complete sync
	syncedAt   time.Time
	synced     bool
	reason     string // why the view is not current: a fixed text (readiness.go)
	detail     string // the error behind reason, for the log only
	logged     string // the refusal by Redis last logged
	degraded   bool   // a degraded state was logged
	lostSince  time.Time
	subs       []Subscriber

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// record is a revocation or purge as stored in Redis and published. It names the user
// by keyed hash only: no id in any reversible form.
type record struct {
	Op      string `json:"op"` // "revoke" or "purge"
	Tenant  string `json:"t"`
	Key     string `json:"k,omitempty"`
	CutOff  int64  `json:"c,omitempty"` // unix milliseconds
	Expires int64  `json:"e,omitempty"` // unix milliseconds
	Origin  string `json:"o,omitempty"` // publishing instance
}

// NewRedis connects to the shared list in the background and returns at once; the
// view becomes current (Ready returns nil) after the first full load.
func NewRedis(cfg Config, rc RedisConfig) (*Redis, error) { return newRedis(cfg, rc) }

// newRedis is NewRedis with go-redis hooks added to the client before it is used.
func newRedis(cfg Config, rc RedisConfig, hooks ...redis.Hook) (*Redis, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(rc.URL)
	if err != nil {
		return nil, errors.New("revoke: redis url is not valid")
	}
	rc = rc.withDefaults()
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = rc.Timeout, rc.Timeout, rc.Timeout
	opt.MaxRetries = 1
	// Every new connection loads the script first, so that a Redis that refuses
	// scripts is reported as such (not as unreachable) before the first revocation.
	opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		return scriptErr(putScript.Load(ctx, cn).Err())
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	r := &Redis{
		cfg: cfg, rc: rc, h: newHasher(cfg.Secret), mir: newMirror(), client: redis.NewClient(opt),
		keyPrefix: rc.Prefix + ":revoked:", channel: rc.Prefix + ":revocations",
		listKey: rc.Prefix + ":revocation-list", holders: rc.Prefix + ":revocations:holders",
		instance: hex.EncodeToString(id), reason: notLoaded,
	}
	for _, h := range hooks {
		r.client.AddHook(h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go r.receiveLoop(ctx)
	go r.maintainLoop(ctx)
	return r, nil
}

// Lockout returns Config.Lockout with its default applied: how long after a revocation
// Entra's token service may still issue tokens from revoked refresh tokens.
func (r *Redis) Lockout() time.Duration { return r.cfg.Lockout }

// Check reports whether a token of the user issued at iat is revoked. It reads only
// the local mirror. When the view is not current it answers per Config.OnUnavailable.
func (r *Redis) Check(tenantID, userID string, iat time.Time) Verdict {
	now := r.cfg.Now()
	if v := check(r.mir, r.h, tenantID, userID, iat, now); v != Allow || r.current.Load() {
		return v
	}
	if r.cfg.OnUnavailable == FailOpen {
		return Allow
	}
	if since := r.staleSince.Load(); since != 0 && now.Sub(time.Unix(0, since)) <= r.cfg.MaxStaleness {
		return Allow
	}
	return Unverifiable
}

// Revoke refuses every token of the user issued before now + Lockout: at once on this
// instance, and on the others as soon as they receive the publication (or, if Redis is
// unreachable now, once it is back and this instance has written it).
func (r *Redis) Revoke(ctx context.Context, tenantID, userID string) (Revocation, error) {
	if err := checkIDs(tenantID, userID); err != nil {
		return Revocation{}, err
	}
	now := r.cfg.Now().Truncate(time.Millisecond)
	key := r.h.key(tenantID, userID)
	e := entry{tenant: tenantID, cutOff: now.Add(r.cfg.Lockout), expires: now.Add(r.cfg.Retention())}
	r.mir.apply(key, e, now)
	rec := record{Op: "revoke", Tenant: tenantID, Key: key, CutOff: e.cutOff.UnixMilli(),
		Expires: e.expires.UnixMilli(), Origin: r.instance}
	rev := Revocation{CutOff: e.cutOff, Expires: e.expires, Shared: true}
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	defer cancel()
	_, n, err := putAnswer(r.put(cctx, r.client, rec, r.cfg.Retention(), true))
	if err != nil {
		// The mirror holds it: the next sync's repair writes and publishes it.
		r.repairDue.Store(true)
		r.cfg.Logger.Warn("revocation enforced locally; not written to redis yet, the next sync writes it",
			"reason", reasonFor(err, reasonUnreachable), "error", err.Error())
		rev.NotifyErr = fmt.Errorf("revoke: redis: %w", err)
		return rev, nil
	}
	rev.Notified, rev.Receivers = true, n
	return rev, nil
}

// PurgeTenant tells the other instances to purge a tenant's cached data. It reports
// whether the message was published.
func (r *Redis) PurgeTenant(ctx context.Context, tenantID string) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, r.rc.Timeout)
	defer cancel()
	msg := recordJSON(record{Op: "purge", Tenant: tenantID, Origin: r.instance})
	if err := r.client.Publish(cctx, r.channel, msg).Err(); err != nil {
		return false, fmt.Errorf("revoke: redis: publish purge: %w", err)
	}
	return true, nil
}

// Subscribe registers s for revocations and purges made by other instances.
func (r *Redis) Subscribe(s Subscriber) {
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
}

// Ready returns nil while the view is current, and otherwise an error saying why (for
// /readyz: the instance is degraded) in fixed words: never Redis's address, user or an
// error's text, which go to the log.
func (r *Redis) Ready() error {
	if r.current.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.New("degraded: " + r.reason)
}

// WaitCurrent blocks until the view is current or ctx is done.
func (r *Redis) WaitCurrent(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !r.current.Load() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("revoke: wait for redis: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Len returns the number of revocations in the local mirror.
func (r *Redis) Len() int { return r.mir.len() }

// Close stops the background work and closes the connections.
func (r *Redis) Close() error {
	r.cancel()
	r.wg.Wait()
	return r.client.Close()
}

// KeyOf returns the keyed hash of a user, Key(secret, tenantID, userID): what a
// Subscriber is told for a revoked user.
func (r *Redis) KeyOf(tenantID, userID string) string { return r.h.key(tenantID, userID) }

// Held reports whether a revocation of the user is in the local mirror.
func (r *Redis) Held(tenantID, userID string) bool {
	_, ok := r.mir.cutOff(r.h.key(tenantID, userID), r.cfg.Now())
	return ok
}
