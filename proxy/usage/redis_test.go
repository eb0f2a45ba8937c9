package usage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisDistinctAcrossInstances: two instances observing overlapping users share the
// daily key and Redis's HyperLogLog, so the count is of distinct users across both; the
// key and the HyperLogLogs expire within 48 h.
func TestRedisDistinctAcrossInstances(t *testing.T) {
	url := os.Getenv("GRAPHGATE_TEST_REDIS")
	if url == "" {
		t.Skip("GRAPHGATE_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "graphgate-test-" + hex.EncodeToString(b[:]) + ":"
	ctx := context.Background()
	t.Cleanup(func() {
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	a := NewRedisDistinct(ctx, rdb, prefix)
	bb := NewRedisDistinct(ctx, rdb, prefix)
	// The instances run on the real clock; observe for today.
	now := time.Now()
	day := dayOf(now)
	for u := range 30 {
		a.Observe(day, "t1", "chat-web", fmt.Sprint("oid-", u))
	}
	for u := 20; u < 50; u++ {
		bb.Observe(day, "t1", "chat-web", fmt.Sprint("oid-", u))
	}
	if _, err := a.Estimates(ctx, now); err != nil {
		t.Fatal(err)
	}
	est, err := bb.Estimates(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// 50 distinct users, 10 of them seen by both instances (60 observations). HyperLogLog
	// is an estimate (Redis: ~0.8 % standard error, hash-dependent under a random daily
	// key), so allow a small error, but not the double count of the overlap.
	if len(est) != 1 || est[0].Users < 48 || est[0].Users > 52 {
		t.Fatalf("estimates %+v, want about 50 distinct users across both instances", est)
	}
	keys, _ := rdb.Keys(ctx, prefix+"*").Result()
	for _, k := range keys {
		ttl := rdb.TTL(ctx, k).Val()
		if ttl <= 0 || ttl > redisTTL {
			t.Errorf("key %s has TTL %v, want (0, 48h]", k, ttl)
		}
	}
	if a.Dropped() != 0 || bb.Dropped() != 0 {
		t.Errorf("dropped %d/%d", a.Dropped(), bb.Dropped())
	}
}
