// Package revoketest holds test helpers for the revocation stores: Redis in front of a
// TCP proxy (testkit.TCPProxy) whose connection a test can cut and restore.
package revoketest

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/graphgate/graphgate/proxy/proxytest/testkit"
)

// RedisURL returns GRAPHGATE_TEST_REDIS or skips the test with a clear reason.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("GRAPHGATE_TEST_REDIS")
	if u == "" {
		t.Skip("GRAPHGATE_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0): skipping the Redis integration test")
	}
	return u
}

// ProxyURL returns a copy of the Redis URL u whose host is a new TCPProxy in front of
// u's host, and the proxy.
func ProxyURL(t testing.TB, u string) (string, *testkit.TCPProxy) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.NewTCPProxy(t, pu.Host)
	pu.Host = p.Addr()
	return pu.String(), p
}

// DeletePrefix deletes every key under "{prefix}:" on the Redis at url.
func DeletePrefix(t testing.TB, redisURL, prefix string) {
	t.Helper()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 512).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
