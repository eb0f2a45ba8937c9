package usage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisTTL is how long the daily key and the HyperLogLogs live in Redis.
const redisTTL = 48 * time.Hour

// maxRedisBuffered bounds the hashes held in memory while Redis is unreachable.
const maxRedisBuffered = 1 << 20

// RedisDistinct counts distinct users across gateway instances with Redis's own
// HyperLogLog. The daily HMAC key is created once per UTC day by whichever instance comes
// first (SET NX) and expires after 48 h, as do the HyperLogLogs; nothing is persisted by
// graphgate but the estimates. Hashes observed between flushes are buffered in memory
// (bounded, deduplicated) and sent with PFADD at the next flush. A restart loses only that
// buffer; the day's count continues. While the day's key cannot be read (Redis down at
// the start of a day), observations are not counted (Dropped): an undercount, which only
// suppresses more.
type RedisDistinct struct {
	rdb    redis.UniversalClient
	prefix string

	mu      sync.Mutex
	keys    map[int64]hash.Hash
	buf     map[usersKey]map[[16]byte]struct{}
	n       int
	scratch []byte
	sum     [sha256.Size]byte
	dropped atomic.Uint64
}

// NewRedisDistinct returns a Redis-backed counter; prefix namespaces its keys
// (e.g. "graphgate:"). It tries to load today's key at once.
func NewRedisDistinct(ctx context.Context, rdb redis.UniversalClient, prefix string) *RedisDistinct {
	r := &RedisDistinct{rdb: rdb, prefix: prefix, keys: map[int64]hash.Hash{}, buf: map[usersKey]map[[16]byte]struct{}{}}
	_ = r.loadKeys(ctx, time.Now())
	return r
}

// Dropped reports observations not counted because the day's key was unavailable or the
// buffer was full.
func (r *RedisDistinct) Dropped() uint64 { return r.dropped.Load() }

// Observe implements Distinct.
func (r *RedisDistinct) Observe(day time.Time, tenant, clientApp, userKey string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.keys[day.Unix()]
	if h == nil || r.n >= maxRedisBuffered {
		r.dropped.Add(1)
		return
	}
	b := append(r.scratch[:0], tenant...)
	b = append(b, 0)
	b = append(b, userKey...)
	r.scratch = b
	h.Reset()
	h.Write(b)
	clear(b)
	var x [16]byte
	copy(x[:], h.Sum(r.sum[:0]))
	k := usersKey{day.Unix(), tenant, clientApp}
	set := r.buf[k]
	if set == nil {
		set = map[[16]byte]struct{}{}
		r.buf[k] = set
	}
	if _, ok := set[x]; !ok {
		set[x] = struct{}{}
		r.n++
	}
}

// loadKeys makes sure the keys of now's day and the next exist in Redis and are known
// here, and forgets keys of days before yesterday.
func (r *RedisDistinct) loadKeys(ctx context.Context, now time.Time) error {
	today := dayOf(now)
	for _, d := range []time.Time{today, today.AddDate(0, 0, 1)} {
		r.mu.Lock()
		known := r.keys[d.Unix()] != nil
		r.mu.Unlock()
		if known {
			continue
		}
		name := r.prefix + "usage:dkey:" + d.Format(time.DateOnly)
		var fresh [32]byte
		_, _ = rand.Read(fresh[:])
		if err := r.rdb.SetNX(ctx, name, fresh[:], redisTTL).Err(); err != nil {
			return fmt.Errorf("usage: redis key: %w", err)
		}
		key, err := r.rdb.Get(ctx, name).Bytes()
		if err != nil {
			return fmt.Errorf("usage: redis key: %w", err)
		}
		r.mu.Lock()
		r.keys[d.Unix()] = hmac.New(sha256.New, key)
		r.mu.Unlock()
	}
	r.mu.Lock()
	for d := range r.keys {
		if d < today.AddDate(0, 0, -1).Unix() {
			delete(r.keys, d)
		}
	}
	r.mu.Unlock()
	return nil
}

// Estimates implements Distinct: it sends buffered hashes with PFADD and reads PFCOUNT of
// every key touched. On failure the hashes stay buffered for the next call.
func (r *RedisDistinct) Estimates(ctx context.Context, now time.Time) ([]DailyUsers, error) {
	keyErr := r.loadKeys(ctx, now)
	r.mu.Lock()
	buf := r.buf
	r.buf, r.n = map[usersKey]map[[16]byte]struct{}{}, 0
	r.mu.Unlock()
	if len(buf) == 0 {
		return nil, keyErr
	}
	pipe := r.rdb.Pipeline()
	counts := make(map[usersKey]*redis.IntCmd, len(buf))
	for k, set := range buf {
		name := r.hllName(k)
		els := make([]any, 0, len(set))
		for x := range set {
			els = append(els, string(x[:]))
		}
		pipe.PFAdd(ctx, name, els...)
		pipe.Expire(ctx, name, redisTTL)
		counts[k] = pipe.PFCount(ctx, name)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.requeue(buf)
		return nil, errors.Join(fmt.Errorf("usage: redis pfadd: %w", err), keyErr)
	}
	out := make([]DailyUsers, 0, len(counts))
	for k, c := range counts {
		out = append(out, DailyUsers{Day: time.Unix(k.day, 0).UTC(), Tenant: k.tenant, ClientApp: k.client, Users: c.Val()})
	}
	return out, keyErr
}

func (r *RedisDistinct) hllName(k usersKey) string {
	return r.prefix + "usage:hll:" + time.Unix(k.day, 0).UTC().Format(time.DateOnly) + ":" + k.tenant + ":" + k.client
}

// requeue puts hashes back after a failed send.
func (r *RedisDistinct) requeue(buf map[usersKey]map[[16]byte]struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, set := range buf {
		cur := r.buf[k]
		if cur == nil {
			cur = map[[16]byte]struct{}{}
			r.buf[k] = cur
		}
		for x := range set {
			if _, ok := cur[x]; !ok && r.n < maxRedisBuffered {
				cur[x] = struct{}{}
				r.n++
			}
		}
	}
}
